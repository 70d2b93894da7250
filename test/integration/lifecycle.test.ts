import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { connect } from 'node:net';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import * as client from 'openid-client';
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { maxSignedTokenSeconds } from '../../src/main.ts';
import { freePort } from '../helpers/http.ts';
import { EXAMPLE_CONFIG, startTestPortico } from '../helpers/portico.ts';
import { codeFlow, relyingParty } from '../helpers/relying-party.ts';

const WEB = { id: 'contoso-web', secret: 'demo-web-secret', redirectUri: 'http://localhost:8080/callback' };
const DAEMON = { id: 'contoso-daemon', secret: 'demo-daemon-secret' };
const ROOT = new URL('../../', import.meta.url).pathname;

describe('lifecycle', () => {
  it('keeps refresh tokens, keys and users across a restart on sqlite', async () => {
    const first = await startTestPortico({ backend: 'sqlite' });
    const { dataDir, configDir, port } = first;
    try {
      const user = await first.portico.users.create({ tenantId: 'contoso', userType: 'Member', userPrincipalName: 'bob@contoso.example', displayName: 'Bob' });
      const config = await relyingParty(first.issuer, WEB.id, WEB.secret);
      const { tokens } = await codeFlow(config, { userId: user.id, redirectUri: WEB.redirectUri });
      const kidBefore = decodeProtectedHeader(tokens.id_token!).kid;
      await first.stop();

      const second = await startTestPortico({ backend: 'sqlite', dataDir, configDir, port });
      try {
        const again = await relyingParty(second.issuer, WEB.id, WEB.secret);
        const refreshed = await client.refreshTokenGrant(again, tokens.refresh_token!);
        assert.equal(refreshed.claims()?.sub, user.id);
        assert.equal(decodeProtectedHeader(refreshed.id_token!).kid, kidBefore, 'the same signing key after restart');
      } finally {
        await second.stop();
      }
    } finally {
      await rm(dataDir, { recursive: true, force: true });
      await rm(configDir, { recursive: true, force: true });
    }
  });

  it('rotates keys: publishes the next key before it signs, keeps the previous one until its tokens expire', async () => {
    const portico = await startTestPortico({ backend: 'sqlite' });
    try {
      const daemon = await relyingParty(portico.issuer, DAEMON.id, DAEMON.secret);
      const jwksBefore = (await (await fetch(`${portico.issuer}/jwks`)).json()) as { keys: { kid: string; alg: string; key_ops?: string[]; d?: string }[] };
      assert.ok(jwksBefore.keys.every((k) => k.d === undefined), 'no private parts published');
      const before = await client.clientCredentialsGrant(daemon);
      const signingKid = decodeProtectedHeader(before.access_token).kid!;
      const nextEs256 = jwksBefore.keys.find((k) => k.alg === 'ES256' && k.key_ops?.includes('verify') && k.kid !== signingKid);
      assert.ok(nextEs256, 'a next ES256 key is already published');

      const result = await portico.portico.keys.rotate('contoso', maxSignedTokenSeconds(portico.portico.config));
      assert.ok(result.activated.some((k) => k.kid === nextEs256.kid));
      await portico.portico.providers.refreshKeys();

      const after = await client.clientCredentialsGrant(daemon);
      assert.equal(decodeProtectedHeader(after.access_token).kid, nextEs256.kid, 'the pre-published key signs now');
      const jwksAfter = (await (await fetch(`${portico.issuer}/jwks`)).json()) as { keys: { kid: string }[] };
      const kids = jwksAfter.keys.map((k) => k.kid);
      assert.ok(kids.includes(signingKid), 'the previous key stays published');
      assert.equal(new Set(kids).size, kids.length, 'no kid appears twice');
      const allKidsEver = new Set([...jwksBefore.keys.map((k) => k.kid), ...kids]);
      assert.equal(allKidsEver.size, jwksBefore.keys.length + result.published.length, 'new keys got new kids');
      const jwks = createRemoteJWKSet(new URL(`${portico.issuer}/jwks`));
      await jwtVerify(before.access_token, jwks, { issuer: portico.issuer });
      await jwtVerify(after.access_token, jwks, { issuer: portico.issuer });
    } finally {
      await portico.dispose();
    }
  });

  it('`portico keys rotate` on the shared store reaches a running instance without a restart', async () => {
    const portico = await startTestPortico({ backend: 'sqlite', brokerYaml: 'keys:\n  rotationCheckSeconds: 1\n' });
    try {
      const daemon = await relyingParty(portico.issuer, DAEMON.id, DAEMON.secret);
      const kidBefore = decodeProtectedHeader((await client.clientCredentialsGrant(daemon)).access_token).kid;
      const child = spawn(process.execPath, [join(ROOT, 'src/cli/main.ts'), 'keys', 'rotate', '--tenant', 'contoso'], {
        env: { ...process.env, PORTICO_CONFIG: portico.configDir, PORTICO_DATA: portico.dataDir },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      assert.equal(await new Promise((resolve) => child.once('exit', resolve)), 0, stdout);
      const activated = /signing now\s+ES256\s+(\S+)/.exec(stdout)?.[1];
      assert.ok(activated, stdout);
      assert.match(stdout, new RegExp(`verify only\\s+ES256\\s+${kidBefore}`));
      const deadline = Date.now() + 5000;
      let kidAfter = kidBefore;
      while (kidAfter !== activated && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 200));
        kidAfter = decodeProtectedHeader((await client.clientCredentialsGrant(daemon)).access_token).kid;
      }
      assert.equal(kidAfter, activated, 'the running instance signs with the activated key');
    } finally {
      await portico.dispose();
    }
  });

  it('seals signing keys at rest when a key-encryption secret is set, and refuses to start without it', async () => {
    const secret = 'a-key-encryption-secret-of-at-least-32-chars';
    const portico = await startTestPortico({ backend: 'sqlite', brokerYaml: 'keys:\n  encryptionSecret: ${env:TEST_KEK}\n', env: { TEST_KEK: secret } });
    const { dataDir, configDir, port } = portico;
    try {
      const stored = await portico.portico.store.get<{ keys: Record<string, unknown>[] }>('signing-keys', 'contoso');
      assert.ok(stored && stored.value.keys.length > 0);
      for (const key of stored.value.keys) {
        assert.equal(key['jwk'], undefined, 'no plaintext key material in the store');
        assert.ok(key['sealed']);
      }
      await portico.stop();
      await assert.rejects(
        startTestPortico({ backend: 'sqlite', dataDir, configDir, port, env: { TEST_KEK: 'a-different-secret-that-is-long-enough!!' } }),
        /cannot be decrypted/,
      );
    } finally {
      await rm(dataDir, { recursive: true, force: true });
      await rm(configDir, { recursive: true, force: true });
    }
  });

  it('refuses to start on a config error, naming file and key, with a non-zero exit', async () => {
    const configDir = await mkdtemp(join(tmpdir(), 'portico-bad-'));
    try {
      await cp(join(EXAMPLE_CONFIG, 'tenants'), join(configDir, 'tenants'), { recursive: true });
      const file = join(configDir, 'tenants', 'contoso.yaml');
      await writeFile(file, (await readFile(file, 'utf8')).replace('displayName:', 'displayNme:'));
      const child = spawn(process.execPath, [join(ROOT, 'src/main.ts')], {
        env: { ...process.env, PORTICO_CONFIG: configDir, PORT: String(await freePort()), HOST: '127.0.0.1' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stderr = '';
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
      assert.equal(code, 1);
      assert.match(stderr, /refusing to start/);
      assert.match(stderr, /contoso\.yaml: displayNme: unknown key \(did you mean 'displayName'\?\)/);
    } finally {
      await rm(configDir, { recursive: true, force: true });
    }
  });

  it('serves health and readiness, and shuts down gracefully on SIGTERM', async () => {
    const port = await freePort();
    const dataDir = await mkdtemp(join(tmpdir(), 'portico-data-'));
    const child = spawn(process.execPath, [join(ROOT, 'src/main.ts')], {
      env: { ...process.env, PORTICO_CONFIG: EXAMPLE_CONFIG, PORTICO_DATA: dataDir, PORT: String(port), HOST: '127.0.0.1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    try {
      const deadline = Date.now() + 20_000;
      while (!stdout.includes('portico is listening')) {
        if (Date.now() > deadline || child.exitCode !== null) assert.fail(`did not start:\n${stdout}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      const base = `http://127.0.0.1:${port}`;
      assert.equal((await fetch(`${base}/healthz`)).status, 200);
      const ready = await fetch(`${base}/readyz`);
      assert.equal(ready.status, 200);
      const body = (await ready.json()) as { checks: Record<string, { status: string }> };
      assert.equal(body.checks['store']?.status, 'ok');
      const discovery = (await (await fetch(`http://127.0.0.1:${port}/contoso/v2.0/.well-known/openid-configuration`)).json()) as { issuer: string };
      assert.equal(discovery.issuer, `http://localhost:${port}/contoso/v2.0`, 'PUBLIC_URL defaults to http://localhost:{PORT}');

      // A request whose headers have started arriving is in flight: it must still be answered.
      const socket = connect(port, '127.0.0.1');
      await new Promise((resolve) => socket.once('connect', resolve));
      let reply = '';
      socket.on('data', (chunk: Buffer) => (reply += chunk.toString()));
      socket.write('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n');
      await new Promise((r) => setTimeout(r, 100));
      child.kill('SIGTERM');
      await new Promise((r) => setTimeout(r, 200));
      socket.write('Connection: close\r\n\r\n');
      await new Promise((resolve) => socket.once('close', resolve));
      assert.match(reply, /^HTTP\/1\.1 200 OK/, 'the request in flight is answered');
      const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
      assert.equal(code, 0);
      assert.match(stdout, /portico stopped/);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
