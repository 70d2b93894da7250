import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { main } from '../../../src/cli/main.ts';
import { harness, START } from '../connectors/email-otp/harness.ts';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

async function portico(args: string[]): Promise<Run> {
  let stdout = '';
  let stderr = '';
  const code = await main(args, { stdout: { write: (s: string) => (stdout += s) }, stderr: { write: (s: string) => (stderr += s) }, env: {} });
  return { code, stdout, stderr };
}

/** A config folder whose outbox is `outboxDir`. */
async function configFolder(root: string, name: string, mailYaml: string): Promise<string> {
  const dir = join(root, name);
  await mkdir(join(dir, 'tenants'), { recursive: true });
  await writeFile(join(dir, 'portico.yaml'), `dataDir: ${JSON.stringify(join(root, 'data'))}\nmail:\n${mailYaml}`);
  await writeFile(join(dir, 'tenants', 'contoso.yaml'), 'id: contoso\ndisplayName: Contoso\ndomains: [contoso.example]\n');
  return dir;
}

describe('portico mail outbox', () => {
  let root: string;
  let outbox: string;
  let config: string;
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'portico-mail-cli-'));
    outbox = join(root, 'outbox');
    config = await configFolder(root, 'config', `  transport: outbox\n  outboxDir: ${JSON.stringify(outbox)}\n`);
  });
  after(() => rm(root, { recursive: true, force: true }));

  it('says so when the outbox is empty or missing', async () => {
    const list = await portico(['mail', 'outbox', '--config', config]);
    assert.deepEqual(list, { code: 0, stdout: `no messages in ${outbox}\n`, stderr: '' });
    const last = await portico(['mail', 'outbox', '--last', '--config', config]);
    assert.deepEqual(last, { code: 1, stdout: '', stderr: `no messages in ${outbox}\n` });
  });

  it('lists what the outbox transport wrote and prints the newest text, so a developer can read a passcode', async () => {
    const h = harness({ mail: { transport: 'outbox', from: 'Portico <no-reply@localhost>', outboxDir: outbox } });
    try {
      const send = (email: string) => h.connector.send({ flowId: `flow-${email}`, email, clientIp: '127.0.0.1', tenantDisplayName: 'Contoso' });
      assert.deepEqual(await send('Bob@Fabrikam.example'), { status: 'sent' });
      h.clock.advance(90_000);
      assert.deepEqual(await send('carol@fabrikam.example'), { status: 'sent' });

      const list = await portico(['mail', 'outbox', '--config', config]);
      assert.equal(list.code, 0, list.stderr);
      assert.equal(
        list.stdout,
        [
          `${new Date(START).toISOString().replace('.000Z', 'Z')}  Bob@fabrikam.example    Your Contoso verification code`,
          `${new Date(START + 90_000).toISOString().replace('.000Z', 'Z')}  carol@fabrikam.example  Your Contoso verification code`,
          '',
        ].join('\n'),
      );

      const last = await portico(['mail', 'outbox', '--last', '--config', config]);
      assert.equal(last.code, 0, last.stderr);
      assert.match(last.stdout, /^Your verification code for Contoso is:\n\n {4}\d{8}\n\nEnter it on the sign-in page\. It expires in 10 minutes/);
      const carolsCode = /(\d{8})/.exec(last.stdout)?.[1] ?? '';

      const bobs = await portico(['mail', 'outbox', '--last', '--to', 'BOB@fabrikam.example', '--config', config]);
      const bobsCode = /(\d{8})/.exec(bobs.stdout)?.[1] ?? '';
      assert.match(bobsCode, /^\d{8}$/);

      const onlyCarol = await portico(['mail', 'outbox', '--to', 'carol@fabrikam.example', '--config', config]);
      assert.equal(onlyCarol.stdout.trimEnd().split('\n').length, 1);
      assert.match(onlyCarol.stdout, /carol@fabrikam\.example/);
      const nobody = await portico(['mail', 'outbox', '--to', 'dave@fabrikam.example', '--config', config]);
      assert.equal(nobody.stdout, `no messages to dave@fabrikam.example in ${outbox}\n`);

      // The codes read from the outbox are the ones that sign in.
      assert.equal((await h.connector.verify({ flowId: 'flow-carol@fabrikam.example', email: 'carol@fabrikam.example', code: carolsCode, clientIp: '127.0.0.1' })).subject, 'carol@fabrikam.example');
      assert.equal((await h.connector.verify({ flowId: 'flow-Bob@Fabrikam.example', email: 'bob@fabrikam.example', code: bobsCode, clientIp: '127.0.0.1' })).subject, 'bob@fabrikam.example');
    } finally {
      await h.close();
    }
  });

  it('notes that new mail goes elsewhere when the transport is smtp', async () => {
    const smtpConfig = await configFolder(root, 'smtp-config', `  transport: smtp\n  outboxDir: ${JSON.stringify(outbox)}\n  smtp:\n    host: smtp.example.com\n`);
    const run = await portico(['mail', 'outbox', '--config', smtpConfig]);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stderr, /^note: mail\.transport is smtp/);
    assert.match(run.stdout, /Your Contoso verification code/);
  });

  it('is listed in the help and checks its arguments', async () => {
    assert.match((await portico(['help'])).stdout, /mail outbox \[--last\] \[--to <address>\]/);
    const bad = await portico(['mail', 'outbox', '--to', 'not-an-address', '--config', config]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--to must be an email address/);
    assert.equal((await portico(['mail', 'outbox', '--nope'])).code, 2);
  });
});
