import { z } from 'zod';
import { checked, domainProblem } from '../../config/primitives.ts';
import { connectorBaseFields } from '../config-base.ts';
import { clientAuthField, clientIdField, clientSecretField, scopesField, timeoutField, upstreamUrl } from '../oidc/schema.ts';

export const GOOGLE_ISSUER = 'https://accounts.google.com';

export const googleSchema = z.strictObject({
  ...connectorBaseFields,
  domains: z
    .array(checked(domainProblem))
    .default(['gmail.com', 'googlemail.com'])
    .meta({ description: 'Email domains whose users this IdP signs in: home-realm discovery sends them here.' }),
  kind: z.literal('google').meta({
    description:
      'Sign in with Google (personal Google accounts and Google Workspace). ID tokens issued as `https://accounts.google.com` or `accounts.google.com` are both accepted; `email_verified` is honoured as sent.',
  }),
  clientId: clientIdField(),
  clientSecret: clientSecretField(),
  clientAuth: clientAuthField(),
  scopes: scopesField(['openid', 'email', 'profile']),
  timeoutSeconds: timeoutField(),
  hostedDomains: z
    .array(checked(domainProblem))
    .min(1)
    .optional()
    .meta({
      description: 'Only Google Workspace accounts of these domains (the `hd` claim) may sign in; personal Google accounts have no `hd` and are refused. Unset: any Google account.',
    }),
  issuer: upstreamUrl()
    .refine((value) => new URL(value).pathname === '/', 'must be an origin without a path')
    .default(GOOGLE_ISSUER)
    .meta({ description: "For tests only: points the connector at a stand-in for Google's issuer. Leave unset in production." }),
});

export type GoogleConfig = z.output<typeof googleSchema>;
