import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { GraphError } from '../../../src/api/errors.ts';
import { parseTop, SkipTokens } from '../../../src/api/paging.ts';
import { createMemoryStore } from '../../../src/storage/memory/memory-store.ts';

const isBadRequest = (error: unknown) => error instanceof GraphError && error.status === 400 && error.code === 'Request_BadRequest';

describe('$top', () => {
  it('is 1 to 999, 100 by default', () => {
    assert.equal(parseTop(undefined), 100);
    assert.equal(parseTop('1'), 1);
    assert.equal(parseTop('999'), 999);
    for (const value of ['0', '1000', '-1', '1.5', '', ' 5', '1e2', 'abc', '00001000']) assert.throws(() => parseTop(value), isBadRequest, value);
    assert.throws(() => parseTop(['1', '2']), isBadRequest);
  });
});

describe('skip tokens', () => {
  const binding = { tenantId: 'contoso', collection: 'users', query: '["userType eq \'Guest\'","2"]' };

  it('round-trip a position without showing it, and every instance on the store shares the key', async () => {
    const store = createMemoryStore();
    const tokens = await SkipTokens.open(store);
    const token = tokens.seal(binding, '2026-01-01T00:00:00.000Z|some-user-id');
    assert.match(token, /^[A-Za-z0-9_-]+$/);
    assert.ok(!Buffer.from(token, 'base64url').toString('latin1').includes('some-user-id'), 'opaque');
    assert.equal(tokens.open(binding, token), '2026-01-01T00:00:00.000Z|some-user-id');
    const other = await SkipTokens.open(store);
    assert.equal(other.open(binding, token), '2026-01-01T00:00:00.000Z|some-user-id');
    assert.notEqual(tokens.seal(binding, 'x'), tokens.seal(binding, 'x'), 'a fresh IV every time');
  });

  it('refuses altered tokens, tokens of another query, tenant or collection, and another store’s', async () => {
    const tokens = await SkipTokens.open(createMemoryStore());
    const token = tokens.seal(binding, 'position');
    for (let i = 0; i < token.length; i += 7) {
      const altered = `${token.slice(0, i)}${token[i] === 'A' ? 'B' : 'A'}${token.slice(i + 1)}`;
      assert.throws(() => tokens.open(binding, altered), isBadRequest, `changed at ${i}`);
    }
    assert.throws(() => tokens.open({ ...binding, query: '[null,"2"]' }, token), isBadRequest);
    assert.throws(() => tokens.open({ ...binding, tenantId: 'northwind' }, token), isBadRequest);
    assert.throws(() => tokens.open({ ...binding, collection: 'directoryAudits' }, token), isBadRequest);
    assert.throws(() => tokens.open(binding, token.slice(0, 30)), isBadRequest);
    assert.throws(() => tokens.open(binding, 'not base64url!'), isBadRequest);
    assert.throws(() => tokens.open(binding, 42), isBadRequest);
    const elsewhere = await SkipTokens.open(createMemoryStore());
    assert.throws(() => elsewhere.open(binding, token), isBadRequest);
  });
});
