import { z } from 'zod';
import { connectorBaseFields } from '../config-base.ts';
import { timeoutField, upstreamUrl } from '../oidc/schema.ts';

const SCOPE = /^[A-Za-z0-9_]{1,64}$/;

export const facebookSchema = z.strictObject({
  ...connectorBaseFields,
  kind: z.literal('facebook').meta({
    description:
      'Sign in with Facebook (OAuth 2.0 with PKCE and the Graph API; Facebook offers no OpenID Connect for the web). Facebook returns an email only once the person confirmed it, so a returned email counts as verified.',
  }),
  clientId: z.string().regex(/^\d{1,32}$/, 'must be a Facebook App ID (digits)').meta({ description: 'The Facebook App ID.' }),
  clientSecret: z.string().min(1).meta({ secret: true, description: 'The Facebook App Secret; also keys `appsecret_proof` on Graph calls.' }),
  scopes: z
    .array(z.string().regex(SCOPE, 'must be a Facebook permission name'))
    .min(1)
    .default(['email', 'public_profile'])
    .meta({ description: 'Permissions asked for.' }),
  timeoutSeconds: timeoutField(),
  authorizeUrl: upstreamUrl().default('https://www.facebook.com/v19.0/dialog/oauth').meta({ description: 'Login dialog URL. Change only to move to another Graph API version, or for tests.' }),
  tokenUrl: upstreamUrl().default('https://graph.facebook.com/v19.0/oauth/access_token').meta({ description: 'Token endpoint. Change only to move to another Graph API version, or for tests.' }),
  graphUrl: upstreamUrl().default('https://graph.facebook.com/v19.0').meta({ description: 'Graph API base URL (`/me` is read under it). Change only to move to another Graph API version, or for tests.' }),
});

export type FacebookConfig = z.output<typeof facebookSchema>;
