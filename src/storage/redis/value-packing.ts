/**
 * How the Redis store keeps the values of long-lived records: raw deflate with a preset
 * dictionary, stored as bytes behind a marker byte. Redis holds everything in memory, and what a
 * signed-in guest leaves there for days (directory user, session, grant, refresh token) is mostly
 * the same JSON field names and constants in every record; with the dictionary a 530-byte refresh
 * token packs to about 210 bytes (without one, to about 380). Packing costs a few tens of µs and
 * unpacking about ten, which is why only long-lived records are packed (redis-store.ts).
 *
 * A stored value is either JSON text (its first byte is never below 0x20) or MARKER_V1 followed
 * by the deflated JSON. The dictionary, the marker and the window size are the stored format:
 * never edit DICTIONARY_V1; a better dictionary gets marker 0x02, and V1 stays readable until
 * every value packed with it has been rewritten or has expired.
 */
import { deflateSmall, inflateSmall, type SmallDeflateOptions } from '../../shared/small-deflate.ts';

const MARKER_V1 = 0x01;

// Records in the shapes they are stored in, ids left empty: ids are random and never match, but
// field names and constant values do. Deflate prefers the nearest match, so the commonest
// records come last. The 4 KB window holds all of it and keeps each call's state small.
const DICTIONARY_V1 = Buffer.from(
  [
    '{"id":"","tenantId":"contoso","userType":"Guest","userPrincipalName":"_fabrikam.com#EXT#@contoso.example","displayName":"","mail":"@fabrikam.com","accountEnabled":true,',
    '"identities":[{"signInType":"emailAddress","issuer":"mail","issuerAssignedId":"@gmail.com"},{"signInType":"federated","issuer":"https://accounts.google.com","issuerAssignedId":""},',
    '{"signInType":"federated","issuer":"https://login.microsoftonline.com/9188040d-6c67-4c5b-b112-36a304b66dad/v2.0","issuerAssignedId":"","issuerTenantId":""}],',
    '"createdDateTime":"2026-11-27T22:07:50.433Z","creationType":"Invitation","externalUserState":"PendingAcceptance","externalUserStateChangeDateTime":"2026-11-27T22:07:50.433Z","homeTenantId":"",',
    '"lastSignIn":{"at":"2026-11-27T22:07:50.438Z","idp":"live.com","authTime":1795817270,"device":{"compliant":true,"hybridJoined":true}}}',
    '{"iat":1795817267,"exp":1797026867,"accountId":"","clientId":"contoso-web","kind":"Grant","jti":"","openid":{"scope":"openid profile email offline_access"},',
    '"resources":{"https://api.contoso.example":"api.read"},"rejected":{},"rar":[]}',
    '{"iat":1795817270,"exp":1795820870,"accountId":"","expiresWithSession":true,"grantId":"","gty":"authorization_code refresh_token","sessionUid":"","kind":"AccessToken","jti":"",',
    '"clientId":"contoso-web","scope":"openid profile email","extra":{"tid":"contoso","oid":"","user_type":"Guest","idp":"mail","home_tid":""}}',
    '{"iat":1795817269,"exp":1797026869,"kind":"Session","jti":"","uid":"","accountId":"","loginTs":1795817269,"amr":["otp","mfa"],"acr":"https://refeds.org/profile/mfa","transient":true,',
    '"authorizations":{"contoso-web":{"sid":"","grantId":"","persistsLogout":true}}}',
    '{"iat":1795817266,"exp":1797026866,"accountId":"","acr":"https://refeds.org/profile/sfa","amr":["fed"],"authTime":1795817266,"expiresWithSession":true,"grantId":"",',
    '"gty":"authorization_code","nonce":"","rotations":0,"scope":"openid profile email","sessionUid":"","kind":"RefreshToken","jti":"","clientId":"contoso-web","iiat":1795817266}',
  ].join(''),
  'utf8',
);

const ZLIB_V1: SmallDeflateOptions = { dictionary: DICTIONARY_V1, windowBits: 12 };

/** The value as stored: the packed bytes, or the JSON text itself when packing does not make it smaller. */
export function packValue(json: string): Buffer | string {
  const deflated = deflateSmall(json, ZLIB_V1);
  if (deflated.length + 1 >= Buffer.byteLength(json)) return json;
  const packed = Buffer.allocUnsafe(deflated.length + 1);
  packed[0] = MARKER_V1;
  deflated.copy(packed, 1);
  return packed;
}

/** The JSON text of a value stored from `start` to the end of `bytes`, packed or not. */
export function unpackValue(bytes: Buffer, start: number): string {
  const first = bytes[start];
  if (first === undefined || first >= 0x20) return bytes.toString('utf8', start);
  if (first !== MARKER_V1) throw new Error(`unknown value packing 0x${first.toString(16).padStart(2, '0')}`);
  return inflateSmall(bytes.subarray(start + 1), ZLIB_V1).toString('utf8');
}
