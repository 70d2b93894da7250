/**
 * The `oidc` kind's config entry, and the field builders the presets (google, microsoft) share
 * with it so that the same key means the same thing in every kind.
 */
import { z } from 'zod';
import { checked, publicUrlProblem } from '../../config/primitives.ts';
import { connectorBaseFields } from '../config-base.ts';

// RFC 6749 §3.3 scope-token: printable ASCII except space, '"' and '\'.
const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]+$/;
const CLAIM_NAME = /^[\x21-\x7E]{1,100}$/;

/** An issuer or endpoint: https, or http only on a loopback host; no query, fragment or user info. */
export const upstreamUrl = () => checked(publicUrlProblem);

export const clientIdField = () => z.string().min(1).max(255).meta({ description: 'Client (application) id registered at the identity provider.' });

export const clientSecretField = () =>
  z.string().min(1).meta({ secret: true, description: 'Client secret registered at the identity provider.' });

export const clientAuthField = () =>
  z.enum(['client_secret_basic', 'client_secret_post']).default('client_secret_basic').meta({
    description: 'How the client secret is sent to the token endpoint: HTTP Basic (`client_secret_basic`) or in the form body (`client_secret_post`).',
  });

export const scopesField = (fallback: readonly string[]) =>
  z
    .array(z.string().regex(SCOPE_TOKEN, 'must be a scope name (no spaces, quotes or backslashes)'))
    .min(1)
    .refine((scopes) => scopes.includes('openid'), 'must include openid')
    .default([...fallback])
    .meta({ description: 'Scopes asked for at the identity provider; `openid` is required.' });

export const timeoutField = () =>
  z.number().min(0.1).max(60).default(10).meta({
    description: 'Upper bound, in seconds, on every call to the identity provider (discovery, keys, token, userinfo). A slower answer fails the sign-in as `upstream_unavailable`.',
  });

const claimName = (fallback: string, description: string) =>
  z.string().regex(CLAIM_NAME, 'must be a claim name').default(fallback).meta({ description });

export const oidcClaimsSchema = z
  .strictObject({
    subject: claimName('sub', 'ID token claim holding the stable user id. Read from the ID token only, never from userinfo.'),
    email: claimName('email', 'Claim holding the email address.'),
    emailVerified: claimName('email_verified', 'Claim saying whether the identity provider verified the email (`true`, or the string "true").'),
    name: claimName('name', 'Claim holding the display name.'),
    givenName: claimName('given_name', 'Claim holding the given name.'),
    familyName: claimName('family_name', 'Claim holding the family name.'),
    deviceCompliant: claimName('device_compliant', 'Boolean claim saying the device is compliant (kept as untrusted input for policy).'),
    deviceHybridJoined: claimName('device_hybrid_joined', 'Boolean claim saying the device is hybrid-joined (kept as untrusted input for policy).'),
  })
  .prefault({})
  .meta({ description: 'Which upstream claims fill the identity; the defaults are the OpenID Connect names.' });

export const oidcSchema = z.strictObject({
  ...connectorBaseFields,
  kind: z.literal('oidc').meta({ description: 'Any OpenID Connect identity provider, found by discovery.' }),
  issuer: upstreamUrl().meta({
    description: 'Issuer identifier, exactly as the provider spells it (a trailing slash matters); discovery is read from `{issuer}/.well-known/openid-configuration`. https, or http on a loopback host.',
  }),
  clientId: clientIdField(),
  clientSecret: clientSecretField(),
  clientAuth: clientAuthField(),
  scopes: scopesField(['openid', 'email', 'profile']),
  timeoutSeconds: timeoutField(),
  claims: oidcClaimsSchema,
  idp: z.string().min(1).max(255).optional().meta({ description: 'Value of the `idp` claim for people signed in here.', defaultText: 'the issuer' }),
});

export type OidcConfig = z.output<typeof oidcSchema>;
export type OidcClaimNames = z.output<typeof oidcClaimsSchema>;
