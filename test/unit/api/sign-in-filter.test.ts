import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { GraphError } from '../../../src/api/errors.ts';
import { parseSignInFilter } from '../../../src/api/sign-in-filter.ts';

const refusal = (filter: string, pattern: RegExp) =>
  assert.throws(
    () => parseSignInFilter(filter),
    (error: unknown) => error instanceof GraphError && error.code === 'Request_UnsupportedQuery' && pattern.test(error.message),
    filter,
  );

describe('sign-in $filter', () => {
  it('reads each supported clause, joined with and, property names in any case', () => {
    assert.deepEqual(parseSignInFilter(undefined), {});
    assert.deepEqual(parseSignInFilter("userId eq 'u1'"), { userId: 'u1' });
    assert.deepEqual(parseSignInFilter("AppId eq 'o''brien-app'"), { appId: "o'brien-app" });
    assert.deepEqual(parseSignInFilter('status/errorCode eq 90072'), { errorCode: 90072 });
    assert.deepEqual(
      parseSignInFilter("createdDateTime ge 2026-01-01T00:00:00Z and createdDateTime le 2026-01-31T12:00:00+01:00 and userId eq 'u 1' AND status/errorCode eq 0"),
      { createdFrom: '2026-01-01T00:00:00.000Z', createdUntil: '2026-01-31T11:00:00.000Z', userId: 'u 1', errorCode: 0 },
    );
  });

  it('refuses every other form with Request_UnsupportedQuery naming the clause', () => {
    refusal("userDisplayName eq 'Alice'", /'userDisplayName eq 'Alice''/);
    refusal("userId ne 'u1'", /'userId ne 'u1''/);
    refusal('userId eq u1', /'userId eq u1'.*quoted string/);
    refusal("status/errorCode eq '0'", /whole number/);
    refusal("createdDateTime gt 2026-01-01T00:00:00Z", /'createdDateTime gt 2026-01-01T00:00:00Z'/);
    refusal("createdDateTime ge '2026-01-01'", /date-time/);
    refusal('createdDateTime ge 2026-13-45T00:00:00Z', /date-time/);
    refusal("userId eq 'a' and userId eq 'b'", /more than once/);
    refusal("userId eq 'a' or appId eq 'b'", /joined with 'and'/);
    refusal("startswith(userPrincipalName,'a')", /only userId eq/);
    refusal('', /Invalid \$filter/);
  });
});
