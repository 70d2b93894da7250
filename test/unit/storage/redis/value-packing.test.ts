import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { packValue, unpackValue } from '../../../../src/storage/redis/value-packing.ts';

// What a guest's sign-in leaves for days, as oidc-provider and the directory store it (ids made up).
const REFRESH_TOKEN = {
  iat: 1795817266,
  exp: 1797026866,
  accountId: '7f5f4c53-05f0-4c27-9c81-4aa3d122a30c',
  acr: 'https://refeds.org/profile/sfa',
  amr: ['fed'],
  authTime: 1795817266,
  expiresWithSession: true,
  grantId: 'nqq2VYSFkVKdMiAannxB2upUIZ5go2wnD07sKemJQC9',
  gty: 'authorization_code',
  nonce: 'VbQHtIhcfBpeTjcj_iv0ng',
  rotations: 0,
  scope: 'openid profile email',
  sessionUid: 'eMLIQf6CA3pxPB7H9cZUrjqKEmcUnBymA90jS0kwnNY',
  kind: 'RefreshToken',
  jti: 'VH5JocgGOeRvdlFB3dmF68Hy7HLRMcGkj-d7rZkS3Pv',
  clientId: 'fabrikam-portal',
  iiat: 1795817266,
};
const GUEST = {
  id: '3a65545c-2fd9-43f3-bb1a-7e21d1c5dd87',
  tenantId: 'contoso',
  userType: 'Guest',
  userPrincipalName: 'alice_adatum.com#EXT#@contoso.example',
  displayName: 'Alice Example',
  mail: 'alice@adatum.com',
  accountEnabled: true,
  identities: [{ signInType: 'federated', issuer: 'https://idp.adatum.com', issuerAssignedId: '248289761001' }],
  createdDateTime: '2026-11-27T22:07:50.433Z',
  creationType: 'SelfServiceSignUp',
  externalUserState: 'Accepted',
  externalUserStateChangeDateTime: '2026-11-27T22:07:50.433Z',
  lastSignIn: { at: '2026-11-27T22:07:50.438Z', idp: 'https://idp.adatum.com', authTime: 1795817270 },
};

const stored = (json: string): Buffer => {
  const value = packValue(json);
  return typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
};

describe('redis value packing', () => {
  it('round-trips any JSON value, text in any script included, from any offset', () => {
    for (const value of [REFRESH_TOKEN, GUEST, {}, 7, 'plain', [1, null, true], { text: 'Zoë ✓ 東京 🙂', empty: '' }, { long: 'y'.repeat(50_000) }]) {
      const json = JSON.stringify(value);
      const bytes = Buffer.concat([Buffer.from('1\n\n\n\n\n'), stored(json)]);
      assert.equal(unpackValue(bytes, 6), json);
    }
  });

  it('packs what a signed-in guest keeps to well under half its JSON', () => {
    for (const value of [REFRESH_TOKEN, GUEST]) {
      const json = JSON.stringify(value);
      const packed = packValue(json);
      assert.ok(Buffer.isBuffer(packed));
      assert.ok(packed.length < json.length * 0.5, `${json.length} bytes of JSON packed to ${packed.length}`);
    }
  });

  it('keeps a value as its JSON text when packing would not make it smaller', () => {
    assert.equal(packValue('{"a":1}'), '{"a":1}');
    assert.equal(packValue('"Kx9"'), '"Kx9"');
  });

  it('reads values stored as plain JSON text, as every value was before packing', () => {
    const json = JSON.stringify(GUEST);
    assert.equal(unpackValue(Buffer.from(json, 'utf8'), 0), json);
  });

  it('reads what was packed when the format was introduced: the dictionary of version 1 never changes', () => {
    // Packed on 2026-11-27. Should this fail, DICTIONARY_V1 or the zlib settings were edited and
    // every value packed with them has become unreadable: restore them and add a version 2.
    const golden = Buffer.from('ASM1QM3TTNNMkk2NdQ1M0wx0TZKNzHUtky0MdU0SE41TDI2MEo0Nkukf6HmFhUZhkcFu2WHeKb6Zjol5eRVORqUFoZ5Rpun5RuV5Lgbmxd6puV6BzpbExU9YUqBHiWdGcppTQWpIVnJWfGaZQV46RbGW6uvjGZhm5uxoXFAR4GTuYZkcFVqUVejtmpscmudUmetoaZAVbJBdnucXSSCCwzxMvfKT0939U4PKUnLcnIxTct3MLDwqzT18gnyT3bOzdFPMi6Kyg40DylDTAqyFpFuQX1SSmIMlPYBCAFzzHl6p8GjOZKVaAA==', 'base64');
    assert.deepEqual(JSON.parse(unpackValue(golden, 0)), { ...REFRESH_TOKEN, note: 'é ✓' });
  });

  it('refuses a packing it does not know rather than guess', () => {
    assert.throws(() => unpackValue(Buffer.from([0x09, 0x00]), 0), /unknown value packing 0x09/);
  });
});
