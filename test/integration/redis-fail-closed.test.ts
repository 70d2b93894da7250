import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import * as client from 'openid-client';
import { startTestPortico } from '../helpers/portico.ts';
import { findExecutable, isCI, startRedisServer } from '../helpers/redis.ts';
import { codeFlow, relyingParty } from '../helpers/relying-party.ts';

const WEB = { id: 'contoso-web', secret: 'demo-web-secret', redirectUri: 'http://localhost:8080/callback' };
const noRedisServer = !findExecutable('redis-server') && !isCI() ? 'redis-server is not installed' : false;

describe('Redis store outage', () => {
  it('fails closed with 503 and Retry-After, reports not ready, and recovers when Redis is back', { skip: noRedisServer }, async () => {
    const dir = await mkdtemp(join(tmpdir(), 'portico-redis-'));
    let redis = await startRedisServer({ dir, durable: true });
    const portico = await startTestPortico({ backend: 'redis', redisUrl: redis.url });
    try {
      const user = await portico.portico.users.create({ tenantId: 'contoso', userType: 'Member', userPrincipalName: 'carol@contoso.example', displayName: 'Carol' });
      const config = await relyingParty(portico.issuer, WEB.id, WEB.secret);
      const { tokens } = await codeFlow(config, { userId: user.id, redirectUri: WEB.redirectUri });

      await redis.stop();
      const started = Date.now();
      const response = await fetch(`${portico.issuer}/token`, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          authorization: `Basic ${Buffer.from(`${WEB.id}:${WEB.secret}`).toString('base64')}`,
        },
        body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token! }),
      });
      assert.equal(response.status, 503);
      assert.equal(response.headers.get('retry-after'), '5');
      assert.equal(((await response.json()) as { error: string }).error, 'temporarily_unavailable');
      assert.ok(Date.now() - started < 5000, 'no long hang: no offline queue');
      const ready = await fetch(`http://127.0.0.1:${portico.port}/readyz`);
      assert.equal(ready.status, 503);
      assert.equal(((await ready.json()) as { checks: { store: { status: string } } }).checks.store.status, 'failing');
      assert.match(portico.logs.text, /store unavailable/);

      redis = await startRedisServer({ dir, durable: true, port: redis.port });
      const deadline = Date.now() + 10_000;
      let refreshed: Awaited<ReturnType<typeof client.refreshTokenGrant>> | undefined;
      while (!refreshed && Date.now() < deadline) {
        refreshed = await client.refreshTokenGrant(config, tokens.refresh_token!).catch(() => undefined);
        if (!refreshed) await new Promise((r) => setTimeout(r, 250));
      }
      assert.ok(refreshed, 'the refresh token still works once Redis is back (nothing was lost)');
      assert.equal(refreshed.claims()?.sub, user.id);
    } finally {
      await portico.dispose();
      await redis.stop();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
