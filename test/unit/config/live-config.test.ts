import assert from 'node:assert/strict';
import { rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { LiveConfig, restartNeeded } from '../../../src/config/live-config.ts';
import { loadConfig } from '../../../src/config/load.ts';
import { ManualClock } from '../../../src/shared/clock.ts';
import { LogCapture } from '../../helpers/portico.ts';
import { createLogger } from '../../../src/shared/logger.ts';
import { configFolder, minimalTenant } from './helpers.ts';

const folders: string[] = [];
after(() => Promise.all(folders.map((dir) => rm(dir, { recursive: true, force: true }))));

async function folder(files: Record<string, string>): Promise<string> {
  const dir = await configFolder(files);
  folders.push(dir);
  return dir;
}

const APP = `apps:\n  - id: intranet\n    name: Intranet\n    type: spa\n    redirectUris: [http://localhost:5173/callback]\n`;
const BLOCK_ADATUM = `externalCollaboration:\n  blockedDomains: [adatum.com]\n`;
const PARTNER = `partners:\n  - id: fabrikam\n    displayName: Fabrikam\n    domains: [fabrikam.com]\n`;

/** Loads `first`, then `second`, each as the whole tenants folder (portico.yaml from `broker`). */
async function diff(
  first: Record<string, string>,
  second: Record<string, string>,
  broker: { first?: string; second?: string } = {},
): Promise<string[]> {
  const load = async (tenants: Record<string, string>, brokerYaml = '') => {
    const files = Object.fromEntries(Object.entries(tenants).map(([id, yaml]) => [`tenants/${id}.yaml`, yaml]));
    return (await loadConfig(await folder({ 'portico.yaml': `storage:\n  backend: memory\n${brokerYaml}`, ...files }), {})).config;
  };
  return restartNeeded(await load(first, broker.first), await load(second, broker.second));
}

describe('restartNeeded', () => {
  it('is empty when only the live policy keys changed', async () => {
    const before = minimalTenant('contoso', APP);
    const after = minimalTenant('contoso', `${APP}${BLOCK_ADATUM}conditionalAccess:\n  - id: guest-mfa\n    displayName: Guests use MFA\n    state: enabled\n    conditions:\n      users: { includeUsers: [GuestsOrExternalUsers] }\n      applications: { includeApplications: [All] }\n    grantControls: { builtInControls: [mfa] }\ncrossTenantAccess:\n  default:\n    inboundTrust: { isMfaAccepted: true }\n`);
    assert.deepEqual(await diff({ contoso: before }, { contoso: after }), []);
  });

  it('names each top-level key of a tenant file that needs a restart', async () => {
    const before = minimalTenant('contoso', APP);
    const after = minimalTenant('contoso', APP.replace('name: Intranet', 'name: Contoso intranet')).replace('displayName: contoso', 'displayName: Contoso Ltd');
    assert.deepEqual(await diff({ contoso: before }, { contoso: after }), ['tenants/contoso.yaml: displayName', 'tenants/contoso.yaml: apps']);
  });

  it('says partners still need a restart for sign-in pages', async () => {
    assert.deepEqual(await diff({ contoso: minimalTenant('contoso') }, { contoso: minimalTenant('contoso', PARTNER) }), [
      'tenants/contoso.yaml: partners (sign-in pages and branding)',
    ]);
  });

  it('counts tenants added and removed, and broker keys', async () => {
    const needed = await diff(
      { contoso: minimalTenant('contoso'), adatum: minimalTenant('adatum') },
      { contoso: minimalTenant('contoso'), woodgrove: minimalTenant('woodgrove') },
      { second: 'tokens:\n  accessTokenSeconds: 600\n' },
    );
    assert.deepEqual(needed, ['portico.yaml: tokens', 'tenants/adatum.yaml: tenant removed', 'tenants/woodgrove.yaml: new tenant']);
  });
});

describe('LiveConfig', () => {
  async function live() {
    const dir = await folder({ 'portico.yaml': 'storage:\n  backend: memory\n', 'tenants/contoso.yaml': minimalTenant('contoso', APP) });
    const { config } = await loadConfig(dir, {});
    const logs = new LogCapture();
    const clock = new ManualClock(Date.UTC(2026, 2, 1));
    const liveConfig = new LiveConfig(config, { configDir: dir, env: {}, logger: createLogger({ level: 'info', destination: logs }), clock });
    const write = (yaml: string) => writeFile(path.join(dir, 'tenants/contoso.yaml'), yaml);
    return { liveConfig, logs, clock, write, initialHash: config.hash };
  }

  it('swaps the policies on a valid edit and keeps them on an invalid one', async () => {
    const { liveConfig, logs, clock, write, initialHash } = await live();
    assert.equal(liveConfig.policyFor('contoso')?.externalCollaboration.blockedDomains, undefined);
    assert.equal(liveConfig.status().loadedAt, '2026-03-01T00:00:00.000Z');

    clock.advance(60_000);
    await write(minimalTenant('contoso', `${APP}${BLOCK_ADATUM}`));
    await liveConfig.reload('test');
    assert.deepEqual(liveConfig.policyFor('contoso')?.externalCollaboration.blockedDomains, ['adatum.com']);
    const reloaded = liveConfig.status();
    assert.notEqual(reloaded.hash, initialHash);
    assert.equal(reloaded.loadedAt, '2026-03-01T00:01:00.000Z');
    assert.equal(reloaded.pendingRestart, undefined);
    assert.match(logs.text, new RegExp(`"previousHash":"${initialHash.slice(0, 12)}","configHash":"${reloaded.hash.slice(0, 12)}","msg":"config reloaded"`));

    clock.advance(60_000);
    await write(minimalTenant('contoso', `${APP}externalCollaboration:\n  allowInvitesFrom: sometimes\n`));
    await liveConfig.reload('test');
    assert.deepEqual(liveConfig.policyFor('contoso')?.externalCollaboration.blockedDomains, ['adatum.com'], 'the valid policy stays');
    const refused = liveConfig.status();
    assert.equal(refused.hash, reloaded.hash);
    assert.equal(refused.lastReloadError?.at, '2026-03-01T00:02:00.000Z');
    assert.equal(refused.lastReloadError?.problems.length, 1);
    assert.match(refused.lastReloadError!.problems[0]!, /tenants\/contoso\.yaml: externalCollaboration\.allowInvitesFrom: /);
    assert.match(logs.text, /"msg":"config reload refused"/);

    // Putting back the file in force clears the error without a reload (the hash is the same).
    await write(minimalTenant('contoso', `${APP}${BLOCK_ADATUM}`));
    await liveConfig.reload('test');
    assert.equal(liveConfig.status().lastReloadError, undefined);
    assert.equal(liveConfig.status().loadedAt, '2026-03-01T00:01:00.000Z');
    assert.equal(logs.lines.filter((line) => line.includes('"msg":"config reloaded"')).length, 1);
    await liveConfig.close();
  });

  it('keeps start-up values of other keys and reports them until they are put back', async () => {
    const { liveConfig, logs, write } = await live();
    await write(minimalTenant('contoso', APP.replace('name: Intranet', 'name: Renamed')));
    await liveConfig.reload('test');
    assert.deepEqual(liveConfig.status().pendingRestart, ['tenants/contoso.yaml: apps']);
    assert.match(logs.text, /"pendingRestart":\["tenants\/contoso\.yaml: apps"\]/);

    await write(`${minimalTenant('contoso', APP)}# a comment changes the hash, not the config\n`);
    await liveConfig.reload('test');
    assert.equal(liveConfig.status().pendingRestart, undefined, 'compared with the start-up config, not the previous edit');
    await liveConfig.close();
  });

  it('runs one load at a time: reloads asked for meanwhile join the next one', async () => {
    const { liveConfig, logs, write } = await live();
    await write(minimalTenant('contoso', `${APP}${BLOCK_ADATUM}`));
    const first = liveConfig.reload('one');
    const second = liveConfig.reload('two');
    const third = liveConfig.reload('three');
    assert.equal(second, first, 'joined the running drain');
    assert.equal(third, first);
    await first;
    // 'one' loaded the edit; 'three' replaced 'two' in the queue and found nothing new.
    const reloads = logs.lines.filter((line) => line.includes('"msg":"config reloaded"'));
    assert.equal(reloads.length, 1);
    assert.match(reloads[0]!, /"reason":"one"/);
    await liveConfig.close();
    await liveConfig.reload('after close');
    assert.equal(logs.lines.filter((line) => line.includes('config reload')).length, 1, 'nothing reloads after close');
  });
});
