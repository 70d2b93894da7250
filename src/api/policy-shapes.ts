/**
 * `POST /policies/explain`: the question (validated with zod) and the explanation returned, as
 * schemas the OpenAPI document is generated from. Portico's own operation: Graph has none.
 */
import { z } from 'zod';

export const explainPolicyRequest = z.strictObject({
  user: z.string().trim().min(1).max(320).meta({ description: 'An email address, or the object id of a user of the tenant.' }),
  app: z.string().min(1).max(128).optional().meta({ description: 'An app id of the tenant: also explain a sign-in to it.' }),
  idp: z.string().min(1).max(128).optional().meta({ description: 'An identity provider (connector id) of the tenant the user would sign in with.' }),
  mfa: z.boolean().default(false).meta({ description: 'The identity provider says MFA was done (counts only where inbound trust accepts it).' }),
  device: z.enum(['compliant', 'hybridJoined']).optional().meta({ description: 'The identity provider says the device is compliant or hybrid-joined.' }),
});

const layerSchema = z.enum(['externalCollaboration', 'crossTenantAccess.inbound', 'crossTenantAccess.outbound', 'crossTenantAccess.inboundTrust', 'conditionalAccess']);

const traceEntrySchema = z.strictObject({
  layer: layerSchema,
  rule: z.string().meta({ description: 'Where the rule sits in the tenant file, e.g. `conditionalAccess[guests-mfa-payroll]`.' }),
  matched: z.boolean().meta({ description: 'Whether the rule applied to the question.' }),
  effect: z.enum(['allow', 'deny', 'require', 'none', 'reportOnly']),
  detail: z.string(),
});

export const policyDecisionSchema = z
  .strictObject({
    effect: z.enum(['allow', 'deny', 'challenge']).meta({ description: '`challenge`: allowed once the `requirements` are met.' }),
    requirements: z.array(
      z.strictObject({
        policyId: z.string(),
        operator: z.enum(['AND', 'OR']),
        controls: z.array(z.enum(['mfa', 'compliantDevice', 'domainJoinedDevice'])),
      }),
    ),
    trace: z.array(traceEntrySchema).meta({ description: 'Each layer and rule looked at, in order.' }),
    denial: z.strictObject({ layer: layerSchema, rule: z.string(), reason: z.string() }).optional().meta({ description: 'The first rule that denied.' }),
    signInFrequencySeconds: z.number().int().optional(),
  })
  .meta({ description: 'The most restrictive outcome of every layer that applies.' });

export const policyExplanationSchema = z.strictObject({
  tenantId: z.string(),
  user: z.strictObject({
    found: z.boolean().meta({ description: 'Whether the user is in the directory; if not, the answers are for someone invited now.' }),
    id: z.string().optional(),
    userType: z.enum(['Guest', 'Member']).optional(),
    externalUserState: z.string().optional(),
    email: z.string(),
  }),
  organisation: z
    .strictObject({
      kind: z.enum(['partner', 'tenant', 'home', 'other']),
      id: z.string().optional(),
      displayName: z.string().optional(),
      via: z.string().optional(),
      description: z.string(),
    })
    .meta({ description: 'The home organisation the policy sees for the user, and from what evidence.' }),
  invitation: policyDecisionSchema,
  redemption: policyDecisionSchema.optional().meta({ description: 'For a pending invitation, or a user not yet in the directory.' }),
  signIn: policyDecisionSchema.optional().meta({ description: 'When `app` is given.' }),
});
