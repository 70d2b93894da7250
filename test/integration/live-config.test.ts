import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parseDocument, type Document } from 'yaml';
import type { ConfigStatus } from '../../src/config/live-config.ts';
import { startTestPortico, type TestPortico } from '../helpers/portico.ts';

/** Polls until `check` returns a value (not undefined/false), failing after `ms`. */
async function eventually<T>(what: string, check: () => T | undefined | false | Promise<T | undefined | false>, ms = 5000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function readyz(portico: TestPortico): Promise<{ status: number; body: { status: string; config: ConfigStatus & { hash: string } } }> {
  const response = await fetch(`http://127.0.0.1:${portico.port}/readyz`);
  return { status: response.status, body: (await response.json()) as { status: string; config: ConfigStatus & { hash: string } } };
}

/** Edits the example tenant file as a YAML document, so the edit holds whatever keys it has. */
async function editContoso(portico: TestPortico, edit: (doc: Document) => void): Promise<void> {
  const file = join(portico.configDir, 'tenants/contoso.yaml');
  const doc = parseDocument(await readFile(file, 'utf8'));
  edit(doc);
  await writeFile(file, String(doc));
}

const blockAdatum = (doc: Document) => doc.setIn(['externalCollaboration', 'blockedDomains'], ['adatum.com']);
const inviters = (value: string) => (doc: Document) => doc.setIn(['externalCollaboration', 'allowInvitesFrom'], value);

describe('live config', () => {
  it('applies policy edits from file changes, refuses invalid ones and says what needs a restart', async () => {
    const portico = await startTestPortico({ backend: 'memory', watchConfig: true });
    try {
      const { policies, liveConfig } = portico.portico;
      const startHash = liveConfig.status().hash;
      assert.equal(policies.policyFor('contoso')?.externalCollaboration.blockedDomains, undefined);
      assert.equal((await readyz(portico)).body.config.hash, startHash.slice(0, 12));

      // (a) a policy edit applies without a restart
      const original = await readFile(join(portico.configDir, 'tenants/contoso.yaml'), 'utf8');
      await editContoso(portico, blockAdatum);
      const blocked = await eventually('the new blockedDomains', () => policies.policyFor('contoso')?.externalCollaboration.blockedDomains);
      assert.deepEqual(blocked, ['adatum.com']);
      const newHash = liveConfig.status().hash;
      assert.notEqual(newHash, startHash);
      await eventually('the reload log line', () => portico.logs.lines.find((line) => line.includes('"msg":"config reloaded"')));
      const reloaded = JSON.parse(portico.logs.lines.find((line) => line.includes('"msg":"config reloaded"'))!) as Record<string, string>;
      assert.equal(reloaded['configHash'], newHash.slice(0, 12));
      assert.equal(reloaded['previousHash'], startHash.slice(0, 12));
      assert.equal(reloaded['reason'], 'file change');
      const afterEdit = await readyz(portico);
      assert.equal(afterEdit.body.config.hash, newHash.slice(0, 12));
      assert.equal(afterEdit.body.config.pendingRestart, undefined, 'a policy key needs no restart');

      // (b) an invalid edit is refused: the valid policy stays in force and /readyz says why
      await editContoso(portico, inviters('sometimes'));
      const refused = await eventually('the refused reload on /readyz', async () => {
        const { status, body } = await readyz(portico);
        return body.config.lastReloadError ? { status, body } : undefined;
      });
      assert.equal(refused.status, 200, 'still ready: the config in force is valid');
      assert.equal(refused.body.status, 'ready');
      assert.equal(refused.body.config.hash, newHash.slice(0, 12));
      assert.match(refused.body.config.lastReloadError!.problems.join('\n'), /tenants\/contoso\.yaml: externalCollaboration\.allowInvitesFrom: /);
      assert.ok(!Number.isNaN(Date.parse(refused.body.config.lastReloadError!.at)));
      assert.deepEqual(policies.policyFor('contoso')?.externalCollaboration.blockedDomains, ['adatum.com']);
      assert.notEqual(policies.policyFor('contoso')?.externalCollaboration.allowInvitesFrom, 'sometimes');
      assert.match(portico.logs.text, /"msg":"config reload refused"/);

      // ... and fixing it clears the error
      await editContoso(portico, inviters('adminsAndGuestInviters'));
      await eventually('the fixed policy', () => policies.policyFor('contoso')?.externalCollaboration.allowInvitesFrom === 'adminsAndGuestInviters');
      assert.equal((await readyz(portico)).body.config.lastReloadError, undefined);

      // (c) other keys keep their start-up value and are reported as waiting for a restart
      const startupApps = portico.portico.config.tenants.find((t) => t.id === 'contoso')!.apps;
      const web = startupApps.findIndex((app) => app.id === 'contoso-web');
      await editContoso(portico, (doc) => {
        doc.setIn(['apps', web, 'name'], 'Contoso intranet (renamed)');
        inviters('everyone')(doc);
      });
      await eventually('the policy reload', () => policies.policyFor('contoso')?.externalCollaboration.allowInvitesFrom === 'everyone');
      assert.deepEqual((await readyz(portico)).body.config.pendingRestart, ['tenants/contoso.yaml: apps']);
      assert.notEqual(startupApps[web]!.name, 'Contoso intranet (renamed)', 'apps keep their start-up values');
      assert.match(portico.logs.text, /"pendingRestart":\["tenants\/contoso\.yaml: apps"\]/);

      // back to the start-up file: nothing left waiting for a restart
      await writeFile(join(portico.configDir, 'tenants/contoso.yaml'), original);
      await eventually('the start-up hash', () => liveConfig.status().hash === startHash);
      assert.equal(liveConfig.status().pendingRestart, undefined);
      assert.equal(policies.policyFor('contoso')?.externalCollaboration.blockedDomains, undefined);
    } finally {
      await portico.dispose();
    }
  });

  it('reloads on SIGHUP, and leaves no SIGHUP listener behind once closed', async () => {
    const listenersBefore = process.listenerCount('SIGHUP');
    const portico = await startTestPortico({ backend: 'memory', watchConfig: 'signal' });
    try {
      assert.equal(process.listenerCount('SIGHUP'), listenersBefore + 1);
      const { policies } = portico.portico;
      await editContoso(portico, blockAdatum);
      // Without file watching, the edit waits for the signal.
      await new Promise((resolve) => setTimeout(resolve, 500));
      assert.equal(policies.policyFor('contoso')?.externalCollaboration.blockedDomains, undefined);

      process.emit('SIGHUP', 'SIGHUP');
      const blocked = await eventually('the reload on SIGHUP', () => policies.policyFor('contoso')?.externalCollaboration.blockedDomains);
      assert.deepEqual(blocked, ['adatum.com']);
      assert.match(portico.logs.text, /"reason":"SIGHUP".*"msg":"config reloaded"/);
    } finally {
      await portico.dispose();
    }
    assert.equal(process.listenerCount('SIGHUP'), listenersBefore);
  });

  it('does not watch or listen for SIGHUP unless asked', async () => {
    const listenersBefore = process.listenerCount('SIGHUP');
    const portico = await startTestPortico({ backend: 'memory' });
    try {
      assert.equal(process.listenerCount('SIGHUP'), listenersBefore);
      await editContoso(portico, blockAdatum);
      await new Promise((resolve) => setTimeout(resolve, 500));
      assert.equal(portico.portico.policies.policyFor('contoso')?.externalCollaboration.blockedDomains, undefined);
      // An explicit reload still works (what the watcher and the signal call).
      await portico.portico.liveConfig.reload('test');
      assert.deepEqual(portico.portico.policies.policyFor('contoso')?.externalCollaboration.blockedDomains, ['adatum.com']);
    } finally {
      await portico.dispose();
    }
  });
});
