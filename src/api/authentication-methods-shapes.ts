/**
 * A user's authentication methods as the management API returns them, in Microsoft Graph's
 * names: `#microsoft.graph.softwareOathAuthenticationMethod` for an authenticator app and
 * `#microsoft.graph.fido2AuthenticationMethod` for a passkey. Secrets and public keys are never
 * part of an answer.
 */
import { z } from 'zod';
import type { AuthenticatorMethod } from '../mfa/authenticator-store.ts';
import type { PasskeyMethod } from '../mfa/passkeys.ts';

export const SOFTWARE_OATH_TYPE = '#microsoft.graph.softwareOathAuthenticationMethod';
export const FIDO2_TYPE = '#microsoft.graph.fido2AuthenticationMethod';

export const softwareOathMethodSchema = z.strictObject({
  '@odata.type': z.literal(SOFTWARE_OATH_TYPE),
  id: z.string(),
  createdDateTime: z.iso.datetime(),
});

export const fido2MethodSchema = z.strictObject({
  '@odata.type': z.literal(FIDO2_TYPE),
  id: z.string(),
  displayName: z.string(),
  createdDateTime: z.iso.datetime(),
});

export const authenticationMethodSchema = z.discriminatedUnion('@odata.type', [softwareOathMethodSchema, fido2MethodSchema]);

export const authenticationMethodCollectionSchema = z.strictObject({
  '@odata.context': z.string().meta({ description: 'OData context URL.' }),
  value: z.array(authenticationMethodSchema),
});

export type GraphAuthenticationMethod = z.output<typeof authenticationMethodSchema>;

export const toGraphAuthenticationMethod = (method: AuthenticatorMethod | PasskeyMethod): GraphAuthenticationMethod =>
  method.kind === 'fido2'
    ? { '@odata.type': FIDO2_TYPE, id: method.id, displayName: method.displayName, createdDateTime: method.createdDateTime }
    : { '@odata.type': SOFTWARE_OATH_TYPE, id: method.id, createdDateTime: method.createdDateTime };
