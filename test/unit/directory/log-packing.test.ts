import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { packLogEntry, unpackLogEntry } from '../../../src/directory/log-packing.ts';

describe('log entry packing', () => {
  it('round-trips any JSON entry, text in any script included', () => {
    for (const entry of [{}, { id: 'a', nested: { list: [1, null, true, 'x'] } }, { text: 'Zoë ✓ 東京 🙂', empty: '' }, { long: 'y'.repeat(50_000) }]) {
      assert.deepEqual(unpackLogEntry(packLogEntry(entry)), entry);
    }
  });

  it('reads what was packed when the format was introduced: the dictionary of version 1 never changes', () => {
    // Packed on 2026-11-27. Should this fail, DICTIONARY_V1 was edited and every stored entry
    // packed with it has become unreadable: restore it and add a version 2 instead.
    const packed = '1:g9Ym6fk5Kal5uoa4awxDQ10j8xAjXDVGKVgvtgohMSczOTU+MSWxpDQXX6VAg6J5OBUziADEWdjE6ijl5ZeAXH94pcKjOZOVagE=';
    assert.deepEqual(unpackLogEntry(packed), {
      id: 'golden-1',
      createdDateTime: '2026-11-27T20:00:00.000Z',
      userId: 'u-1',
      userPrincipalName: 'alice_adatum.com#EXT#@contoso.example',
      status: { errorCode: 0, failureReason: null, additionalDetails: 'known-identity' },
      policyTrace: [
        {
          layer: 'crossTenantAccess.inbound',
          rule: 'crossTenantAccess.default',
          matched: true,
          effect: 'none',
          detail: 'home organisation: an organisation with no settings of its own (email domain adatum.com belongs to no partner)',
        },
      ],
      note: 'é ✓',
    });
  });

  it('refuses a packing it does not know rather than guess', () => {
    assert.throws(() => unpackLogEntry('9:AAAA'), /unknown log entry packing '9:'/);
  });
});
