import assert from 'node:assert/strict';
import { test } from 'node:test';
import { closest, formatPath, levenshtein } from '../../../src/config/messages.ts';

test('levenshtein distance', () => {
  assert.equal(levenshtein('backen', 'backend'), 1);
  assert.equal(levenshtein('tpye', 'type'), 2);
  assert.equal(levenshtein('', 'abc'), 3);
  assert.equal(levenshtein('same', 'same'), 0);
});

test('suggestions stay within distance 2 and ignore case', () => {
  assert.equal(closest('backen', ['backend', 'sqlite', 'redis']), 'backend');
  assert.equal(closest('PublicURL', ['port', 'publicUrl']), 'publicUrl');
  assert.equal(closest('colour', ['id', 'displayName', 'domains']), undefined);
  // A one-letter key is within 2 of every two-letter key: that is not a suggestion.
  assert.equal(closest('x', ['id']), undefined);
});

test('key paths name array entries by id when they have one', () => {
  const data = { apps: [{ id: 'a' }, { name: 'no id' }, { id: 'payroll', redirectUris: ['x'] }] };
  assert.equal(formatPath(['apps', 2, 'redirectUris', 0], data), 'apps[2] (payroll): redirectUris[0]');
  assert.equal(formatPath(['apps', 1, 'name'], data), 'apps[1].name');
  assert.equal(formatPath(['apps', 0], data), 'apps[0] (a)');
  assert.equal(formatPath(['storage', 'redis', 'url'], {}), 'storage.redis.url');
  assert.equal(formatPath([], data), '');
});
