/**
 * A user's authentication methods as the management API returns them, in Microsoft Graph's
 * names: `#microsoft.graph.softwareOathAuthenticationMethod` for an authenticator app. The secret
 * is never part of an answer.
 */
import { z } from 'zod';
import type { AuthenticatorMethod } from '../mfa/authenticator-store.ts';

export const SOFTWARE_OATH_TYPE = '#microsoft.graph.softwareOathAuthenticationMethod';

export const authenticationMethodSchema = z.strictObject({
  '@odata.type': z.literal(SOFTWARE_OATH_TYPE),
  id: z.string(),
  createdDateTime: z.iso.datetime(),
});

export const authenticationMethodCollectionSchema = z.strictObject({
  '@odata.context': z.string().meta({ description: 'OData context URL.' }),
  value: z.array(authenticationMethodSchema),
});

export type GraphAuthenticationMethod = z.output<typeof authenticationMethodSchema>;

export const toGraphAuthenticationMethod = (method: AuthenticatorMethod): GraphAuthenticationMethod => ({
  '@odata.type': SOFTWARE_OATH_TYPE,
  id: method.id,
  createdDateTime: method.createdDateTime,
});
