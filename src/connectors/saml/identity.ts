/**
 * From a checked assertion and its attributes to Portico's UpstreamIdentity.
 *
 * Email verification: a SAML IdP is an enterprise IdP the tenant admin federated for specific
 * domains (`domains`). Its email is trusted as verified only when the address is in one of those
 * domains: a partner IdP asserting an address in a domain it does not own (another partner's, or
 * gmail.com) gets it carried as unverified, so it can never be linked to an existing account.
 */
import type { UpstreamIdentity } from '../types.ts';
import type { CheckedAssertion } from './assertion.ts';
import { NAMEID_FORMATS } from './config.ts';

export interface AttributeMapping {
  readonly email: readonly string[];
  readonly name: readonly string[];
  readonly givenName: readonly string[];
  readonly surname: readonly string[];
  readonly compliant?: readonly string[] | undefined;
  readonly hybridJoined?: readonly string[] | undefined;
}

export type AttributeValues = Readonly<Record<string, string | readonly string[]>>;

/** AuthnContextClassRef (and Entra/ADFS authnmethodsreferences) → RFC 8176 `amr` values. */
const AMR_BY_CONTEXT: Readonly<Record<string, readonly string[]>> = {
  'https://refeds.org/profile/mfa': ['mfa'],
  'http://schemas.microsoft.com/claims/multipleauthn': ['mfa'],
  'urn:oasis:names:tc:SAML:2.0:ac:classes:MobileTwoFactorContract': ['mfa'],
  'urn:oasis:names:tc:SAML:2.0:ac:classes:MobileTwoFactorUnregistered': ['mfa'],
  'urn:oasis:names:tc:SAML:2.0:ac:classes:Password': ['pwd'],
  'urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport': ['pwd'],
  'http://schemas.microsoft.com/ws/2008/06/identity/authenticationmethod/password': ['pwd'],
  'urn:oasis:names:tc:SAML:2.0:ac:classes:TimeSyncToken': ['otp'],
  'urn:oasis:names:tc:SAML:2.0:ac:classes:Smartcard': ['sc'],
  'urn:oasis:names:tc:SAML:2.0:ac:classes:SmartcardPKI': ['sc'],
  'urn:oasis:names:tc:SAML:2.0:ac:classes:SoftwarePKI': ['swk'],
  'urn:oasis:names:tc:SAML:2.0:ac:classes:Kerberos': ['wia'],
  'urn:federation:authentication:windows': ['wia'],
  'http://schemas.microsoft.com/ws/2008/06/identity/authenticationmethod/windows': ['wia'],
};
const AUTHN_METHODS_ATTRIBUTE = 'http://schemas.microsoft.com/claims/authnmethodsreferences';

/** Where a local part or domain could carry look-alikes, CR/LF or spaces, the address is dropped, not repaired. */
const EMAIL = /^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@(?=.{1,253}$)(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;

/** Trimmed, domain lowercased; undefined when absent or not a plain ASCII address. */
export function normaliseEmail(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const trimmed = value.trim();
  if (!EMAIL.test(trimmed)) return undefined;
  const at = trimmed.lastIndexOf('@');
  return `${trimmed.slice(0, at)}@${trimmed.slice(at + 1).toLowerCase()}`;
}

/** Plain string values only: an AttributeValue with child elements is not a claim Portico maps. */
export function simpleAttributes(raw: unknown): AttributeValues {
  const result: Record<string, string | string[]> = {};
  if (typeof raw !== 'object' || raw === null) return result;
  for (const [name, value] of Object.entries(raw)) {
    if (typeof value === 'string') result[name] = value;
    else if (Array.isArray(value) && value.every((item) => typeof item === 'string')) result[name] = value as string[];
  }
  return result;
}

function first(attributes: AttributeValues, names: readonly string[] | undefined): string | undefined {
  for (const name of names ?? []) {
    const value = attributes[name];
    const text = typeof value === 'string' ? value : value?.[0];
    if (text !== undefined && text.trim() !== '') return text.trim();
  }
  return undefined;
}

function flag(attributes: AttributeValues, names: readonly string[] | undefined): boolean | undefined {
  const value = first(attributes, names)?.toLowerCase();
  if (value === 'true' || value === '1') return true;
  if (value === 'false' || value === '0') return false;
  return undefined;
}

export function amrOf(classRef: string | undefined, attributes: AttributeValues): string[] {
  const methods = attributes[AUTHN_METHODS_ATTRIBUTE];
  const refs = [classRef, ...(typeof methods === 'string' ? [methods] : (methods ?? []))];
  return [...new Set(refs.flatMap((ref) => (ref === undefined ? [] : (AMR_BY_CONTEXT[ref] ?? []))))];
}

/** A display string from the IdP: trimmed, no control characters, bounded. */
function label(value: string | undefined): string | undefined {
  if (value === undefined || /\p{Cc}/u.test(value)) return undefined;
  return value.slice(0, 256);
}

export interface IdentityContext {
  readonly connectorId: string;
  readonly entityId: string;
  readonly domains: readonly string[];
  readonly mapping: AttributeMapping;
}

export function toUpstreamIdentity(assertion: CheckedAssertion, attributes: AttributeValues, context: IdentityContext): UpstreamIdentity {
  const fromAttribute = first(attributes, context.mapping.email);
  const email = normaliseEmail(fromAttribute ?? (assertion.nameIdFormat === NAMEID_FORMATS.emailAddress ? assertion.nameId : undefined));
  const domain = email?.slice(email.lastIndexOf('@') + 1);
  const compliant = flag(attributes, context.mapping.compliant);
  const hybridJoined = flag(attributes, context.mapping.hybridJoined);
  const name = label(first(attributes, context.mapping.name));
  const givenName = label(first(attributes, context.mapping.givenName));
  const familyName = label(first(attributes, context.mapping.surname));
  return {
    connectorId: context.connectorId,
    kind: 'saml',
    issuer: context.entityId,
    subject: assertion.nameId,
    idp: context.entityId,
    ...(email ? { email } : {}),
    emailVerified: domain !== undefined && context.domains.includes(domain),
    ...(name ? { name } : {}),
    ...(givenName ? { givenName } : {}),
    ...(familyName ? { familyName } : {}),
    homeTenantId: context.entityId,
    amr: amrOf(assertion.authnContextClassRef, attributes),
    ...(assertion.authnContextClassRef ? { acr: assertion.authnContextClassRef } : {}),
    ...(compliant !== undefined || hybridJoined !== undefined
      ? { device: { ...(compliant !== undefined ? { compliant } : {}), ...(hybridJoined !== undefined ? { hybridJoined } : {}) } }
      : {}),
    rawClaims: attributes,
  };
}
