import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { GraphError } from '../../../src/api/errors.ts';
import { matchesFilter, parseUserFilter } from '../../../src/api/filter.ts';

const refused = (filter: string) =>
  assert.throws(
    () => parseUserFilter(filter),
    (error: unknown) => error instanceof GraphError && error.status === 400 && error.code === 'Request_UnsupportedQuery',
    filter,
  );

describe('$filter for /users', () => {
  it('reads eq clauses on userType, mail and externalUserState joined with and', () => {
    assert.deepEqual(parseUserFilter(undefined), {});
    assert.deepEqual(parseUserFilter("userType eq 'Guest'"), { userType: 'Guest' });
    assert.deepEqual(parseUserFilter("  mail eq 'a@b.example'  and  externalUserState eq 'PendingAcceptance' "), {
      mail: 'a@b.example',
      externalUserState: 'PendingAcceptance',
    });
    assert.deepEqual(parseUserFilter("USERTYPE eq 'Member'"), { userType: 'Member' }, 'property names regardless of case, as Graph');
    assert.deepEqual(parseUserFilter("mail eq 'o''brien@b.example'"), { mail: "o'brien@b.example" });
    assert.deepEqual(parseUserFilter("mail eq 'x and userType eq ''Member'''"), { mail: "x and userType eq 'Member'" }, 'and inside a literal is text');
  });

  it('refuses everything else', () => {
    for (const filter of [
      '',
      "displayName eq 'Alice'",
      "userType ne 'Guest'",
      "userType eq 'Guest' or userType eq 'Member'",
      "startswith(mail,'a')",
      "userType eq 'Guest' and",
      "userType eq 'Guest' and userType eq 'Member'",
      "userType eq Guest",
      "mail eq 'unterminated",
      "not userType eq 'Guest'",
      `mail eq '${'x'.repeat(1000)}'`,
    ]) {
      refused(filter);
    }
    assert.throws(() => parseUserFilter(['a', 'b']), GraphError);
  });

  it('matches case-insensitively, and a missing property matches nothing but the empty string', () => {
    const user = { userType: 'Guest', mail: 'Alice@Adatum.com', externalUserState: 'Accepted' };
    assert.equal(matchesFilter(user, {}), true);
    assert.equal(matchesFilter(user, { mail: 'alice@adatum.COM', userType: 'guest' }), true);
    assert.equal(matchesFilter(user, { externalUserState: 'PendingAcceptance' }), false);
    assert.equal(matchesFilter({ userType: 'Member' }, { mail: 'a@b.example' }), false);
  });
});
