import { z } from 'zod';
import { connectorBaseFields } from '../config-base.ts';
import { clientAuthField, clientIdField, clientSecretField, scopesField, timeoutField, upstreamUrl } from '../oidc/schema.ts';

/** The tenant Microsoft personal accounts (MSA) live in. */
export const CONSUMERS_TENANT_ID = '9188040d-6c67-4c5b-b112-36a304b66dad';
export const TENANT_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export const microsoftSchema = z
  .strictObject({
    ...connectorBaseFields,
    kind: z.literal('microsoft').meta({
      description:
        'Sign in with Microsoft: personal accounts, Entra ID work or school accounts, or both. A personal account\'s `email` counts as verified; a work account\'s only when the token carries `xms_edov: true` (add `xms_edov` as an optional ID token claim in the app registration), since Entra lets tenant administrators type any email. `preferred_username` is used as an unverified email when there is no `email`.',
    }),
    audience: z.enum(['consumers', 'organizations', 'common']).meta({
      description:
        'Which accounts: `consumers` (personal Microsoft accounts), `organizations` (Entra ID work or school accounts of any tenant, through the multi-tenant endpoint) or `common` (both).',
    }),
    clientId: clientIdField(),
    clientSecret: clientSecretField(),
    clientAuth: clientAuthField(),
    scopes: scopesField(['openid', 'email', 'profile']),
    timeoutSeconds: timeoutField(),
    allowedTenants: z
      .array(z.string().regex(TENANT_ID, 'must be a tenant id in lowercase GUID form'))
      .min(1)
      .optional()
      .meta({ description: 'Only accounts of these Entra tenants (the `tid` claim) may sign in. Unset: any tenant the audience admits.' }),
    authority: upstreamUrl()
      .refine((value) => new URL(value).pathname === '/', 'must be an origin without a path')
      .default('https://login.microsoftonline.com')
      .meta({ description: 'For tests and national clouds: the Microsoft identity platform host. Leave unset for the public cloud.' }),
  })
  .superRefine((config, ctx) => {
    if (config.audience === 'consumers' && config.allowedTenants) {
      ctx.addIssue({ code: 'custom', path: ['allowedTenants'], message: 'cannot be used with audience consumers (personal accounts have no tenant of their own)' });
    }
  });

export type MicrosoftConfig = z.output<typeof microsoftSchema>;
