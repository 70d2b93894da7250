/**
 * `portico invite` and `portico guests reset-redemption` beside a running server: the same store
 * (SQLite file shared with the server) and the same mail (a real SMTP sink), so what the CLI
 * does shows through the API at once.
 */
import assert from 'node:assert/strict';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { main } from '../../src/cli/main.ts';
import type { TestPortico } from '../helpers/portico.ts';
import { startSmtpSink, type SmtpSink } from '../helpers/smtp.ts';
import { DAEMON, GraphClient, OpenApiChecker, appToken, startGraphPortico, ticketOf } from './graph-harness.ts';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

describe('portico invite and guests reset-redemption', () => {
  let smtp: SmtpSink;
  let portico: TestPortico;
  let graph: GraphClient;
  let token: string;

  before(async () => {
    smtp = await startSmtpSink();
    portico = await startGraphPortico({
      brokerYaml: `mail:\n  transport: smtp\n  from: Contoso <no-reply@contoso.example>\n  smtp:\n    host: 127.0.0.1\n    port: ${smtp.port}\n    secure: false\n`,
    });
    graph = new GraphClient(portico, await OpenApiChecker.fetch(portico));
    token = await appToken(portico, DAEMON);
  });
  after(async () => {
    await portico.dispose();
    await smtp.close();
  });

  async function portico_(args: string[], options: { tty?: boolean } = {}): Promise<Run> {
    let stdout = '';
    let stderr = '';
    const code = await main([...args, '--config', portico.configDir], {
      stdout: { write: (s: string) => (stdout += s) },
      stderr: Object.assign({ write: (s: string) => (stderr += s) }, options.tty ? { isTTY: true } : {}),
      env: { PORTICO_DATA: portico.dataDir, PUBLIC_URL: `http://127.0.0.1:${portico.port}`, PORT: String(portico.port) },
    });
    return { code, stdout, stderr };
  }

  const userByMail = async (mail: string) => {
    const response = await graph.call('GET', `/users?$filter=${encodeURIComponent(`mail eq '${mail}'`)}`, { token });
    return (response.body!['value'] as Record<string, unknown>[])[0];
  };

  it('invites one guest with a French mail; the server sees the guest at once', async () => {
    const run = await portico_(['invite', '--tenant', 'contoso', '--email', 'lea@adatum.com', '--name', 'Léa', '--redirect-url', 'https://apps.contoso.example/', '--send', '--lang', 'fr']);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /^invited lea@adatum\.com as lea_adatum\.com#EXT#@contoso\.example \(user [0-9a-f-]{36}, invitation [0-9a-f-]{36}\): invitation mail sent\n/);
    const redeemUrl = /redeem URL \(works once, expires in 30 days\): (\S+)/.exec(run.stdout)![1]!;
    const mail = await smtp.nextMessageTo('lea@adatum.com');
    assert.equal(mail.parsed.subject, 'Contoso vous invite à accéder aux applications de Contoso', 'the CLI invites in the name of the organisation');
    assert.ok(mail.parsed.text?.includes(redeemUrl));
    const user = await userByMail('lea@adatum.com');
    assert.equal(user?.['displayName'], 'Léa');
    assert.equal(user?.['externalUserState'], 'PendingAcceptance');
    assert.equal((await portico.portico.invitations.checkTicket('contoso', ticketOf(redeemUrl))).ok, true);
  });

  it('checks its arguments before touching anything', async () => {
    const missing = await portico_(['invite', '--tenant', 'contoso', '--email', 'x@adatum.com']);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /--redirect-url is required/);
    const both = await portico_(['invite', '--tenant', 'contoso', '--email', 'x@adatum.com', '--csv', 'x.csv', '--redirect-url', 'https://a.example/']);
    assert.equal(both.code, 2);
    const http = await portico_(['invite', '--tenant', 'contoso', '--email', 'x@adatum.com', '--redirect-url', 'http://apps.contoso.example/']);
    assert.equal(http.code, 2);
    assert.match(http.stderr, /must use https/);
    const tenant = await portico_(['invite', '--tenant', 'nowhere', '--email', 'x@adatum.com', '--redirect-url', 'https://a.example/']);
    assert.equal(tenant.code, 2);
    assert.equal(await userByMail('x@adatum.com'), undefined);
  });

  it('invites from a CSV: a result per row on stdout and in <file>.results.csv, progress lines on stderr', async () => {
    const file = join(portico.dataDir, 'guests.csv');
    await writeFile(
      file,
      [
        'email,displayName,redirectUrl,language',
        'nina@adatum.com,"Nina, from Adatum",,de',
        'not-an-address,Nobody,,',
        'omar@adatum.com,=HYPERLINK("http://evil.example"),https://wiki.contoso.example/,',
        'pia@adatum.com,Pia,http://wiki.contoso.example/,',
        '',
      ].join('\r\n'),
    );
    const run = await portico_(['invite', '--tenant', 'contoso', '--csv', file, '--redirect-url', 'https://apps.contoso.example/', '--send']);
    assert.equal(run.code, 1, 'a failed row makes the run fail');
    const lines = run.stdout.trim().split('\n');
    assert.match(lines[0]!, /^line 2: nina@adatum\.com: invitation mail sent/);
    assert.match(lines[1]!, /^line 3: not-an-address: FAILED: not an email address/);
    assert.match(lines[2]!, /^line 4: omar@adatum\.com: invitation mail sent/);
    assert.match(lines[3]!, /^line 5: pia@adatum\.com: FAILED: redirect URL must use https/);
    assert.match(lines[4]!, /^4 row\(s\): 2 invited, 0 invited but mail not sent, 2 failed; results in .*guests\.csv\.results\.csv$/);
    assert.deepEqual(run.stderr.trim().split('\n'), ['progress: 1/4 (25%)', 'progress: 2/4 (50%)', 'progress: 3/4 (75%)', 'progress: 4/4 (100%)']);

    const german = await smtp.nextMessageTo('nina@adatum.com');
    assert.match(german.parsed.subject ?? '', /eingeladen/, 'the row language picks the mail');
    assert.match(german.parsed.text ?? '', /Hallo Nina, from Adatum/);
    assert.equal((await userByMail('omar@adatum.com'))?.['displayName'], '=HYPERLINK("http://evil.example")');

    const results = await readFile(`${file}.results.csv`, 'utf8');
    const rows = results.trim().split('\r\n');
    assert.equal(rows[0], 'email,displayName,status,userId,invitationId,inviteRedeemUrl,error');
    assert.match(rows[1]!, /^nina@adatum\.com,"Nina, from Adatum",PendingAcceptance,[0-9a-f-]{36},[0-9a-f-]{36},http:\/\/127\.0\.0\.1:\d+\/contoso\/v2\.0\/redeem\?ticket=[A-Za-z0-9_-]{43},$/);
    assert.equal(rows[2], 'not-an-address,Nobody,Failed,,,,not an email address');
    assert.ok(rows[3]!.startsWith(`omar@adatum.com,"'=HYPERLINK(""http://evil.example"")",PendingAcceptance,`), 'a formula is defused for spreadsheets');
    assert.equal((await stat(`${file}.results.csv`)).mode & 0o777, 0o600, 'the results hold redeem links: owner only');
  });

  it('draws a progress bar on a terminal', async () => {
    const file = join(portico.dataDir, 'one.csv');
    await writeFile(file, 'email,displayName\nquinn@adatum.com,Quinn\n');
    const run = await portico_(['invite', '--tenant', 'contoso', '--csv', file, '--redirect-url', 'https://apps.contoso.example/'], { tty: true });
    assert.equal(run.code, 0, run.stdout + run.stderr);
    assert.equal(run.stderr, `\r[${'#'.repeat(30)}] 1/1\n`);
    assert.match(run.stdout, /quinn@adatum\.com: pending acceptance \(no mail sent\)/);
  });

  it('refuses a CSV without the expected header', async () => {
    const file = join(portico.dataDir, 'bad.csv');
    await writeFile(file, 'mail,name\nx@adatum.com,X\n');
    const run = await portico_(['invite', '--tenant', 'contoso', '--csv', file, '--redirect-url', 'https://apps.contoso.example/']);
    assert.equal(run.code, 2);
    assert.match(run.stderr, /the header must name the columns email,displayName/);
  });

  it('resets a guest’s redemption from the command line: same id, new address, identities cleared', async () => {
    const invited = await portico_(['invite', '--tenant', 'contoso', '--email', 'rex@adatum.com', '--redirect-url', 'https://apps.contoso.example/start']);
    assert.equal(invited.code, 0, invited.stderr);
    const before = (await userByMail('rex@adatum.com'))!;
    const oldRedeemUrl = /redeem URL[^:]*: (\S+)/.exec(invited.stdout)![1]!;
    await portico.portico.users.linkIdentity('contoso', String(before['id']), { signInType: 'federated', issuer: 'https://accounts.google.com', issuerAssignedId: '1234' });

    const run = await portico_(['guests', 'reset-redemption', '--tenant', 'contoso', '--user', 'rex_adatum.com#EXT#@contoso.example', '--email', 'rex@fabrikam.com', '--send']);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, new RegExp(`user ${String(before['id'])}, same object`));
    assert.match(run.stdout, /address changed: rex@adatum\.com -> rex@fabrikam\.com/);
    const after = await graph.call('GET', `/users/${String(before['id'])}`, { token });
    assert.equal(after.body!['mail'], 'rex@fabrikam.com');
    assert.equal(after.body!['userPrincipalName'], 'rex_fabrikam.com#EXT#@contoso.example');
    assert.deepEqual(after.body!['identities'], []);
    assert.deepEqual(await portico.portico.invitations.checkTicket('contoso', ticketOf(oldRedeemUrl)), { ok: false, reason: 'revoked' });
    const mail = await smtp.nextMessageTo('rex@fabrikam.com');
    const newRedeemUrl = /redeem URL[^:]*: (\S+)/.exec(run.stdout)![1]!;
    assert.ok(mail.parsed.text?.includes(newRedeemUrl));
    const [invitation] = await portico.portico.invitations.listForUser('contoso', String(before['id']));
    assert.equal(invitation?.inviteRedirectUrl, 'https://apps.contoso.example/start', 'the new invitation keeps the earlier redirect URL');

    const unknown = await portico_(['guests', 'reset-redemption', '--tenant', 'contoso', '--user', '00000000-0000-4000-8000-000000000000']);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /no user/);
  });
});
