/**
 * The sign-in log's responses as zod schemas, for the OpenAPI document: Graph's signIn plus
 * Portico's `upstreamIdentityProvider`, `policyTrace` and `authenticationDetails`.
 */
import { z } from 'zod';

const dateTime = () => z.iso.datetime();
const context = () => z.string().meta({ description: 'OData context URL.' });

export const signInSchema = z.strictObject({
  id: z.string(),
  createdDateTime: dateTime(),
  userId: z.string().nullable().meta({ description: 'Object id of the user; null when the identity matched no user.' }),
  userPrincipalName: z.string().nullable().meta({ description: "The user's UPN, or the address typed at sign-in when no user matched." }),
  userDisplayName: z.string().nullable(),
  appId: z.string().meta({ description: 'Client id of the app the sign-in was for.' }),
  appDisplayName: z.string().nullable(),
  ipAddress: z.string(),
  correlationId: z.string().meta({ description: 'Request id of the deciding request, shown to the person as the correlation id.' }),
  status: z.strictObject({
    errorCode: z.int().meta({ description: '0 on success; otherwise a stable code (Entra\'s where one has the same meaning, Portico\'s own from 1000).' }),
    failureReason: z.string().nullable(),
    additionalDetails: z.string().nullable(),
  }),
  conditionalAccessStatus: z.enum(['success', 'failure', 'notApplied']),
  isInteractive: z.literal(true),
  resourceTenantId: z.string(),
  homeTenantId: z.string().nullable(),
  crossTenantAccessType: z.enum(['b2bCollaboration', 'none']),
  userType: z.enum(['guest', 'member']),
  authenticationRequirement: z.enum(['singleFactorAuthentication', 'multiFactorAuthentication']),
  upstreamIdentityProvider: z
    .strictObject({ connectorId: z.string(), idp: z.string().nullable(), kind: z.string() })
    .nullable()
    .meta({ description: 'Portico extension: the connector the person signed in with, its `idp` claim and kind.' }),
  policyTrace: z
    .array(z.strictObject({ layer: z.string(), rule: z.string(), matched: z.boolean(), effect: z.string(), detail: z.string().optional() }))
    .optional()
    .meta({ description: 'Portico extension: the policy rules evaluated for the decision.' }),
  authenticationDetails: z
    .array(z.strictObject({ authenticationMethod: z.string(), succeeded: z.boolean(), source: z.string() }))
    .optional()
    .meta({ description: 'The authentication methods used.' }),
});

export const signInEntitySchema = z.strictObject({ '@odata.context': context(), ...signInSchema.shape });

export const signInCollectionSchema = z.strictObject({
  '@odata.context': context(),
  '@odata.nextLink': z.string().optional().meta({ description: 'The next page; absent on the last one.' }),
  value: z.array(signInSchema),
});
