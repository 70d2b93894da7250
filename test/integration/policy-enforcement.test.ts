/**
 * Collaboration policy at each point a guest enters: creating an invitation (Graph error naming
 * the rule, nothing left behind), redeeming it (checked again after a live edit), every sign-in
 * (cross-tenant app blocks, conditional access block / report-only / device requirements with and
 * without trusted device claims from a real OIDC stand-in) and every token refresh. Real SMTP,
 * real relying party (openid-client), the sign-in log and directory audit read through the API.
 */
import assert from 'node:assert/strict';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as client from 'openid-client';
import { parse, parseDocument, stringify } from 'yaml';
import type { SignIn } from '../../src/directory/sign-in-log.ts';
import { federationTenantYaml } from '../helpers/federation-tenant.ts';
import { freePort } from '../helpers/http.ts';
import { startTestPortico, type TestPortico } from '../helpers/portico.ts';
import { passcodeIn, type SignInSession } from '../helpers/sign-in.ts';
import { startSmtpSink, type SmtpSink } from '../helpers/smtp.ts';
import { signInUpstream, startOidcStandIn, type OidcStandIn } from '../helpers/upstreams/index.ts';
import { DAEMON, GraphClient, OpenApiChecker, appToken, errorCode, errorMessage } from './graph-harness.ts';
import { editTenant, guest, passcodeSignIn, session, signIns, smtpYaml, type WebApp } from './policy-harness.ts';

const SEED = new URL('../../config/examples/seed/', import.meta.url).pathname;
const REDIRECT = 'https://apps.contoso.example/welcome';

const correlationIdOn = (page: string): string => {
  const match = /data-testid="correlation-id">([^<]+)</.exec(page);
  assert.ok(match, 'the page shows a correlation id');
  return match[1]!;
};

/** The sign-in log entry written by the request whose page showed `page`. */
async function entryFor(portico: TestPortico, page: string, errorCode_: number): Promise<SignIn> {
  const correlationId = correlationIdOn(page);
  const entry = (await signIns(portico, `status/errorCode eq ${errorCode_}`, DAEMON)).find((e) => e.correlationId === correlationId);
  assert.ok(entry, `a sign-in log entry with errorCode ${errorCode_} for correlation id ${correlationId}`);
  return entry;
}

const ruleIn = (trace: readonly { rule: string; effect: string }[] | undefined, rule: string | RegExp, effect: string): boolean =>
  (trace ?? []).some((e) => (typeof rule === 'string' ? e.rule === rule : rule.test(e.rule)) && e.effect === effect);

describe('collaboration policy on the seed config (config/examples/seed)', () => {
  const INTRANET: WebApp = { id: 'intranet', secret: 'intranet-secret', redirectUri: 'http://localhost:8080/callback' };
  let smtp: SmtpSink;
  let portico: TestPortico;
  let configDir: string;
  let graph: GraphClient;
  let token: string;

  before(async () => {
    smtp = await startSmtpSink();
    configDir = await mkdtemp(join(tmpdir(), 'portico-seed-'));
    await cp(SEED, configDir, { recursive: true });
    const broker = await readFile(join(SEED, 'portico.yaml'), 'utf8');
    await writeFile(join(configDir, 'portico.yaml'), `${broker}storage:\n  backend: sqlite\n${smtpYaml(smtp)}`);
    // The seed has only payroll (MFA for guests); an app without conditional access shows that
    // Fabrikam guests who redeemed before the block keep signing in.
    const tenantFile = join(configDir, 'tenants/contoso.yaml');
    const tenant = parseDocument(await readFile(tenantFile, 'utf8'));
    tenant.addIn(['apps'], { id: INTRANET.id, name: 'Contoso intranet', type: 'web', secret: `\${env:INTRANET_SECRET:-${INTRANET.secret}}`, redirectUris: [INTRANET.redirectUri] });
    await writeFile(tenantFile, String(tenant));
    portico = await startTestPortico({ backend: 'sqlite', configDir });
    graph = new GraphClient(portico, await OpenApiChecker.fetch(portico));
    token = await appToken(portico, DAEMON);
  });
  after(async () => {
    await portico?.dispose();
    await smtp?.close();
    await rm(configDir, { recursive: true, force: true });
  });

  const inviteCall = (email: string) =>
    graph.call('POST', '/invitations', { token, body: { invitedUserEmailAddress: email, inviteRedirectUrl: REDIRECT, sendInvitationMessage: true } });

  async function invite(email: string): Promise<{ redeemUrl: string; userId: string }> {
    const response = await inviteCall(email);
    assert.equal(response.status, 201, JSON.stringify(response.body));
    await smtp.nextMessageTo(email);
    return { redeemUrl: String(response.body!['inviteRedeemUrl']), userId: String((response.body!['invitedUser'] as { id: string }).id) };
  }

  /** Opens the mailed link and enters the passcode; returns the page that follows. */
  async function redeem(redeemUrl: string, email: string): Promise<{ s: SignInSession; response: Response }> {
    const s = await session(portico, { ...INTRANET, redirectUri: REDIRECT });
    await s.follow(new URL(redeemUrl));
    assert.match(s.page, /Enter your code/);
    const response = await s.submit('code', { code: passcodeIn((await smtp.nextMessageTo(email)).parsed.text ?? '') });
    return { s, response };
  }

  it('refuses invitations to blocked domains (Examples 1 and 2) with a Graph error naming the rule, and leaves nothing behind', async () => {
    for (const email of ['someone@adatum.com', 'bob@fabrikam.com']) {
      const refused = await inviteCall(email);
      assert.equal(refused.status, 403, email);
      assert.equal(errorCode(refused), 'Authorization_RequestDenied');
      assert.match(errorMessage(refused), /externalCollaboration\.blockedDomains/);

      const users = await graph.call('GET', `/users?$filter=${encodeURIComponent(`mail eq '${email}'`)}`, { token });
      assert.equal(users.status, 200);
      assert.deepEqual(users.body!['value'], [], `no user was created for ${email}`);
      assert.ok(!smtp.received.some((mail) => mail.rcptTo.includes(email)), `no mail went to ${email}`);

      const audits = (await graph.call('GET', '/auditLogs/directoryAudits', { token })).body!['value'] as Record<string, unknown>[];
      const entry = audits.find((a) => a['correlationId'] === refused.headers.get('x-request-id'));
      assert.ok(entry, 'the refusal is in the directory audit, under the request id');
      assert.equal(entry['result'], 'failure');
      assert.match(String(entry['resultReason']), /externalCollaboration\.blockedDomains/);
      const details = entry['additionalDetails'] as { key: string; value: string }[];
      const trace = JSON.parse(details.find((d) => d.key === 'policyTrace')!.value) as { rule: string; effect: string }[];
      assert.ok(ruleIn(trace, 'externalCollaboration.blockedDomains', 'deny'), JSON.stringify(trace));
    }

    const allowed = await inviteCall('carol@example.org');
    assert.equal(allowed.status, 201);
    assert.equal((allowed.body!['invitedUser'] as { id: string }).id.length > 0, true);
    assert.match((await smtp.nextMessageTo('carol@example.org')).parsed.text ?? '', /redeem/);
  });

  it('refuses to redeem an invitation to a domain blocked since, while guests who redeemed before keep signing in', async () => {
    const erin = await invite('erin@northwind.example');
    const dave = await invite('dave@northwind.example');
    const accepted = await redeem(erin.redeemUrl, 'erin@northwind.example');
    assert.match(accepted.s.page, /data-testid="consent"/);
    await accepted.s.submit('consent', {});
    assert.ok(accepted.s.atApp, 'erin landed on the invitation redirect URL');
    assert.equal((await portico.portico.users.get('contoso', erin.userId))?.externalUserState, 'Accepted');

    await editTenant(portico, (doc) => doc.setIn(['externalCollaboration', 'blockedDomains'], ['adatum.com', 'fabrikam.com', 'northwind.example']));

    const blocked = await redeem(dave.redeemUrl, 'dave@northwind.example');
    assert.equal(blocked.response.status, 403);
    assert.match(blocked.s.page, /data-testid="policy-blocked"/);
    assert.doesNotMatch(blocked.s.page, /data-testid="consent"/);
    const daveNow = await portico.portico.users.get('contoso', dave.userId);
    assert.equal(daveNow?.externalUserState, 'PendingAcceptance', 'the invitation stays pending');
    assert.deepEqual(daveNow?.identities, [], 'no identity was linked');
    const entry = await entryFor(portico, blocked.s.page, 53003);
    assert.equal(entry.userId, dave.userId, 'the entry names the invited guest');
    assert.ok(ruleIn(entry.policyTrace, 'externalCollaboration.blockedDomains', 'deny'), JSON.stringify(entry.policyTrace));

    // Erin redeemed before the block: she keeps signing in, as Fabrikam's existing guests do (Example 2).
    const fabrikamGuest = await guest(portico, 'alice@fabrikam.com', 'Accepted');
    for (const [email, userId] of [['erin@northwind.example', erin.userId], ['alice@fabrikam.com', fabrikamGuest.id]] as const) {
      const { session: s } = await passcodeSignIn(portico, smtp, INTRANET, email);
      assert.equal((await s.tokens()).claims()?.sub, userId, `${email} signed in`);
    }
  });
});

describe('collaboration policy at sign-in and refresh', () => {
  const WEB: WebApp = { id: 'contoso-web', secret: 'demo-web-secret', redirectUri: 'http://localhost:8080/callback' };
  const app = (id: string): WebApp => ({ id, secret: 'test-app-secret', redirectUri: `http://localhost:8091/${id}` });
  const HR = app('hr');
  const VAULT = app('vault');
  const WIKI = app('wiki');
  const SECURE = app('secure');
  let smtp: SmtpSink;
  let northwind: OidcStandIn;
  let portico: TestPortico;

  before(async () => {
    smtp = await startSmtpSink();
    const port = await freePort();
    northwind = await startOidcStandIn({
      accounts: [{ id: 'n-nina', email: 'nina@northwind.example', name: 'Nina Northwind', claims: { device_compliant: true } }],
      clients: [{ clientId: 'portico-northwind', clientSecret: 'northwind-secret', redirectUris: [`http://127.0.0.1:${port}/contoso/v2.0/federation/northwind/callback`] }],
      claimsInIdToken: true,
    });
    const tenant = parse(
      federationTenantYaml({
        northwind: { issuer: northwind.issuer, clientId: 'portico-northwind', clientSecret: 'northwind-secret' },
        apps: [HR, VAULT, WIKI, SECURE],
        graphDaemon: true,
      }),
    ) as { apps: { id: string; graphRoles?: string[] }[] } & Record<string, unknown>;
    tenant.apps.find((a) => a.id === DAEMON.id)!.graphRoles!.push('AuditLog.Read.All');
    const guests = { includeUsers: ['GuestsOrExternalUsers'] };
    tenant['crossTenantAccess'] = {
      partners: [
        { partner: 'fabrikam', b2bCollaborationInbound: { applications: { accessType: 'blocked', targets: [{ target: HR.id, targetType: 'application' }] } } },
        { partner: 'northwind', inboundTrust: { isCompliantDeviceAccepted: true } },
      ],
    };
    tenant['conditionalAccess'] = [
      { id: 'block-guests-vault', displayName: 'No guests in the vault', state: 'enabled', conditions: { users: guests, applications: { includeApplications: [VAULT.id] } }, grantControls: { builtInControls: ['block'] } },
      { id: 'trial-block-wiki', displayName: 'Trial: no guests in the wiki', state: 'reportOnly', conditions: { users: guests, applications: { includeApplications: [WIKI.id] } }, grantControls: { builtInControls: ['block'] } },
      { id: 'device-secure', displayName: 'Compliant devices only', state: 'enabled', conditions: { users: guests, applications: { includeApplications: [SECURE.id] } }, grantControls: { builtInControls: ['compliantDevice'] } },
    ];
    portico = await startTestPortico({ backend: 'sqlite', port, brokerYaml: smtpYaml(smtp), tenantFiles: { contoso: stringify(tenant) } });
  });
  after(async () => {
    await portico?.dispose();
    await northwind?.stop();
    await smtp?.close();
  });

  /** Nina through Northwind's OIDC IdP, which says her device is compliant. */
  async function ninaSignsIn(target: WebApp): Promise<SignInSession> {
    const s = await session(portico, target);
    await s.start();
    await s.submit('email', { email: 'nina@northwind.example' });
    assert.ok(s.url.href.startsWith(northwind.issuer), `sent to Northwind, not ${s.url.href}`);
    const callback = await signInUpstream({ start: s.url, until: `http://127.0.0.1:${portico.port}/contoso/v2.0/federation/`, browser: s.browser, account: 'n-nina' });
    await s.follow(callback);
    return s;
  }

  it('blocks a partner’s guests from an app the inbound settings close to them, and lets them into another', async () => {
    const bob = await guest(portico, 'bob@fabrikam.com');
    const refused = await passcodeSignIn(portico, smtp, HR, 'bob@fabrikam.com');
    assert.equal(refused.response.status, 403);
    assert.match(refused.session.page, /data-testid="policy-blocked"/);
    assert.equal(refused.session.atApp, false);
    const entry = await entryFor(portico, refused.session.page, 53003);
    assert.equal(entry.userId, bob.id);
    assert.equal(entry.appId, HR.id);
    assert.ok(ruleIn(entry.policyTrace, 'crossTenantAccess.partners[0] (fabrikam).b2bCollaborationInbound.applications', 'deny'), JSON.stringify(entry.policyTrace));

    const { session: s } = await passcodeSignIn(portico, smtp, WEB, 'bob@fabrikam.com');
    assert.equal((await s.tokens()).claims()?.sub, bob.id);
  });

  it('enforces a conditional access block, and only reports a report-only one', async () => {
    const gina = await guest(portico, 'gina@adatum.com');
    const blocked = await passcodeSignIn(portico, smtp, VAULT, 'gina@adatum.com');
    assert.equal(blocked.response.status, 403);
    assert.match(blocked.session.page, /data-testid="policy-blocked"/);
    const refusal = await entryFor(portico, blocked.session.page, 53003);
    assert.equal(refusal.conditionalAccessStatus, 'failure');
    assert.ok(ruleIn(refusal.policyTrace, 'conditionalAccess[block-guests-vault]', 'deny'));

    const { session: s } = await passcodeSignIn(portico, smtp, WIKI, 'gina@adatum.com');
    assert.equal((await s.tokens()).claims()?.sub, gina.id, 'a report-only block lets the guest in');
    const [success] = await signIns(portico, `userId eq '${gina.id}' and appId eq '${WIKI.id}'`, DAEMON);
    assert.equal(success?.status.errorCode, 0);
    assert.equal(success?.conditionalAccessStatus, 'notApplied', 'a report-only policy is not applied');
    assert.ok(ruleIn(success?.policyTrace, 'conditionalAccess[trial-block-wiki]', 'reportOnly'), JSON.stringify(success?.policyTrace));
  });

  it('requires a compliant device: only a trusted partner’s device claim meets it', async () => {
    const hal = await guest(portico, 'hal@adatum.com');
    const passcode = await passcodeSignIn(portico, smtp, SECURE, 'hal@adatum.com');
    assert.equal(passcode.response.status, 403);
    assert.match(passcode.session.page, /data-testid="device-required"/);
    assert.match(passcode.session.page, /compliant device/);
    const deviceEntry = await entryFor(portico, passcode.session.page, 53000);
    assert.equal(deviceEntry.userId, hal.id);
    assert.ok(ruleIn(deviceEntry.policyTrace, 'conditionalAccess[device-secure]', 'require'));

    const nina = await guest(portico, 'nina@northwind.example');
    const trusted = await ninaSignsIn(SECURE);
    const claims = (await trusted.tokens()).claims()!;
    assert.equal(claims.sub, nina.id, 'the trusted compliant-device claim meets the policy');
    assert.equal(claims['device_compliant'], true, 'a trusted device claim reaches the token');

    await editTenant(portico, (doc) => doc.setIn(['crossTenantAccess', 'partners', 1, 'inboundTrust', 'isCompliantDeviceAccepted'], false));
    try {
      const untrusted = await ninaSignsIn(SECURE);
      assert.match(untrusted.page, /data-testid="device-required"/);
      assert.equal(untrusted.atApp, false);
      const entry = await entryFor(portico, untrusted.page, 53000);
      assert.equal(entry.userId, nina.id);
      assert.ok(entry.policyTrace?.some((e) => e.layer === 'crossTenantAccess.inboundTrust' && /compliant device claim is not trusted/.test(e.detail ?? '')), JSON.stringify(entry.policyTrace));
    } finally {
      await editTenant(portico, (doc) => doc.setIn(['crossTenantAccess', 'partners', 1, 'inboundTrust', 'isCompliantDeviceAccepted'], true));
    }
  });

  it('refuses a refresh once the policy in force blocks the app, and only for that app', async () => {
    const ivy = await guest(portico, 'ivy@adatum.com');
    const offline = { scope: 'openid profile email offline_access' };
    const web = await passcodeSignIn(portico, smtp, WEB, 'ivy@adatum.com', offline);
    const webTokens = await web.session.tokens();
    const hr = await passcodeSignIn(portico, smtp, HR, 'ivy@adatum.com', offline);
    const hrTokens = await hr.session.tokens();
    assert.ok(webTokens.refresh_token && hrTokens.refresh_token, 'both apps got refresh tokens');
    const refreshed = await client.refreshTokenGrant(web.session.config, webTokens.refresh_token);
    assert.equal(refreshed.claims()?.sub, ivy.id, 'refresh works while the policy allows');

    await editTenant(portico, (doc) =>
      doc.addIn(['conditionalAccess'], {
        id: 'block-guests-web',
        displayName: 'No guests in the intranet',
        state: 'enabled',
        conditions: { users: { includeUsers: ['GuestsOrExternalUsers'] }, applications: { includeApplications: [WEB.id] } },
        grantControls: { builtInControls: ['block'] },
      }),
    );
    try {
      const refusal = await client.refreshTokenGrant(web.session.config, refreshed.refresh_token!).then(
        () => assert.fail('the refresh was allowed'),
        (error: unknown) => error as { error?: string },
      );
      assert.equal(refusal.error, 'invalid_grant');
      assert.match(portico.logs.text, /"msg":"refresh refused by policy"/);
      const other = await client.refreshTokenGrant(hr.session.config, hrTokens.refresh_token);
      assert.equal(other.claims()?.sub, ivy.id, 'another app keeps refreshing');
      assert.ok(other.access_token);
    } finally {
      await editTenant(portico, (doc) => doc.deleteIn(['conditionalAccess', 3]));
    }
  });
});
