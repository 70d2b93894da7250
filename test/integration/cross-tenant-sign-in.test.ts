/**
 * Two tenants of one Portico as partners: a member of `fabrikam` signs in to a `contoso` app
 * through contoso's `oidc` identity provider pointed at fabrikam's issuer. Fabrikam proves who
 * they are with a mailed passcode (real SMTP sink), contoso maps them to a guest, and both
 * tenants' collaboration settings decide: fabrikam's outbound, contoso's inbound (by fabrikam's
 * own groups). Settings change between cases by editing the tenant files and reloading, as the
 * file watch would.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import * as client from 'openid-client';
import { parse, stringify } from 'yaml';
import type { SignIn } from '../../src/directory/sign-in-log.ts';
import type { User } from '../../src/directory/users.ts';
import { freePort } from '../helpers/http.ts';
import { EXAMPLE_CONFIG, startTestPortico, type TestPortico } from '../helpers/portico.ts';
import { relyingParty } from '../helpers/relying-party.ts';
import { passcodeIn, SignInSession } from '../helpers/sign-in.ts';
import { startSmtpSink, type SmtpSink } from '../helpers/smtp.ts';
import { DAEMON, appToken } from './graph-harness.ts';
import { editTenant, guest, signIns, smtpYaml, type WebApp } from './policy-harness.ts';

const WEB: WebApp = { id: 'contoso-web', secret: 'demo-web-secret', redirectUri: 'http://localhost:8080/callback' };
const PORTAL: WebApp = { id: 'contoso-portal', secret: 'portal-secret', redirectUri: 'http://localhost:8090/callback' };
/** Contoso's connector for fabrikam, and the app registered for it in fabrikam's tenant. */
const CONNECTOR_ID = 'fabrikam-portico';
const FEDERATION_APP = { id: 'contoso-federation', secret: 'contoso-federation-secret' };

/** Fabrikam: its own domain, email passcodes on by default, and an app for contoso's federation. */
const fabrikamYaml = (port: number): string => `id: fabrikam
displayName: Fabrikam
domains: [fabrikam.example]
apps:
  - id: ${FEDERATION_APP.id}
    name: Contoso (guest access)
    type: web
    secret: \${env:FABRIKAM_CONTOSO_FEDERATION_SECRET:-${FEDERATION_APP.secret}}
    redirectUris: [http://127.0.0.1:${port}/contoso/v2.0/federation/${CONNECTOR_ID}/callback]
crossTenantAccess:
  partners: []
`;

/** The example contoso tenant with an `oidc` identity provider for fabrikam and a second app. */
async function contosoYaml(port: number): Promise<string> {
  const tenant = parse(await readFile(`${EXAMPLE_CONFIG}tenants/contoso.yaml`, 'utf8')) as { identityProviders: unknown[]; apps: unknown[] };
  tenant.identityProviders.push({
    id: CONNECTOR_ID,
    kind: 'oidc',
    displayName: 'Fabrikam',
    domains: ['fabrikam.example'],
    issuer: `http://127.0.0.1:${port}/fabrikam/v2.0`,
    clientId: FEDERATION_APP.id,
    clientSecret: `\${env:CONTOSO_FABRIKAM_SECRET:-${FEDERATION_APP.secret}}`,
  });
  tenant.apps.push({ id: PORTAL.id, name: 'Contoso portal', type: 'web', secret: `\${env:CONTOSO_PORTAL_SECRET:-${PORTAL.secret}}`, redirectUris: [PORTAL.redirectUri] });
  return stringify(tenant);
}

const tokenClaims = async (s: SignInSession) => {
  const claims = (await s.tokens()).claims();
  assert.ok(claims, 'the app got an ID token');
  return claims;
};

describe('cross-tenant sign-in between two tenants of one Portico', () => {
  let smtp: SmtpSink;
  let portico: TestPortico;
  let fabrikamIssuer: string;

  before(async () => {
    smtp = await startSmtpSink();
    const port = await freePort();
    fabrikamIssuer = `http://127.0.0.1:${port}/fabrikam/v2.0`;
    portico = await startTestPortico({
      backend: 'sqlite',
      port,
      brokerYaml: smtpYaml(smtp),
      tenantFiles: { contoso: await contosoYaml(port), fabrikam: fabrikamYaml(port) },
    });
  });
  after(async () => {
    await portico?.dispose();
    await smtp?.close();
  });

  /** A member of fabrikam who signs in there with a mailed passcode. */
  const fabrikamMember = async (name: string): Promise<User> => {
    const mail = `${name}@fabrikam.example`;
    return portico.portico.users.create({
      tenantId: 'fabrikam',
      userType: 'Member',
      userPrincipalName: mail,
      displayName: name,
      mail,
      identities: [{ signInType: 'emailAddress', issuer: 'mail', issuerAssignedId: mail }],
    });
  };

  /** The contoso app → fabrikam's passcode page → back to contoso; the response to the code step. */
  const signInAtContoso = async (app: WebApp, email: string, extra: Record<string, string> = {}) => {
    const session = new SignInSession(await relyingParty(portico.issuer, app.id, app.secret), app.redirectUri);
    await session.start({ login_hint: email, ...extra });
    assert.ok(session.url.pathname.startsWith('/fabrikam/v2.0/'), `contoso sent ${email} to fabrikam (at ${session.url.pathname})`);
    assert.match(session.page, /Enter your code/, `${email} is sent a passcode by fabrikam`);
    const mail = await smtp.nextMessageTo(email);
    const response = await session.submit('code', { code: passcodeIn(mail.parsed.text ?? '') });
    return { session, response };
  };

  /** The refusal's sign-in log entry, found by the guest and app. */
  const refusalOf = async (userId: string, appId: string): Promise<SignIn> => {
    const entries = await signIns(portico, `userId eq '${userId}' and appId eq '${appId}'`, DAEMON);
    const refusal = entries.find((entry) => entry.status.errorCode !== 0);
    assert.ok(refusal, `a refused sign-in of ${userId} to ${appId} is logged: ${JSON.stringify(entries)}`);
    return refusal;
  };

  it('signs a fabrikam member in to a contoso app as contoso guest, redeeming the invitation just in time', async () => {
    const member = await fabrikamMember('alice');
    const invited = await guest(portico, member.mail!, 'PendingAcceptance');

    const { session } = await signInAtContoso(WEB, member.mail!);
    assert.match(session.page, /data-testid="consent"/, 'the invited guest accepts the invitation first');
    assert.ok(session.url.pathname.startsWith('/contoso/v2.0/'), 'the consent is contoso\'s');
    await session.submit('consent', {});
    const claims = await tokenClaims(session);
    assert.equal(claims['tid'], 'contoso');
    assert.equal(claims['oid'], invited.id);
    assert.equal(claims.sub, invited.id);
    assert.equal(claims['user_type'], 'Guest');
    assert.equal(claims['idp'], fabrikamIssuer);

    const stored = await portico.portico.users.get('contoso', invited.id);
    assert.equal(stored?.externalUserState, 'Accepted');
    assert.deepEqual(stored?.identities, [{ signInType: 'federated', issuer: fabrikamIssuer, issuerAssignedId: member.id }]);
    const [entry] = await signIns(portico, `userId eq '${invited.id}'`, DAEMON);
    assert.equal(entry?.status.errorCode, 0);
    assert.ok(
      entry?.policyTrace?.some((e) => e.layer === 'crossTenantAccess.inbound' && /tenant 'fabrikam' of this Portico/.test(e.detail ?? '')),
      `contoso recognised fabrikam as the home tenant: ${JSON.stringify(entry?.policyTrace)}`,
    );
  });

  it("refuses when fabrikam's outbound settings block the contoso app, and lets the member into another one", async () => {
    const member = await fabrikamMember('bob');
    const invited = await guest(portico, member.mail!, 'PendingAcceptance');
    await editTenant(
      portico,
      (doc) =>
        doc.setIn(['crossTenantAccess', 'partners'], [
          {
            tenant: 'contoso',
            b2bCollaborationOutbound: { applications: { accessType: 'blocked', targets: [{ target: WEB.id, targetType: 'application' }] } },
          },
        ]),
      'fabrikam',
    );
    try {
      const blocked = await signInAtContoso(WEB, member.mail!);
      assert.equal(blocked.response.status, 403);
      assert.match(blocked.session.page, /data-testid="policy-blocked"/);
      assert.ok(blocked.session.url.pathname.startsWith('/contoso/v2.0/'), 'contoso refuses, after fabrikam proved who it is');
      assert.equal(blocked.session.atApp, false);
      const refusal = await refusalOf(invited.id, WEB.id);
      const outbound = refusal.policyTrace?.find((e) => e.layer === 'crossTenantAccess.outbound' && e.effect === 'deny');
      assert.ok(outbound, JSON.stringify(refusal.policyTrace));
      assert.equal(outbound.rule, 'fabrikam: crossTenantAccess.partners[0] (contoso).b2bCollaborationOutbound.applications');
      assert.equal((await portico.portico.users.get('contoso', invited.id))?.externalUserState, 'PendingAcceptance', 'a refused sign-in redeems nothing');

      const other = await signInAtContoso(PORTAL, member.mail!);
      assert.match(other.session.page, /data-testid="consent"/);
      await other.session.submit('consent', {});
      assert.equal((await tokenClaims(other.session))['oid'], invited.id);

      // The explanation agrees with enforcement: the guest is fabrikam's, and fabrikam's outbound block is named.
      const explained = await fetch(`http://127.0.0.1:${portico.port}/graph/v1.0/policies/explain`, {
        method: 'POST',
        headers: { authorization: `Bearer ${await appToken(portico, DAEMON)}`, 'content-type': 'application/json' },
        body: JSON.stringify({ user: invited.id, app: WEB.id }),
      });
      assert.equal(explained.status, 200, await explained.clone().text());
      const explanation = (await explained.json()) as { organisation: { kind: string; id: string }; signIn: { effect: string; denial?: { rule: string } } };
      assert.deepEqual([explanation.organisation.kind, explanation.organisation.id], ['tenant', 'fabrikam']);
      assert.equal(explanation.signIn.effect, 'deny');
      assert.equal(explanation.signIn.denial?.rule, 'fabrikam: crossTenantAccess.partners[0] (contoso).b2bCollaborationOutbound.applications');
    } finally {
      await editTenant(portico, (doc) => doc.setIn(['crossTenantAccess', 'partners'], []), 'fabrikam');
    }

    const lifted = await signInAtContoso(WEB, member.mail!);
    assert.equal(lifted.session.atApp, true, 'with the block lifted the app signs the guest in');
    assert.equal((await tokenClaims(lifted.session))['oid'], invited.id);
  });

  it("lets in only the fabrikam group contoso's inbound settings name", async () => {
    const insider = await fabrikamMember('carol');
    const outsider = await fabrikamMember('dave');
    const group = await portico.portico.groups.create({ tenantId: 'fabrikam', displayName: 'Contoso project' });
    await portico.portico.groups.addMember('fabrikam', group.id, insider.id);
    const insiderGuest = await guest(portico, insider.mail!);
    const outsiderGuest = await guest(portico, outsider.mail!);
    await editTenant(portico, (doc) =>
      doc.setIn(['crossTenantAccess', 'partners'], [
        ...((doc.getIn(['crossTenantAccess', 'partners']) as { toJSON(): unknown[] } | undefined)?.toJSON() ?? []),
        { tenant: 'fabrikam', b2bCollaborationInbound: { usersAndGroups: { accessType: 'allowed', targets: [{ target: group.id, targetType: 'group' }] } } },
      ]),
    );

    const inside = await signInAtContoso(WEB, insider.mail!, { scope: 'openid profile email offline_access' });
    assert.equal(inside.session.atApp, true, `the group member gets in (at ${inside.session.url.pathname})`);
    const tokens = await inside.session.tokens();
    assert.equal(tokens.claims()?.['oid'], insiderGuest.id);
    assert.ok(tokens.refresh_token, 'offline_access gave a refresh token');
    // A refresh has no fresh fabrikam identity: the home object id comes from the guest's linked one.
    const refreshed = await client.refreshTokenGrant(inside.session.config, tokens.refresh_token);
    assert.ok(refreshed.access_token, 'the group member refreshes');

    const outside = await signInAtContoso(WEB, outsider.mail!);
    assert.equal(outside.response.status, 403);
    assert.match(outside.session.page, /data-testid="policy-blocked"/);
    const refusal = await refusalOf(outsiderGuest.id, WEB.id);
    assert.ok(
      refusal.policyTrace?.some(
        (e) =>
          e.layer === 'crossTenantAccess.inbound' &&
          /\(fabrikam\)\.b2bCollaborationInbound\.usersAndGroups$/.test(e.rule) &&
          e.effect === 'deny',
      ),
      JSON.stringify(refusal.policyTrace),
    );
    assert.equal((await portico.portico.users.get('contoso', outsiderGuest.id))?.lastSignIn, undefined);

    // Out of the fabrikam group, the insider's next refresh is refused too.
    await portico.portico.groups.removeMember('fabrikam', group.id, insider.id);
    await assert.rejects(client.refreshTokenGrant(inside.session.config, refreshed.refresh_token ?? tokens.refresh_token), (error: unknown) => {
      assert.equal((error as { error?: string }).error, 'invalid_grant');
      return true;
    });
  });
});
