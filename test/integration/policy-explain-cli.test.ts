/**
 * `portico policy explain` run as people run it: the real CLI in a child process, against the
 * seed config (config/examples/seed) and a SQLite data folder of its own.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadConfig } from '../../src/config/load.ts';
import { UserDirectory } from '../../src/directory/users.ts';
import { openStore } from '../../src/main.ts';
import { systemClock } from '../../src/shared/clock.ts';
import { silentLogger } from '../../src/shared/logger.ts';

const ROOT = new URL('../../', import.meta.url).pathname;
const SEED = join(ROOT, 'config/examples/seed');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

describe('portico policy explain (seed config)', () => {
  let dataDir: string;
  let acceptedGuestId: string;

  async function explain(...args: string[]): Promise<Run> {
    const child = spawn(process.execPath, [join(ROOT, 'src/cli/main.ts'), 'policy', 'explain', '--config', SEED, ...args], {
      env: { ...process.env, PORTICO_DATA: dataDir, PORTICO_CONFIG: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    return { code, stdout, stderr };
  }

  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'portico-explain-'));
    // A Fabrikam guest who redeemed before fabrikam.com was blocked, and one still pending.
    const { config } = await loadConfig(SEED, { PORTICO_DATA: dataDir });
    const store = await openStore(config.broker.storage, silentLogger(), systemClock);
    try {
      const users = new UserDirectory({ store, clock: systemClock });
      const guest = (mail: string, state: 'Accepted' | 'PendingAcceptance') =>
        users.create({
          tenantId: 'contoso',
          userType: 'Guest',
          userPrincipalName: `${mail.replace('@', '_')}#EXT#@contoso.example`,
          displayName: mail,
          mail,
          creationType: 'Invitation',
          externalUserState: state,
        });
      acceptedGuestId = (await guest('alice@fabrikam.com', 'Accepted')).id;
      await guest('pending@fabrikam.com', 'PendingAcceptance');
    } finally {
      await store.close();
    }
  });
  after(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it('Example 1: an invitation to adatum.com is refused by the block list', async () => {
    const run = await explain('--tenant', 'contoso', '--user', 'someone@adatum.com');
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /not in tenant contoso's directory/);
    assert.match(run.stdout, /^Invitation: DENY by externalCollaboration\.blockedDomains: 'adatum\.com' is blocked/m);
    assert.match(run.stdout, /✗ externalCollaboration {2}externalCollaboration\.blockedDomains {2}'adatum\.com' is blocked/);
    assert.match(run.stdout, /✓ crossTenantAccess\.inbound {2}crossTenantAccess\.default\.b2bCollaborationInbound\.usersAndGroups {2}allowed: all users/);
    assert.match(run.stdout, /^Redemption: DENY/m);
  });

  it('Example 2: an invitation to fabrikam.com is refused though Fabrikam is allowed cross-tenant', async () => {
    const run = await explain('--tenant', 'contoso', '--user', 'bob@fabrikam.com');
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /home organisation: partner 'fabrikam' \(email domain fabrikam\.com\)/);
    assert.match(run.stdout, /^Invitation: DENY by externalCollaboration\.blockedDomains/m);
    assert.match(run.stdout, /✓ crossTenantAccess\.inbound {2}crossTenantAccess\.partners\[0\] \(fabrikam\)\.b2bCollaborationInbound\.usersAndGroups/);
  });

  it('Example 2: a pending Fabrikam invitation can no longer be redeemed', async () => {
    const run = await explain('--tenant', 'contoso', '--user', 'pending@fabrikam.com');
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /Guest [0-9a-f-]{36} \(PendingAcceptance\)/);
    assert.match(run.stdout, /^Redemption: DENY by externalCollaboration\.blockedDomains/m);
  });

  it('Example 2: an existing Fabrikam guest keeps access; payroll asks for MFA', async () => {
    const run = await explain('--tenant', 'contoso', '--user', 'alice@fabrikam.com', '--app', 'payroll');
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, new RegExp(`Guest ${acceptedGuestId} \\(Accepted\\)`));
    assert.doesNotMatch(run.stdout, /^Redemption/m, 'an accepted guest has nothing to redeem');
    assert.match(run.stdout, /^Sign-in to payroll: CHALLENGE until multifactor authentication \(conditionalAccess\[guests-mfa-payroll\]\)/m);
    assert.match(run.stdout, /✗ conditionalAccess {2}conditionalAccess\[guests-mfa-payroll\] {2}requires multifactor authentication: not yet satisfied/);
    assert.match(run.stdout, /still required:\n {4}- multifactor authentication \(conditionalAccess\[guests-mfa-payroll\]\)/);
  });

  it("with Fabrikam's MFA (trusted in the seed) the sign-in is allowed; the object id works as --user", async () => {
    const run = await explain('--tenant', 'contoso', '--user', acceptedGuestId, '--app', 'payroll', '--mfa');
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /^Sign-in to payroll: ALLOW$/m);
    assert.match(run.stdout, /✓ crossTenantAccess\.inboundTrust {2}crossTenantAccess\.partners\[0\] \(fabrikam\)\.inboundTrust {2}the partner's MFA claim is trusted/);
  });

  it("another organisation's MFA and device claims are dropped, and the trace says so", async () => {
    const run = await explain('--tenant', 'contoso', '--user', 'dan@tailspin.com', '--app', 'payroll', '--mfa', '--device', 'compliant');
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /^Sign-in to payroll: CHALLENGE/m);
    assert.match(run.stdout, /· crossTenantAccess\.inboundTrust {2}crossTenantAccess\.default\.inboundTrust {2}the partner's MFA claim is not trusted: dropped/);
    assert.match(run.stdout, /compliant device claim is not trusted: dropped/);
  });

  it('--json prints the explanation as data', async () => {
    const run = await explain('--tenant', 'contoso', '--user', 'alice@fabrikam.com', '--app', 'payroll', '--json');
    assert.equal(run.code, 0, run.stderr);
    const explanation = JSON.parse(run.stdout) as Record<string, { effect?: string; requirements?: unknown; found?: boolean }>;
    assert.equal(explanation['user']!.found, true);
    assert.equal(explanation['invitation']!.effect, 'deny');
    assert.equal(explanation['signIn']!.effect, 'challenge');
    assert.deepEqual(explanation['signIn']!.requirements, [{ policyId: 'guests-mfa-payroll', operator: 'OR', controls: ['mfa'] }]);
  });

  it('bad arguments exit 2 with usage, naming what is known', async () => {
    const app = await explain('--tenant', 'contoso', '--user', 'a@fabrikam.com', '--app', 'nope');
    assert.equal(app.code, 2);
    assert.match(app.stderr, /unknown app 'nope' \(known: contoso-daemon, payroll\)/);
    assert.match(app.stderr, /Usage: portico policy explain/);
    const idp = await explain('--tenant', 'contoso', '--user', 'a@fabrikam.com', '--idp', 'fabrikam-saml');
    assert.equal(idp.code, 2);
    assert.match(idp.stderr, /unknown identity provider 'fabrikam-saml' \(known: email\)/);
    const device = await explain('--tenant', 'contoso', '--user', 'a@fabrikam.com', '--device', 'shiny');
    assert.equal(device.code, 2);
    assert.match(device.stderr, /--device must be one of compliant, hybridJoined/);
    const noUser = await explain('--tenant', 'contoso');
    assert.equal(noUser.code, 2);
    assert.match(noUser.stderr, /--user is required/);
    const tenant = await explain('--tenant', 'nowhere', '--user', 'a@fabrikam.com');
    assert.equal(tenant.code, 2);
    assert.match(tenant.stderr, /unknown tenant 'nowhere' \(known: contoso\)/);
    const objectId = await explain('--tenant', 'contoso', '--user', '00000000-0000-4000-8000-000000000000');
    assert.equal(objectId.code, 2);
    assert.match(objectId.stderr, /no user with object id/);
  });
});
