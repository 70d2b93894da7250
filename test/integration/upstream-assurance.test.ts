/**
 * What upstreams say about a sign-in (MFA done, device compliant), read from real protocol
 * messages and counted only where the resource tenant's inbound trust accepts it: a SAML stand-in
 * signing real XML (AuthnContextClassRef, a device attribute named by `attributes.compliant`) and
 * the Microsoft stand-in issuing Entra tokens with Microsoft's `amr` and `tid`. Table-driven over
 * upstream claims × partner trust × conditional access; each case checks the page the guest ends
 * on, the ID token (`amr`, `acr`, `device_compliant`) and the sign-in log entry read through the
 * management API (which organisation, which claims were trusted or dropped, the requirement).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { parse, stringify } from 'yaml';
import type { PolicyTraceEntry, SignIn } from '../../src/directory/sign-in-log.ts';
import { totpCodeAt } from '../../src/mfa/totp.ts';
import { federationTenantYaml } from '../helpers/federation-tenant.ts';
import { freePort, locationOf } from '../helpers/http.ts';
import { startTestPortico, type TestPortico } from '../helpers/portico.ts';
import { startSamlIdp, type SamlIdp } from '../helpers/saml-idp.ts';
import type { SignInSession } from '../helpers/sign-in.ts';
import { signInUpstream, startMicrosoftStandIn, type MicrosoftStandIn } from '../helpers/upstreams/index.ts';
import { CONSUMERS_TENANT } from '../helpers/upstreams/microsoft-idp.ts';
import { DAEMON } from './graph-harness.ts';
import { editTenant, guest, session, signInsOf, type WebApp } from './policy-harness.ts';

const ADATUM_TID = '6f0c2f0e-2b9a-4a8e-9a51-0f6f2a6c1b11';
const ACR_MFA = 'https://refeds.org/profile/mfa';
const ACR_SFA = 'https://refeds.org/profile/sfa';
const app = (id: string): WebApp => ({ id, secret: 'test-app-secret', redirectUri: `http://localhost:8093/${id}` });
const PAYROLL = app('payroll');
const SECURE = app('secure');

/** Indexes into `crossTenantAccess.partners`, and the rule names the trace gives them. */
const FABRIKAM = { index: 0, rule: 'crossTenantAccess.partners[0] (fabrikam).inboundTrust' };
const ADATUM = { index: 1, rule: 'crossTenantAccess.partners[1] (adatum).inboundTrust' };
const PERSONAL = { index: 2, rule: 'crossTenantAccess.partners[2] (live-accounts).inboundTrust' };
const NO_SETTINGS = 'built-in default (inboundTrust)';

type Claim = 'MFA' | 'compliant device';

interface Case {
  readonly name: string;
  /** SAML: the address typed at the stand-in and the method picked there; Microsoft: the stand-in account id. */
  readonly upstream: { kind: 'saml'; email: string; method: 'pwd' | 'mfa' } | { kind: 'microsoft'; account: string; email: string };
  readonly app: WebApp;
  /** The inbound trust in force for the case's partner entry. */
  readonly trust: { partner: typeof FABRIKAM; isMfaAccepted?: boolean; isCompliantDeviceAccepted?: boolean };
  /** How the guest's organisation is recognised (the `crossTenantAccess.inbound` trace). */
  readonly organisation: RegExp;
  readonly outcome: 'at app' | 'enrolment' | 'device-required';
  /** Partner claims the trace says were trusted or dropped, and under which rule. */
  readonly trusted: readonly Claim[];
  readonly dropped: readonly Claim[];
  readonly traceRule: string;
  readonly authenticationRequirement: SignIn['authenticationRequirement'];
  /** Expected ID token parts, when a token is issued. */
  readonly token?: { amr: readonly string[]; acr: string; deviceCompliant?: true };
}

const CASES: readonly Case[] = [
  {
    name: 'SAML: REFEDS MFA from a partner whose MFA is trusted meets "require MFA" without a prompt',
    upstream: { kind: 'saml', email: 'sam@fabrikam.com', method: 'mfa' },
    app: PAYROLL,
    trust: { partner: FABRIKAM, isMfaAccepted: true },
    organisation: /partner 'fabrikam' \(identity provider of partner 'fabrikam'\)/,
    outcome: 'at app',
    trusted: ['MFA'],
    dropped: [],
    traceRule: FABRIKAM.rule,
    authenticationRequirement: 'multiFactorAuthentication',
    token: { amr: ['fed', 'mfa'], acr: ACR_MFA },
  },
  {
    name: 'SAML: the same REFEDS MFA with trust off is dropped: Portico enrols its own second factor',
    upstream: { kind: 'saml', email: 'sue@fabrikam.com', method: 'mfa' },
    app: PAYROLL,
    trust: { partner: FABRIKAM, isMfaAccepted: false },
    organisation: /partner 'fabrikam'/,
    outcome: 'enrolment',
    trusted: [],
    dropped: ['MFA'],
    traceRule: FABRIKAM.rule,
    authenticationRequirement: 'multiFactorAuthentication',
    token: { amr: ['fed', 'otp', 'mfa'], acr: ACR_MFA },
  },
  {
    name: 'SAML: PasswordProtectedTransport from a trusted partner is no MFA: Portico enrols its own',
    upstream: { kind: 'saml', email: 'sid@fabrikam.com', method: 'pwd' },
    app: PAYROLL,
    trust: { partner: FABRIKAM, isMfaAccepted: true },
    organisation: /partner 'fabrikam'/,
    outcome: 'enrolment',
    trusted: [],
    dropped: [],
    traceRule: FABRIKAM.rule,
    authenticationRequirement: 'multiFactorAuthentication',
    token: { amr: ['fed', 'otp', 'mfa'], acr: ACR_MFA },
  },
  {
    name: 'SAML: a trusted device attribute meets "require a compliant device" and reaches the token',
    upstream: { kind: 'saml', email: 'dev@fabrikam.com', method: 'pwd' },
    app: SECURE,
    trust: { partner: FABRIKAM, isCompliantDeviceAccepted: true },
    organisation: /partner 'fabrikam'/,
    outcome: 'at app',
    trusted: ['compliant device'],
    dropped: [],
    traceRule: FABRIKAM.rule,
    authenticationRequirement: 'singleFactorAuthentication',
    token: { amr: ['fed'], acr: ACR_SFA, deviceCompliant: true },
  },
  {
    name: 'SAML: the same device attribute untrusted ends on the device-required page, no token',
    upstream: { kind: 'saml', email: 'dan@fabrikam.com', method: 'pwd' },
    app: SECURE,
    trust: { partner: FABRIKAM, isCompliantDeviceAccepted: false },
    organisation: /partner 'fabrikam'/,
    outcome: 'device-required',
    trusted: [],
    dropped: ['compliant device'],
    traceRule: FABRIKAM.rule,
    authenticationRequirement: 'singleFactorAuthentication',
  },
  {
    name: 'Microsoft: an Entra work account with amr [pwd, mfa] from a trusted partner tenant passes without a prompt',
    upstream: { kind: 'microsoft', account: 'm-alice', email: 'alice@adatum.com' },
    app: PAYROLL,
    trust: { partner: ADATUM, isMfaAccepted: true },
    organisation: new RegExp(`partner 'adatum' \\(Entra tenant ${ADATUM_TID}\\)`),
    outcome: 'at app',
    trusted: ['MFA'],
    dropped: [],
    traceRule: ADATUM.rule,
    authenticationRequirement: 'multiFactorAuthentication',
    token: { amr: ['fed', 'mfa'], acr: ACR_MFA },
  },
  {
    name: 'Microsoft: the same Entra MFA with trust off is dropped: Portico enrols its own',
    upstream: { kind: 'microsoft', account: 'm-bea', email: 'bea@adatum.com' },
    app: PAYROLL,
    trust: { partner: ADATUM, isMfaAccepted: false },
    organisation: new RegExp(`partner 'adatum' \\(Entra tenant ${ADATUM_TID}\\)`),
    outcome: 'enrolment',
    trusted: [],
    dropped: ['MFA'],
    traceRule: ADATUM.rule,
    authenticationRequirement: 'multiFactorAuthentication',
    token: { amr: ['fed', 'otp', 'mfa'], acr: ACR_MFA },
  },
  {
    name: 'Microsoft: a personal account is never a partner by tid: with a partner trusting MFA, its MFA is still dropped',
    upstream: { kind: 'microsoft', account: 'm-carl', email: 'carl@outlook.com' },
    app: PAYROLL,
    trust: { partner: PERSONAL, isMfaAccepted: true },
    organisation: /an organisation with no settings of its own/,
    outcome: 'enrolment',
    trusted: [],
    dropped: ['MFA'],
    traceRule: NO_SETTINGS,
    authenticationRequirement: 'multiFactorAuthentication',
    token: { amr: ['fed', 'otp', 'mfa'], acr: ACR_MFA },
  },
];

/** The partner-claim entries of the inbound trust layer, as `[claim, trusted]` pairs. */
function partnerClaims(trace: readonly PolicyTraceEntry[] | undefined, rule: string): { trusted: Claim[]; dropped: Claim[] } {
  const trusted: Claim[] = [];
  const dropped: Claim[] = [];
  for (const entry of trace ?? []) {
    if (entry.layer !== 'crossTenantAccess.inboundTrust' || entry.rule === 'portico') continue;
    const match = /^the partner's (.+) claim is (trusted|not trusted: dropped)$/.exec(entry.detail ?? '');
    assert.ok(match, `an inbound trust entry names a claim: ${JSON.stringify(entry)}`);
    assert.equal(entry.rule, rule, 'the trust comes from the expected setting');
    (match[2] === 'trusted' ? trusted : dropped).push(match[1] as Claim);
  }
  return { trusted, dropped };
}

const unescapeHtml = (text: string): string =>
  text.replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');

describe('assurance from upstreams: SAML contexts and device attributes, Entra amr and tid', () => {
  let saml: SamlIdp;
  let microsoft: MicrosoftStandIn;
  let portico: TestPortico;
  /** The inbound trust last applied to each partner entry, so an edit is made only when it changes. */
  const trustInForce = new Map<number, string>();

  before(async () => {
    const port = await freePort();
    saml = await startSamlIdp({ users: [{ email: 'dev@fabrikam.com', attributes: { deviceCompliant: 'true' } }, { email: 'dan@fabrikam.com', attributes: { deviceCompliant: 'true' } }] });
    const mfa = ['pwd', 'mfa'];
    microsoft = await startMicrosoftStandIn({
      tenants: [{ id: ADATUM_TID, name: 'Adatum', domains: ['adatum.com'] }],
      accounts: [
        { id: 'm-alice', tenantId: ADATUM_TID, email: 'alice@adatum.com', emailDomainVerified: true, name: 'Alice Adatum', amr: mfa },
        { id: 'm-bea', tenantId: ADATUM_TID, email: 'bea@adatum.com', emailDomainVerified: true, name: 'Bea Adatum', amr: mfa },
        { id: 'm-carl', tenantId: CONSUMERS_TENANT, email: 'carl@outlook.com', name: 'Carl Outlook', amr: mfa },
      ],
      clients: [{ clientId: 'portico-microsoft', clientSecret: 'microsoft-secret', redirectUris: [`http://127.0.0.1:${port}/contoso/v2.0/federation/microsoft/callback`] }],
    });
    const tenant = parse(
      federationTenantYaml({
        saml: { entityId: saml.entityId, ssoUrl: saml.ssoUrl, certificates: saml.keys.map((key) => key.certificate) },
        microsoft: { authority: microsoft.authority, clientId: 'portico-microsoft', clientSecret: 'microsoft-secret' },
        apps: [PAYROLL, SECURE],
        graphDaemon: true,
      }),
    ) as { apps: { id: string; graphRoles?: string[] }[]; identityProviders: Record<string, unknown>[]; partners: Record<string, unknown>[] } & Record<string, unknown>;
    tenant.apps.find((a) => a.id === DAEMON.id)!.graphRoles!.push('AuditLog.Read.All');
    tenant.identityProviders.find((idp) => idp['kind'] === 'saml')!['attributes'] = { compliant: ['deviceCompliant'] };
    tenant.partners.push(
      { id: 'adatum', displayName: 'Adatum', domains: ['adatum.com'], entraTenantIds: [ADATUM_TID] },
      // Personal accounts share one tid, which names no organisation: the config refuses it in
      // entraTenantIds (and policy ignores it there), so trusting this partner must not reach them.
      { id: 'live-accounts', displayName: 'Personal Microsoft accounts', domains: ['live-accounts.example'] },
    );
    tenant['crossTenantAccess'] = {
      partners: [
        { partner: 'fabrikam', inboundTrust: {} },
        { partner: 'adatum', inboundTrust: {} },
        { partner: 'live-accounts', inboundTrust: {} },
      ],
    };
    const guests = { includeUsers: ['GuestsOrExternalUsers'] };
    tenant['conditionalAccess'] = [
      { id: 'guests-mfa-payroll', displayName: 'Guests need MFA for payroll', state: 'enabled', conditions: { users: guests, applications: { includeApplications: [PAYROLL.id] } }, grantControls: { builtInControls: ['mfa'] } },
      { id: 'device-secure', displayName: 'Compliant devices only', state: 'enabled', conditions: { users: guests, applications: { includeApplications: [SECURE.id] } }, grantControls: { builtInControls: ['compliantDevice'] } },
    ];
    portico = await startTestPortico({ backend: 'sqlite', port, tenantFiles: { contoso: stringify(tenant) } });
    for (const index of [0, 1, 2]) trustInForce.set(index, '{}');
  });
  after(async () => {
    await portico?.dispose();
    await Promise.all([saml?.close(), microsoft?.stop()]);
  });

  async function setTrust(trust: Case['trust']): Promise<void> {
    const { partner, ...inboundTrust } = trust;
    const wanted = JSON.stringify(inboundTrust);
    if (trustInForce.get(partner.index) === wanted) return;
    await editTenant(portico, (doc) => doc.setIn(['crossTenantAccess', 'partners', partner.index, 'inboundTrust'], doc.createNode(inboundTrust)));
    trustInForce.set(partner.index, wanted);
  }

  /** Through the SAML stand-in's login page, then its POST page back to Portico's ACS, as a browser would. */
  async function viaSaml(s: SignInSession, email: string, method: 'pwd' | 'mfa'): Promise<void> {
    await s.submit('email', { email });
    assert.ok(s.url.href.startsWith(saml.ssoUrl), `sent to the SAML IdP, not ${s.url.href}`);
    const pending = /name="pending" value="([^"]+)"/.exec(s.page)?.[1];
    assert.ok(pending, 'the SAML IdP shows its login page');
    const login = await s.browser.fetch(`${saml.url}/sso/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ pending, email, method, action: 'signin' }),
    });
    const postPage = await login.text();
    assert.equal(login.status, 200, postPage);
    const acs = unescapeHtml(/<form method="post" action="([^"]+)"/.exec(postPage)?.[1] ?? '');
    const fields = new URLSearchParams([...postPage.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)].map((m) => [m[1]!, unescapeHtml(m[2]!)]));
    assert.ok(fields.get('SAMLResponse') && fields.get('RelayState'), 'the IdP posts a Response with the RelayState');
    // Posted cross-site: a browser sends no SameSite=Lax cookie with it, so none is sent here.
    const posted = await fetch(acs, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: fields, redirect: 'manual' });
    assert.ok(posted.status >= 300 && posted.status < 400, `the ACS accepted the Response (${posted.status}: ${(await posted.text()).slice(0, 300)})`);
    await s.follow(locationOf(posted, acs));
  }

  async function signIn(c: Case): Promise<SignInSession> {
    const s = await session(portico, c.app);
    if (c.upstream.kind === 'saml') {
      await s.start();
      await viaSaml(s, c.upstream.email, c.upstream.method);
    } else {
      await s.start({ idp: 'microsoft', login_hint: c.upstream.email });
      assert.ok(s.url.href.startsWith(microsoft.authority), `sent to Microsoft, not ${s.url.href}`);
      await s.follow(await signInUpstream({ start: s.url, until: `http://127.0.0.1:${portico.port}/contoso/v2.0/federation/`, browser: s.browser, account: c.upstream.account }));
    }
    return s;
  }

  /** Enrols an authenticator app from the enrolment page the session is on. */
  async function enrol(s: SignInSession): Promise<void> {
    assert.match(s.page, /data-testid="totp-qr"/, `Portico's enrolment page (at ${s.url.pathname})`);
    const secret = /data-testid="totp-secret">([^<]+)</.exec(s.page)![1]!.replace(/\s+/g, '');
    const confirmed = await s.submit('mfa', { code: await totpCodeAt(secret, Date.now()) });
    assert.equal(confirmed.status, 200);
    await s.submit('mfa/done', {});
  }

  for (const c of CASES) {
    it(c.name, async () => {
      await setTrust(c.trust);
      const user = await guest(portico, c.upstream.email);
      const s = await signIn(c);

      if (c.outcome === 'device-required') {
        assert.match(s.page, /data-testid="device-required"/);
        assert.match(s.page, /compliant device/);
        assert.equal(s.atApp, false, 'no code reaches the app');
      } else if (c.outcome === 'enrolment') {
        assert.equal(s.atApp, false, 'the guest is asked for a second factor');
        assert.match(s.page, /data-testid="totp-secret"/, 'the enrolment page, with the key in text');
        await enrol(s);
      } else {
        assert.ok(s.atApp, `no prompt (at ${s.url.pathname}): ${s.page.slice(0, 200)}`);
      }

      if (c.token) {
        const claims = (await s.tokens()).claims()!;
        assert.equal(claims.sub, user.id);
        assert.deepEqual((Array.isArray(claims.amr) ? claims.amr.map(String) : []).sort(), [...c.token.amr].sort(), 'amr');
        assert.equal(claims.acr, c.token.acr);
        assert.equal(claims['device_compliant'], c.token.deviceCompliant, 'device_compliant only when trusted');
        assert.equal(claims['device_hybrid_joined'], undefined);
      }

      const [entry] = await signInsOf(portico, user.id, DAEMON);
      assert.ok(entry, 'the sign-in is in the log');
      assert.equal(entry.status.errorCode, c.outcome === 'device-required' ? 53000 : 0);
      assert.equal(entry.appId, c.app.id);
      assert.equal(entry.authenticationRequirement, c.authenticationRequirement);
      const inbound = entry.policyTrace?.find((e) => e.layer === 'crossTenantAccess.inbound' && /^home organisation: /.test(e.detail ?? ''));
      assert.match(inbound?.detail ?? '', c.organisation, JSON.stringify(entry.policyTrace));
      assert.deepEqual(partnerClaims(entry.policyTrace, c.traceRule), { trusted: [...c.trusted], dropped: [...c.dropped] }, JSON.stringify(entry.policyTrace));
      const porticoMfa = entry.policyTrace?.some((e) => e.layer === 'crossTenantAccess.inboundTrust' && e.rule === 'portico');
      assert.equal(porticoMfa, c.outcome === 'enrolment', "Portico's own second factor is traced exactly when it was used");
      if (c.authenticationRequirement === 'multiFactorAuthentication') {
        const source = c.outcome === 'enrolment' ? 'portico' : c.upstream.kind === 'saml' ? saml.entityId : `https://sts.windows.net/${ADATUM_TID}/`;
        assert.equal(entry.authenticationDetails?.[0]?.source, source, 'who performed the MFA');
      }
    });
  }
});
