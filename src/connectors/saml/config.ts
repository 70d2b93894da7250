/**
 * The `saml` entry of a tenant file's `identityProviders`: one partner IdP, SP-initiated.
 */
import { z } from 'zod';
import { isLoopbackHost } from '../../config/primitives.ts';
import { connectorBaseFields } from '../config-base.ts';

export const NAMEID_FORMATS = {
  persistent: 'urn:oasis:names:tc:SAML:2.0:nameid-format:persistent',
  emailAddress: 'urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress',
  unspecified: 'urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified',
} as const;

export type NameIdFormatName = keyof typeof NAMEID_FORMATS;

/** Attribute names tried in order when the config names none: OIDs first, then Entra/ADFS claim URIs, then bare names. */
export const DEFAULT_ATTRIBUTES = {
  email: ['urn:oid:0.9.2342.19200300.100.1.3', 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress', 'email', 'mail'],
  name: ['urn:oid:2.16.840.1.113730.3.1.241', 'http://schemas.microsoft.com/identity/claims/displayname', 'displayName', 'name'],
  givenName: ['urn:oid:2.5.4.42', 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/givenname', 'givenName', 'firstName'],
  surname: ['urn:oid:2.5.4.4', 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/surname', 'sn', 'surname', 'lastName'],
} as const;

function remoteUrlProblem(value: string): string | undefined {
  if (!URL.canParse(value)) return 'must be an absolute URL';
  const url = new URL(value);
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && isLoopbackHost(url.hostname))) {
    return 'must use https (http is allowed only for localhost, 127.0.0.1 and [::1])';
  }
  if (url.username !== '' || url.password !== '') return 'must not contain a user name or password';
  if (value.includes('#')) return 'must not contain a fragment (#...)';
  return undefined;
}

const PEM_CERTIFICATE = /^-----BEGIN CERTIFICATE-----\s+[A-Za-z0-9+/=\s]+-----END CERTIFICATE-----\s*$/;
const PEM_PRIVATE_KEY = /^-----BEGIN (?:RSA )?PRIVATE KEY-----\s+[A-Za-z0-9+/=\s]+-----END (?:RSA )?PRIVATE KEY-----\s*$/;

const remoteUrl = () =>
  z.string().superRefine((value, ctx) => {
    const problem = remoteUrlProblem(value);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  });
const certificate = () => z.string().trim().regex(PEM_CERTIFICATE, 'must be one PEM certificate (-----BEGIN CERTIFICATE----- …)');
const attributeNames = () => z.array(z.string().min(1)).min(1);
const withDefault = (fallback: readonly string[], description: string) => attributeNames().default([...fallback]).meta({ description });
const optionalNames = (description: string) => attributeNames().optional().meta({ description });

const attributesSchema = z.strictObject({
  email: withDefault(DEFAULT_ATTRIBUTES.email, 'Attribute names holding the email address, first present wins.'),
  name: withDefault(DEFAULT_ATTRIBUTES.name, 'Attribute names holding the display name, first present wins.'),
  givenName: withDefault(DEFAULT_ATTRIBUTES.givenName, 'Attribute names holding the given name, first present wins.'),
  surname: withDefault(DEFAULT_ATTRIBUTES.surname, 'Attribute names holding the surname, first present wins.'),
  compliant: optionalNames('Attribute names holding whether the device is compliant (`true`/`false`); untrusted until the partner policy trusts device claims.'),
  hybridJoined: optionalNames('Attribute names holding whether the device is hybrid-joined (`true`/`false`); untrusted until the partner policy trusts device claims.'),
});

export const samlConfigSchema = z
  .strictObject({
    ...connectorBaseFields,
    kind: z.literal('saml').meta({ description: 'A partner IdP speaking SAML 2.0 (SP-initiated, HTTP-Redirect out, HTTP-POST back).' }),
    entityId: z
      .string()
      .min(1)
      .regex(/^\S+$/, 'must not contain whitespace')
      .meta({ description: "The IdP's entity id: the Issuer its responses must carry, the `idp` claim and the issuer of the identities it signs in." }),
    metadataFile: z.string().min(1).optional().meta({ description: "The IdP's metadata, a file path relative to the config folder. One of `metadataFile`, `metadataUrl` or `ssoUrl` + `signingCertificates`." }),
    metadataUrl: remoteUrl().optional().meta({ description: "URL of the IdP's metadata (https), fetched at start and refreshed. One of `metadataFile`, `metadataUrl` or `ssoUrl` + `signingCertificates`." }),
    metadataRefreshSeconds: z
      .number()
      .int()
      .min(60)
      .max(604800)
      .default(86400)
      .meta({ description: 'How often metadata from `metadataUrl` is fetched again (a failed fetch keeps the last good copy).' }),
    ssoUrl: remoteUrl().optional().meta({ description: "The IdP's single sign-on URL for the HTTP-Redirect binding, when no metadata is given." }),
    signingCertificates: z
      .array(certificate())
      .min(1)
      .optional()
      .meta({ description: "The IdP's signing certificates (PEM), when no metadata is given; list the old and the new one during a rollover." }),
    spEntityId: z.string().min(1).regex(/^\S+$/, 'must not contain whitespace').optional().meta({
      description: "Portico's entity id towards this IdP (the Audience its assertions must name).",
      defaultText: '`{tenant issuer}/saml/{id}`',
    }),
    nameIdFormat: z.enum(['persistent', 'emailAddress', 'unspecified']).default('persistent').meta({
      description:
        'NameID format asked for; the NameID becomes the subject, the key of the guest identity. `persistent` (opaque, never reassigned) is the safe choice; use `emailAddress` or `unspecified` only for IdPs that cannot issue persistent ids. Responses in another format are refused, except with `unspecified`; transient ids are always refused.',
    }),
    requestedAuthnContext: z
      .array(z.string().min(1))
      .optional()
      .meta({ description: 'AuthnContextClassRefs to ask for (exact comparison), e.g. `https://refeds.org/profile/mfa`; none by default, so the IdP decides.' }),
    attributes: attributesSchema.prefault({}).meta({ description: 'Which SAML attributes hold which claims.' }),
    allowSha1: z.boolean().default(false).meta({ description: 'Accept RSA-SHA1 signatures and SHA-1 digests (legacy IdPs only: SHA-1 is broken).' }),
    wantAssertionsSigned: z.boolean().default(true).meta({
      description: 'Require a signature on the Assertion itself. When false, a signature on the Response (which covers the assertion) is enough.',
    }),
    maxClockSkewSeconds: z.number().int().min(0).max(300).default(120).meta({ description: 'Clock difference tolerated with the IdP on NotBefore / NotOnOrAfter.' }),
    decryptionKey: z
      .string()
      .trim()
      .regex(PEM_PRIVATE_KEY, 'must be a PEM private key')
      .optional()
      .meta({ secret: true, description: 'PEM private key for encrypted assertions (RSA-OAEP; RSA 1.5 and 3DES are refused). Needs `decryptionCertificate`.' }),
    decryptionCertificate: certificate().optional().meta({ description: 'Certificate of `decryptionKey`, published in the SP metadata for the IdP to encrypt to.' }),
    maxResponseBytes: z.number().int().min(4096).max(1048576).default(262144).meta({ description: 'Largest SAMLResponse accepted, in bytes after base64 decoding.' }),
  })
  .superRefine((config, ctx) => {
    const sources = [config.metadataFile, config.metadataUrl, config.ssoUrl ?? config.signingCertificates].filter((source) => source !== undefined);
    if (sources.length !== 1) {
      ctx.addIssue({ code: 'custom', path: ['metadataFile'], message: 'give exactly one of metadataFile, metadataUrl, or ssoUrl with signingCertificates' });
    } else if ((config.ssoUrl === undefined) !== (config.signingCertificates === undefined)) {
      ctx.addIssue({
        code: 'custom',
        path: [config.ssoUrl === undefined ? 'ssoUrl' : 'signingCertificates'],
        message: 'ssoUrl and signingCertificates go together',
      });
    }
    if ((config.decryptionKey === undefined) !== (config.decryptionCertificate === undefined)) {
      ctx.addIssue({
        code: 'custom',
        path: [config.decryptionKey === undefined ? 'decryptionKey' : 'decryptionCertificate'],
        message: 'decryptionKey and decryptionCertificate go together',
      });
    }
  });

export type SamlConfig = z.output<typeof samlConfigSchema>;
