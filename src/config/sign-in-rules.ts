/**
 * Cross-key rules of the sign-in keys of a tenant file (partners, identity providers, email
 * passcodes, redemption order). Like the rest of rules.ts they read the raw data and skip what
 * has the wrong shape, so a typo in one entry never hides a conflict in another.
 *
 * Home-realm discovery sends a guest to the one identity provider that claims the domain of
 * their email address, so a domain claimed twice (or claimed while it is the tenant's own) would
 * make sign-in depend on the order of the file: it is refused instead.
 */
import { formatPath, type Issue } from './messages.ts';
import { isRecord, shapeOf, unwrap, type PathSegment } from './schema-walk.ts';
import { connectorSchemaFor, IMPLICIT_EMAIL_OTP_ID, implicitEmailOtpEntry, isConnectorKind } from './sign-in.ts';

const listOf = (value: unknown): unknown[] => (Array.isArray(value) ? value : []);
const stringsOf = (value: unknown): [string, number][] =>
  listOf(value).flatMap((item, index): [string, number][] => (typeof item === 'string' ? [[item, index]] : []));

/** The domains a kind routes when its entry does not say (Google's consumer domains, say). */
function defaultDomains(kind: string): string[] {
  if (!isConnectorKind(kind)) return [];
  const field = shapeOf(connectorSchemaFor(kind))?.['domains'];
  if (field === undefined) return [];
  const { defaultValue } = unwrap(field);
  return Array.isArray(defaultValue) ? defaultValue.filter((domain): domain is string => typeof domain === 'string') : [];
}

export function signInRules(raw: Record<string, unknown>, issues: Issue[]): void {
  const add = (path: PathSegment[], message: string) => issues.push({ path, message });
  const label = (path: PathSegment[]) => formatPath(path, raw);
  const ownDomains = new Set(stringsOf(raw['domains']).map(([domain]) => domain.toLowerCase()));
  const ownDomain = (domain: string) => `'${domain}' is one of this tenant's own domains`;

  // --- partners: each domain, Entra tenant, SAML entity id and OIDC issuer names one partner
  const partners = listOf(raw['partners']);
  const partnerIds = new Map<string, number>();
  const claims = new Map<string, Map<string, { index: number; position: number }>>();
  partners.forEach((partner, index) => {
    if (!isRecord(partner)) return;
    const at: PathSegment[] = ['partners', index];
    const id = partner['id'];
    if (typeof id === 'string') {
      const first = partnerIds.get(id);
      if (first === undefined) partnerIds.set(id, index);
      else add([...at, 'id'], `'${id}' is already used by partners[${first}]`);
    }
    for (const key of ['domains', 'entraTenantIds', 'samlEntityIds', 'oidcIssuers']) {
      const seen = claims.get(key) ?? new Map<string, { index: number; position: number }>();
      claims.set(key, seen);
      for (const [value, position] of stringsOf(partner[key])) {
        const normal = key === 'domains' ? value.toLowerCase() : value;
        const first = seen.get(normal);
        if (key === 'domains' && ownDomains.has(normal)) add([...at, key, position], ownDomain(value));
        else if (first === undefined) seen.set(normal, { index, position });
        else if (first.index === index) add([...at, key, position], `duplicate of ${key}[${first.position}]`);
        else add([...at, key, position], `'${value}' is already used by ${label(['partners', first.index])}`);
      }
    }
  });
  const knownPartners = [...partnerIds.keys()];

  // --- identity providers
  const providers = listOf(raw['identityProviders']);
  const emailOtp = raw['emailOneTimePasscode'];
  const emailOtpEnabled = !(isRecord(emailOtp) && emailOtp['enabled'] === false);
  const ids = new Map<string, number>();
  const routedTo = new Map<string, { index: number; byDefault: boolean }>();
  let firstEmailOtp: number | undefined;

  providers.forEach((provider, index) => {
    if (!isRecord(provider)) return;
    const at: PathSegment[] = ['identityProviders', index];
    const kind = provider['kind'];

    const id = provider['id'];
    if (typeof id === 'string') {
      const first = ids.get(id);
      if (first === undefined) ids.set(id, index);
      else add([...at, 'id'], `'${id}' is already used by identityProviders[${first}]`);
    }

    const partner = provider['partner'];
    if (typeof partner === 'string' && !partnerIds.has(partner)) {
      const known = knownPartners.length > 0 ? `known: ${knownPartners.join(', ')}` : 'this tenant defines no partners';
      add([...at, 'partner'], `unknown partner '${partner}' (${known})`);
    }

    if (kind === 'email-otp') {
      if (!emailOtpEnabled) add(['emailOneTimePasscode', 'enabled'], `is false but ${label(at)} is an email-otp connector`);
      if (firstEmailOtp === undefined) firstEmailOtp = index;
      else add([...at, 'kind'], `only one email-otp connector is allowed per tenant (${label(['identityProviders', firstEmailOtp])} is one)`);
    }

    // A kind's default domains route as surely as written ones, so they conflict the same way.
    const written = provider['domains'] !== undefined;
    const domains: [string, PathSegment[]][] = written
      ? stringsOf(provider['domains']).map(([domain, position]) => [domain, [...at, 'domains', position]])
      : typeof kind === 'string'
        ? defaultDomains(kind).map((domain) => [domain, [...at, 'domains']])
        : [];
    const mine = new Map<string, number>();
    domains.forEach(([domain, path], position) => {
      const normal = domain.toLowerCase();
      const earlier = routedTo.get(normal);
      const byDefault = written ? '' : ` (a default of kind ${String(kind)})`;
      if (ownDomains.has(normal)) add(path, `${ownDomain(domain)}${byDefault}`);
      else if (mine.has(normal)) add(path, `duplicate of domains[${mine.get(normal)}]`);
      else if (earlier !== undefined) {
        const how = earlier.byDefault ? ' by default' : '';
        add(path, `'${domain}'${byDefault} is already routed to ${label(['identityProviders', earlier.index])}${how}`);
      } else routedTo.set(normal, { index, byDefault: !written });
      if (!mine.has(normal)) mine.set(normal, position);
    });
  });

  // --- the implicit email-otp connector
  if (emailOtpEnabled && firstEmailOtp === undefined) {
    const taken = ids.get(IMPLICIT_EMAIL_OTP_ID);
    if (taken !== undefined) {
      add(
        ['identityProviders', taken, 'id'],
        `'${IMPLICIT_EMAIL_OTP_ID}' is the id of the email-otp connector added because emailOneTimePasscode.enabled is true: choose another id, or add an email-otp entry`,
      );
    }
    const implicit = implicitEmailOtpEntry();
    if ('problem' in implicit) add(['emailOneTimePasscode', 'enabled'], implicit.problem);
  }

  // --- redemption order
  const signIn = raw['signIn'];
  if (isRecord(signIn)) {
    const seen = new Map<string, number>();
    for (const [group, position] of stringsOf(signIn['redemptionOrder'])) {
      const first = seen.get(group);
      if (first === undefined) seen.set(group, position);
      else add(['signIn', 'redemptionOrder', position], `duplicate of redemptionOrder[${first}]`);
    }
  }
}
