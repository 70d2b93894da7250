/**
 * How sign-in and directory audit entries are stored: deflated with a preset dictionary, then
 * base64. A sign-in entry with its policy trace is about 1.6–1.9 KB of JSON, most of it field
 * names and rule names that every entry repeats, and it was the largest thing a sign-in left in
 * the store; with the dictionary it packs to about 0.6 KB of base64 (about 1 KB without one).
 *
 * The dictionary is part of the stored format: entries packed with it can only be read with the
 * same bytes. Never edit DICTIONARY_V1; a better dictionary becomes V2 with prefix `2:`, and V1
 * stays for reading entries until they have all expired.
 */
import { deflateSmall, inflateSmall } from '../shared/small-deflate.ts';

// Typical entries, ids and names made up: deflate finds back-references into the last 32 KB,
// so what repeats in every entry is written in the shape entries have. Sign-in first, then the
// directory audit log, whose entries are smaller and simpler.
const DICTIONARY_V1 = Buffer.from(
  [
    '{"id":"0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d","activityDateTime":"2026-01-01T00:00:00.000Z","activityDisplayName":"Invite external user","category":"UserManagement","correlationId":"","result":"success","resultReason":"","loggedByService":"Invited Users","operationType":"Add","initiatedBy":{"app":{"appId":"contoso-daemon","displayName":"Contoso daemon"},"user":null},"targetResources":[{"id":"","displayName":"","type":"User","userPrincipalName":"_example.com#EXT#@contoso.example","modifiedProperties":[{"displayName":"","oldValue":null,"newValue":""}]}],"additionalDetails":[{"key":"policyTrace","value":""}]}',
    '"status":{"errorCode":53003,"failureReason":"The organisation\'s collaboration policy does not allow this sign-in.","additionalDetails":"externalCollaboration.blockedDomains"}',
    '"status":{"errorCode":90072,"failureReason":"The account from the identity provider does not exist in the organisation and was not invited.","additionalDetails":null}',
    '{"layer":"externalCollaboration","rule":"externalCollaboration.blockedDomains","matched":true,"effect":"deny","detail":" is blocked ("}',
    '{"layer":"crossTenantAccess.inboundTrust","rule":"crossTenantAccess.partners[0] ().inboundTrust","matched":true,"effect":"none","detail":"MFA from the home organisation is trusted"}',
    '{"layer":"conditionalAccess","rule":"conditionalAccess[]","matched":false,"effect":"none","detail":"app \'\' not included"}',
    '{"layer":"crossTenantAccess.inbound","rule":"crossTenantAccess.partners[0] ()","matched":true,"effect":"none","detail":"home organisation: partner \'\' (email domain .com)"}',
    '{"layer":"crossTenantAccess.inbound","rule":"built-in default (b2bCollaborationInbound.usersAndGroups)","matched":true,"effect":"allow","detail":"all users may collaborate"}',
    '{"layer":"crossTenantAccess.inbound","rule":"built-in default (b2bCollaborationInbound.applications)","matched":true,"effect":"allow","detail":"all apps are allowed"}',
    '{"id":"0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d","createdDateTime":"2026-01-01T00:00:00.000Z","userId":"0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d",' +
      '"userPrincipalName":"_example.com#EXT#@contoso.example","userDisplayName":"","appId":"contoso-web","appDisplayName":"Contoso intranet",' +
      '"ipAddress":"127.0.0.1","correlationId":"","status":{"errorCode":0,"failureReason":null,"additionalDetails":"known-identity"},' +
      '"conditionalAccessStatus":"success","isInteractive":true,"resourceTenantId":"contoso","homeTenantId":null,' +
      '"crossTenantAccessType":"b2bCollaboration","userType":"guest","authenticationRequirement":"singleFactorAuthentication",' +
      '"upstreamIdentityProvider":{"connectorId":"email","idp":"mail","kind":"email-otp"},"policyTrace":[' +
      '{"layer":"crossTenantAccess.inbound","rule":"crossTenantAccess.default","matched":true,"effect":"none","detail":"home organisation: an organisation with no settings of its own (email domain .com belongs to no partner)"},' +
      '{"layer":"crossTenantAccess.inbound","rule":"crossTenantAccess.default.b2bCollaborationInbound.usersAndGroups","matched":true,"effect":"allow","detail":"allowed: all users"},' +
      '{"layer":"crossTenantAccess.inbound","rule":"crossTenantAccess.default.b2bCollaborationInbound.applications","matched":true,"effect":"allow","detail":"app \'contoso-web\' is allowed"},' +
      '{"layer":"conditionalAccess","rule":"conditionalAccess[]","matched":true,"effect":"allow","detail":"grants access; sign in again every 1 hours (includeUsers: GuestsOrExternalUsers; app \'contoso-web\')"}],' +
      '"authenticationDetails":[{"authenticationMethod":"Email one-time passcode","succeeded":true,"source":"Portico"}]}',
  ].join(''),
  'utf8',
);

const PREFIX_V1 = '1:';

export function packLogEntry(entry: unknown): string {
  return PREFIX_V1 + deflateSmall(JSON.stringify(entry), { dictionary: DICTIONARY_V1 }).toString('base64');
}

export function unpackLogEntry<T>(packed: string): T {
  if (!packed.startsWith(PREFIX_V1)) throw new Error(`unknown log entry packing '${packed.slice(0, packed.indexOf(':') + 1)}'`);
  return JSON.parse(inflateSmall(Buffer.from(packed.slice(PREFIX_V1.length), 'base64'), { dictionary: DICTIONARY_V1 }).toString('utf8')) as T;
}
