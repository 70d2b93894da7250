import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { CONSUMERS_TENANT_ID, microsoftConnector } from '../../../../src/connectors/microsoft/index.ts';
import type { RedirectConnector } from '../../../../src/connectors/types.ts';
import { CONSUMERS_TENANT, startMicrosoftStandIn, type MicrosoftStandIn } from '../../../helpers/upstreams/index.ts';
import { asRedirect, callbackUrlFor, connectorDeps, contextFor, reachCallback, rejectsWith, signIn, withParams } from '../oidc/harness.ts';

const FABRIKAM = 'a3f1c2d4-0000-4000-8000-00000000fab1';
const NORTHWIND = 'b7e2d3c1-0000-4000-8000-0000000000a2';

let ms: MicrosoftStandIn;
let serial = 0;

async function connector(audience: 'consumers' | 'organizations' | 'common', extra: Record<string, unknown> = {}): Promise<RedirectConnector> {
  const id = `ms-${audience}-${(serial += 1)}`;
  ms.registerClient({ clientId: '00000000-0000-0000-0000-00000000c11e', clientSecret: 'ms-secret', redirectUris: [callbackUrlFor(id)] });
  const config = microsoftConnector.schema.parse({
    id,
    kind: 'microsoft',
    audience,
    clientId: '00000000-0000-0000-0000-00000000c11e',
    clientSecret: 'ms-secret',
    authority: ms.authority,
    ...extra,
  });
  return asRedirect(await microsoftConnector.create(config, connectorDeps()));
}

describe('microsoft connector', () => {
  before(async () => {
    ms = await startMicrosoftStandIn({
      tenants: [
        { id: FABRIKAM, name: 'Fabrikam', domains: ['fabrikam.example'] },
        { id: NORTHWIND, name: 'Northwind', domains: ['northwind.example'] },
      ],
      accounts: [
        { id: 'hank-sub', tenantId: FABRIKAM, email: 'Hank@Fabrikam.example', name: 'Hank', emailDomainVerified: true },
        { id: 'ivy-sub', tenantId: FABRIKAM, email: 'ceo@contoso.example', name: 'Ivy (admin-typed email)' },
        { id: 'jo-sub', tenantId: NORTHWIND, email: 'jo@northwind.example', name: 'Jo', emailDomainVerified: true },
        { id: 'kim-sub', tenantId: NORTHWIND, username: 'kim@northwind.example', name: 'Kim (no email)' },
        { id: 'liam-sub', tenantId: CONSUMERS_TENANT, email: 'liam@outlook.example', name: 'Liam' },
      ],
    });
  });
  after(() => ms.stop());
  beforeEach(() => ms.resetKnobs());

  it('signs in a work account through the organizations endpoint, with the tenant-specific issuer', async () => {
    const org = await connector('organizations');
    assert.equal(org.group, 'federation');
    const identity = await signIn(org, { account: 'hank-sub' });
    assert.equal(identity.kind, 'microsoft');
    assert.equal(identity.issuer, ms.tenantIssuer(FABRIKAM));
    assert.equal(identity.issuerTenantId, FABRIKAM);
    assert.equal(identity.homeTenantId, FABRIKAM);
    assert.equal(identity.subject, 'hank-sub');
    assert.equal(identity.idp, `https://sts.windows.net/${FABRIKAM}/`);
    assert.equal(identity.email, 'Hank@fabrikam.example');
    assert.equal(identity.emailVerified, true);
    assert.match(String(identity.rawClaims['oid']), /^[0-9a-f-]{36}$/);
  });

  it('does not trust a work account email without xms_edov (the nOAuth pattern)', async () => {
    const identity = await signIn(await connector('organizations'), { account: 'ivy-sub' });
    assert.equal(identity.email, 'ceo@contoso.example');
    assert.equal(identity.emailVerified, false);
  });

  it('falls back to preferred_username as an unverified email', async () => {
    const identity = await signIn(await connector('organizations'), { account: 'kim-sub' });
    assert.equal(identity.email, 'kim@northwind.example');
    assert.equal(identity.emailVerified, false);
  });

  it('signs in personal accounts through consumers as idp live.com, group social', async () => {
    const consumers = await connector('consumers');
    assert.equal(consumers.group, 'social');
    const identity = await signIn(consumers, { account: 'liam-sub' });
    assert.equal(identity.issuer, ms.tenantIssuer(CONSUMERS_TENANT_ID));
    assert.equal(identity.issuerTenantId, CONSUMERS_TENANT_ID);
    assert.equal(identity.idp, 'live.com');
    assert.equal(identity.homeTenantId, undefined);
    assert.equal(identity.email, 'liam@outlook.example');
    assert.equal(identity.emailVerified, true);
  });

  it('signs in both kinds through common, routed by login_hint to the right tenant', async () => {
    const common = await connector('common');
    assert.equal(common.group, 'social');
    const personal = await signIn(common, { account: 'liam-sub' });
    assert.equal(personal.idp, 'live.com');
    // No account picked: the hint alone leads to Northwind, whose page preselects the hinted account.
    const work = await signIn(common, { context: { loginHint: 'jo@northwind.example' } });
    assert.equal(work.subject, 'jo-sub');
    assert.equal(work.issuer, ms.tenantIssuer(NORTHWIND));
  });

  it("refuses a token whose iss is not the template with the token's own tid", async () => {
    const org = await connector('organizations');
    ms.knobs.idTokenClaims = { tid: NORTHWIND };
    await rejectsWith(signIn(org, { account: 'hank-sub' }), 'invalid_response', /unexpected iss/);
    ms.knobs.idTokenClaims = { iss: `${ms.authority}/{tenantid}/v2.0` };
    await rejectsWith(signIn(org, { account: 'hank-sub' }), 'invalid_response', /unexpected iss/);
    ms.knobs.idTokenClaims = { iss: `${ms.authority}/organizations/v2.0`, tid: 'organizations' };
    await rejectsWith(signIn(org, { account: 'hank-sub' }), 'invalid_response', /unexpected iss/);
    ms.knobs.idTokenClaims = {};
    ms.knobs.removeIdTokenClaims = ['tid'];
    await rejectsWith(signIn(org, { account: 'hank-sub' }), 'invalid_response', /unexpected iss/);
  });

  it('refuses a personal-account token on the organizations endpoint and a work token on consumers', async () => {
    const org = await connector('organizations');
    ms.knobs.idTokenClaims = { tid: CONSUMERS_TENANT, iss: ms.tenantIssuer(CONSUMERS_TENANT) };
    await rejectsWith(signIn(org, { account: 'hank-sub' }), 'invalid_response');
    const consumers = await connector('consumers');
    ms.knobs.idTokenClaims = { tid: FABRIKAM, iss: ms.tenantIssuer(FABRIKAM) };
    await rejectsWith(signIn(consumers, { account: 'liam-sub' }), 'invalid_response', /unexpected iss/);
  });

  it("refuses an iss response parameter naming another tenant than the token's", async () => {
    const org = await connector('organizations');
    const attempt = await reachCallback(org, { account: 'hank-sub' });
    assert.equal(attempt.callback.searchParams.get('iss'), ms.tenantIssuer(FABRIKAM));
    await rejectsWith(org.handleCallback(withParams(attempt.callback, { iss: 'https://evil.example/v2.0' }), attempt.state, attempt.context), 'invalid_response', /another issuer/);
    const other = await reachCallback(org, { account: 'hank-sub' });
    await rejectsWith(org.handleCallback(withParams(other.callback, { iss: ms.tenantIssuer(NORTHWIND) }), other.state, other.context), 'invalid_response', /unexpected iss/);
  });

  it('refuses tenants outside allowedTenants', async () => {
    const org = await connector('organizations', { allowedTenants: [NORTHWIND] });
    assert.equal((await signIn(org, { account: 'jo-sub' })).issuerTenantId, NORTHWIND);
    await rejectsWith(signIn(org, { account: 'hank-sub' }), 'invalid_response', /allowedTenants/);
  });

  it('refuses a multi-tenant discovery document whose issuer is not the template', async () => {
    const org = await connector('organizations');
    ms.knobs.discovery['issuer'] = ms.tenantIssuer(FABRIKAM);
    await rejectsWith(org.start(contextFor(org.id)), 'upstream_unavailable', /issuer/);
  });

  it('turns a cancel at the account picker into upstream_denied', async () => {
    const org = await connector('organizations');
    const attempt = await reachCallback(org, { cancel: true });
    await rejectsWith(org.handleCallback(attempt.callback, attempt.state, attempt.context), 'upstream_denied');
  });

  it('still verifies signatures and keys on the multi-tenant endpoint', async () => {
    const org = await connector('organizations');
    ms.knobs.idTokenSigning = 'none';
    await rejectsWith(signIn(org, { account: 'hank-sub' }), 'invalid_response', /alg none/);
    ms.knobs.idTokenSigning = 'current';
    await ms.rotateKey();
    assert.equal((await signIn(org, { account: 'hank-sub' })).subject, 'hank-sub');
  });
});

describe('microsoft connector: config schema', () => {
  const base = { id: 'ms', kind: 'microsoft', clientId: 'portico', clientSecret: 'x' };
  it('needs an audience, and allowedTenants only beside a tenant-bearing audience', () => {
    assert.equal(microsoftConnector.schema.safeParse(base).success, false);
    assert.equal(microsoftConnector.schema.parse({ ...base, audience: 'common' }).authority, 'https://login.microsoftonline.com');
    assert.equal(microsoftConnector.schema.safeParse({ ...base, audience: 'consumers', allowedTenants: [FABRIKAM] }).success, false);
    assert.equal(microsoftConnector.schema.safeParse({ ...base, audience: 'organizations', allowedTenants: ['Fabrikam'] }).success, false);
    assert.equal(microsoftConnector.schema.safeParse({ ...base, audience: 'organizations', allowedTenants: [FABRIKAM] }).success, true);
  });
});
