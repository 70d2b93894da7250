/**
 * A slow, failing or unreachable IdP: every call is bounded by `timeoutSeconds`, failures map to
 * `upstream_unavailable`, and discovery is cached but never caches a failure.
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { oidcConnector } from '../../../../src/connectors/oidc/index.ts';
import type { RedirectConnector } from '../../../../src/connectors/types.ts';
import { ManualClock, type Clock } from '../../../../src/shared/clock.ts';
import { startOidcStandIn, type OidcStandIn } from '../../../helpers/upstreams/index.ts';
import { asRedirect, callbackUrlFor, connectorDeps, contextFor, reachCallback, rejectsWith, signIn } from './harness.ts';

const TIMEOUT_SECONDS = 0.3;
const SLOW_MS = 1500;

let idp: OidcStandIn;
let serial = 0;

async function connector(options: { clock?: Clock; issuer?: string } = {}): Promise<RedirectConnector> {
  const id = `slow-${(serial += 1)}`;
  idp.registerClient({ clientId: 'portico', clientSecret: 'portico-secret', redirectUris: [callbackUrlFor(id)] });
  const config = oidcConnector.schema.parse({
    id,
    kind: 'oidc',
    issuer: options.issuer ?? idp.issuer,
    clientId: 'portico',
    clientSecret: 'portico-secret',
    timeoutSeconds: TIMEOUT_SECONDS,
  });
  return asRedirect(await oidcConnector.create(config, connectorDeps(options.clock ? { clock: options.clock } : {})));
}

/** Runs `work` and returns how long it took, in ms. */
async function timed(work: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await work();
  return performance.now() - started;
}

describe('oidc connector: slow and failing IdPs', () => {
  before(async () => {
    idp = await startOidcStandIn({ accounts: [{ id: 'alice', email: 'alice@fabrikam.example', name: 'Alice' }] });
  });
  after(() => idp.stop());
  beforeEach(() => idp.resetKnobs());

  it('gives up on a slow discovery document after the timeout', async () => {
    const partner = await connector();
    idp.knobs.delayMs.discovery = SLOW_MS;
    const ms = await timed(() => rejectsWith(partner.start(contextFor(partner.id)), 'upstream_unavailable'));
    assert.ok(ms < SLOW_MS - 500, `took ${ms} ms`);
  });

  it('gives up on a slow token endpoint after the timeout', async () => {
    const partner = await connector();
    const attempt = await reachCallback(partner, { account: 'alice' });
    idp.knobs.delayMs.token = SLOW_MS;
    const ms = await timed(() => rejectsWith(partner.handleCallback(attempt.callback, attempt.state, attempt.context), 'upstream_unavailable'));
    assert.ok(ms < SLOW_MS - 500, `took ${ms} ms`);
  });

  it('gives up on slow keys and a slow userinfo endpoint after the timeout', async () => {
    for (const route of ['jwks', 'userinfo'] as const) {
      const partner = await connector();
      const attempt = await reachCallback(partner, { account: 'alice' });
      idp.knobs.delayMs[route] = SLOW_MS;
      const ms = await timed(() => rejectsWith(partner.handleCallback(attempt.callback, attempt.state, attempt.context), 'upstream_unavailable'));
      assert.ok(ms < SLOW_MS - 500, `${route} took ${ms} ms`);
      idp.resetKnobs();
    }
  });

  it('maps a failing token endpoint to upstream_unavailable (5xx) or invalid_response (4xx)', async () => {
    const partner = await connector();
    const first = await reachCallback(partner, { account: 'alice' });
    idp.knobs.failWith.token = 503;
    await rejectsWith(partner.handleCallback(first.callback, first.state, first.context), 'upstream_unavailable');
    idp.knobs.failWith.token = 400;
    await rejectsWith(partner.handleCallback(first.callback, first.state, first.context), 'invalid_response');
  });

  it('reports unreadable keys as upstream_unavailable', async () => {
    const partner = await connector();
    const attempt = await reachCallback(partner, { account: 'alice' });
    idp.knobs.failWith.jwks = 404;
    await rejectsWith(partner.handleCallback(attempt.callback, attempt.state, attempt.context), 'upstream_unavailable', /jwks/);
  });

  it('caches discovery, and does not cache a failed discovery', async () => {
    const partner = await connector();
    idp.knobs.failWith.discovery = 503;
    await rejectsWith(partner.start(contextFor(partner.id)), 'upstream_unavailable');
    await rejectsWith(partner.start(contextFor(partner.id)), 'upstream_unavailable');
    const failed = idp.hits.discovery;
    idp.knobs.failWith = {};
    await partner.start(contextFor(partner.id));
    await partner.start(contextFor(partner.id));
    await signIn(partner, { account: 'alice' });
    assert.equal(idp.hits.discovery, failed + 1);
  });

  it('reads discovery again once the cached copy is an hour old', async () => {
    const clock = new ManualClock(Date.now());
    const partner = await connector({ clock });
    await partner.start(contextFor(partner.id));
    const first = idp.hits.discovery;
    clock.advance(59 * 60 * 1000);
    await partner.start(contextFor(partner.id));
    assert.equal(idp.hits.discovery, first);
    clock.advance(2 * 60 * 1000);
    await partner.start(contextFor(partner.id));
    assert.equal(idp.hits.discovery, first + 1);
  });

  it('reports an unreachable IdP as upstream_unavailable', async () => {
    const gone = await startOidcStandIn();
    const issuer = gone.issuer;
    await gone.stop();
    const partner = await connector({ issuer });
    await rejectsWith(partner.start(contextFor(partner.id)), 'upstream_unavailable');
  });

  it('refuses a discovery document naming another issuer', async () => {
    const partner = await connector();
    idp.knobs.discovery['issuer'] = 'https://evil.example';
    await rejectsWith(partner.start(contextFor(partner.id)), 'upstream_unavailable', /discovery/);
  });
});

describe('oidc connector: config schema', () => {
  const base = { id: 'partner', kind: 'oidc', issuer: 'https://idp.fabrikam.example', clientId: 'portico', clientSecret: 's3cret' };

  it('fills the documented defaults', () => {
    const config = oidcConnector.schema.parse(base);
    assert.deepEqual(config.scopes, ['openid', 'email', 'profile']);
    assert.equal(config.timeoutSeconds, 10);
    assert.equal(config.clientAuth, 'client_secret_basic');
    assert.equal(config.claims.subject, 'sub');
    assert.equal(config.claims.emailVerified, 'email_verified');
    assert.equal(config.idp, undefined);
  });

  it('refuses http except on loopback, scopes without openid, long timeouts and unknown keys', () => {
    assert.equal(oidcConnector.schema.safeParse({ ...base, issuer: 'http://idp.fabrikam.example' }).success, false);
    assert.equal(oidcConnector.schema.safeParse({ ...base, issuer: 'http://127.0.0.1:8080' }).success, true);
    assert.equal(oidcConnector.schema.safeParse({ ...base, scopes: ['email'] }).success, false);
    assert.equal(oidcConnector.schema.safeParse({ ...base, timeoutSeconds: 61 }).success, false);
    assert.equal(oidcConnector.schema.safeParse({ ...base, clientAuth: 'none' }).success, false);
    assert.equal(oidcConnector.schema.safeParse({ ...base, trustEmailVerified: true }).success, false);
  });

  it('marks the client secret as a secret', async () => {
    const { z } = await import('zod');
    const meta = z.globalRegistry.get(oidcConnector.schema.shape.clientSecret) as { secret?: boolean } | undefined;
    assert.equal(meta?.secret, true);
  });
});
