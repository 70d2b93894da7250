import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { simpleParser } from 'mailparser';
import type { BrokerConfig } from '../../../src/config/types.ts';
import { createMailer, MailDeliveryError, SMTP_LIMITS } from '../../../src/mail/index.ts';
import { describeFailure } from '../../../src/mail/smtp-transport.ts';
import { ManualClock } from '../../../src/shared/clock.ts';
import { ConfigError } from '../../../src/shared/errors.ts';
import { silentLogger } from '../../../src/shared/logger.ts';
import { freeLoopbackPort } from '../../helpers/redis.ts';
import { startSilentServer, startSmtpSink, type SmtpSink } from '../../helpers/smtp.ts';
import { capturingLogger } from './helpers.ts';

type MailConfig = BrokerConfig['mail'];

const FROM = 'Contoso sign-in <no-reply@contoso.example>';
const START = Date.UTC(2026, 10, 27, 14, 30, 12, 123);
const message = {
  to: 'Bob.Smith@fabrikam.example',
  subject: 'Your Contoso verification code',
  text: 'Your code is 12345678.\nIt expires in 10 minutes.',
  html: '<p>Your code is <strong>12345678</strong>.</p>',
};

const smtpConfig = (port: number, extra: Partial<NonNullable<MailConfig['smtp']>> = {}): MailConfig => ({
  transport: 'smtp',
  from: FROM,
  outboxDir: join(tmpdir(), 'unused-outbox'),
  smtp: { host: '127.0.0.1', port, secure: false, ...extra },
});

async function rejectsWithin(promise: Promise<unknown>, ms: number, check: (error: MailDeliveryError) => void): Promise<void> {
  const started = performance.now();
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof MailDeliveryError, `expected MailDeliveryError, got ${String(error)}`);
    check(error);
    return true;
  });
  const took = performance.now() - started;
  assert.ok(took < ms, `took ${Math.round(took)} ms`);
}

describe('smtp transport', () => {
  let sink: SmtpSink;
  before(async () => {
    sink = await startSmtpSink();
  });
  after(() => sink.close());

  it('hands a real MIME message to the server, From the configured sender, dated by the clock', async () => {
    const log = capturingLogger();
    const mailer = createMailer(smtpConfig(sink.port), { logger: log.logger, clock: new ManualClock(START) });
    try {
      await mailer.send(message);
      const mail = await sink.nextMessageTo(message.to);
      assert.deepEqual(mail.rcptTo, [message.to]);
      assert.equal(mail.mailFrom, 'no-reply@contoso.example');
      assert.deepEqual(mail.parsed.from?.value, [{ name: 'Contoso sign-in', address: 'no-reply@contoso.example' }]);
      assert.equal(mail.parsed.subject, message.subject);
      assert.equal(mail.parsed.text?.trim(), message.text);
      assert.equal(mail.parsed.html, message.html);
      assert.equal(mail.parsed.date?.getTime(), Math.floor(START / 1000) * 1000);
      assert.match(mail.parsed.messageId ?? '', /^<.+@.+>$/);

      const [line, ...others] = log.lines();
      assert.equal(others.length, 0, 'one line per message');
      assert.equal(line?.['event'], 'mail_sent');
      assert.equal(line?.['toDomain'], 'fabrikam.example');
      assert.equal(line?.['messageId'], mail.parsed.messageId);
      for (const secret of ['Bob.Smith', '12345678', 'verification code']) assert.ok(!log.text().includes(secret), `log shows ${secret}`);
    } finally {
      await mailer.close();
    }
  });

  it('sends many messages through one pool', async () => {
    const mailer = createMailer(smtpConfig(sink.port), { logger: silentLogger(), clock: new ManualClock(START) });
    try {
      const recipients = Array.from({ length: 8 }, (_, i) => `guest${i}@fabrikam.example`);
      await Promise.all(recipients.map((to) => mailer.send({ ...message, to })));
      for (const to of recipients) assert.deepEqual((await sink.nextMessageTo(to)).rcptTo, [to]);
    } finally {
      await mailer.close();
    }
  });

  it('refuses a recipient that is not one plain address, before anything is sent', async () => {
    const mailer = createMailer(smtpConfig(sink.port), { logger: silentLogger(), clock: new ManualClock(START) });
    const before = sink.received.length;
    try {
      for (const to of ['a@x.example, b@y.example', 'a@x.example\r\nBcc: b@y.example', 'Bob <b@y.example>', 'nobody']) {
        await assert.rejects(mailer.send({ ...message, to }), MailDeliveryError);
      }
      assert.equal(sink.received.length, before);
    } finally {
      await mailer.close();
    }
  });

  it('surfaces a refusal by the server as a typed error naming the host, and logs it', async () => {
    const log = capturingLogger();
    const mailer = createMailer(smtpConfig(sink.port), { logger: log.logger, clock: new ManualClock(START) });
    sink.refuseNext();
    try {
      await rejectsWithin(mailer.send(message), 5000, (error) => {
        assert.equal(error.code, 'mail_unavailable');
        assert.equal(error.status, 503);
        assert.match(error.message, new RegExp(`^smtp 127\\.0\\.0\\.1:${sink.port}: EMESSAGE: .*451`));
      });
      const line = log.lines().find((l) => l['event'] === 'mail_failed');
      assert.equal(line?.['toDomain'], 'fabrikam.example');
      assert.ok(!log.text().includes('12345678'));
    } finally {
      await mailer.close();
    }
  });

  it('never sends credentials to a server that does not offer STARTTLS', async () => {
    const authSink = await startSmtpSink({ auth: true });
    const mailer = createMailer(smtpConfig(authSink.port, { user: 'portico', password: 'hunter2-very-secret' }), { logger: silentLogger(), clock: new ManualClock(START) });
    try {
      await rejectsWithin(mailer.send(message), 5000, (error) => {
        assert.match(error.message, /^smtp 127\.0\.0\.1:\d+: /);
        assert.ok(!error.message.includes('hunter2'));
      });
      assert.equal(authSink.authAttempts, 0);
      assert.equal(authSink.received.length, 0);
    } finally {
      await mailer.close();
      await authSink.close();
    }
  });
});

describe('smtp transport when the server is down or stalled', () => {
  it('fails fast with a typed error when nothing listens', async () => {
    const port = await freeLoopbackPort();
    const mailer = createMailer(smtpConfig(port, { user: 'portico', password: 'hunter2-very-secret' }), { logger: silentLogger(), clock: new ManualClock(START) });
    try {
      await rejectsWithin(mailer.send(message), 2000, (error) => {
        assert.match(error.message, new RegExp(`^smtp 127\\.0\\.0\\.1:${port}: `));
        assert.ok(!error.message.includes('hunter2') && !error.message.includes('portico'), error.message);
      });
    } finally {
      await mailer.close();
    }
  });

  it('gives up on a server that accepts the connection but never greets, within 5 s', async () => {
    const silent = await startSilentServer();
    const mailer = createMailer(smtpConfig(silent.port), { logger: silentLogger(), clock: new ManualClock(START) });
    try {
      await rejectsWithin(mailer.send(message), 5000, (error) => assert.match(error.message, /ETIMEDOUT|greeting/i));
      assert.ok(SMTP_LIMITS.greetingTimeoutMs < 5000);
    } finally {
      await mailer.close();
      await silent.close();
    }
  });

  it('takes the password and user, plain or base64 as AUTH sends them, out of failure messages', () => {
    const smtp = { host: 'smtp.example.com', port: 587, secure: false, user: 'portico@example.com', password: 'hunter2-very-secret' };
    const plain = Buffer.from('\u0000portico@example.com\u0000hunter2-very-secret').toString('base64');
    const echoed = Object.assign(new Error(`Invalid login: 535 5.7.8 ${plain} rejected for portico@example.com with hunter2-very-secret`), { code: 'EAUTH' });
    assert.equal(describeFailure(echoed, smtp, 'bob@fabrikam.example'), 'EAUTH: Invalid login: 535 5.7.8 *** rejected for *** with ***');
  });

  it('reduces an echoed recipient to its domain in failure messages', () => {
    const smtp = { host: 'smtp.example.com', port: 587, secure: false };
    const refused = Object.assign(new Error("Can't send mail - all recipients were rejected: 550 5.1.1 <Bob.Smith@Fabrikam.example>: user unknown"), { code: 'EENVELOPE' });
    assert.equal(
      describeFailure(refused, smtp, 'bob.smith@fabrikam.example'),
      "EENVELOPE: Can't send mail - all recipients were rejected: 550 5.1.1 <***@fabrikam.example>: user unknown",
    );
  });

  it('needs the smtp settings when the transport is smtp', () => {
    assert.throws(() => createMailer({ transport: 'smtp', from: FROM, outboxDir: tmpdir() }, { logger: silentLogger(), clock: new ManualClock() }), ConfigError);
  });
});

describe('outbox transport', () => {
  let root: string;
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'portico-outbox-'));
  });
  after(() => rm(root, { recursive: true, force: true }));

  it('writes each message as a private RFC 5322 file whose name sorts by time', async () => {
    const dir = join(root, 'private', 'outbox');
    const clock = new ManualClock(START);
    const log = capturingLogger();
    const mailer = createMailer({ transport: 'outbox', from: FROM, outboxDir: dir }, { logger: log.logger, clock });
    await mailer.send(message);
    await mailer.send({ ...message, to: 'second@fabrikam.example' });
    clock.advance(1500);
    await mailer.send({ ...message, to: 'third@fabrikam.example' });
    await mailer.close();

    assert.equal((await stat(dir)).mode & 0o777, 0o700);
    const names = await readdir(dir);
    assert.equal(names.length, 3, `no temp files left: ${names.join(', ')}`);
    for (const name of names) {
      assert.match(name, /^\d{8}T\d{6}\.\d{3}Z-\d{6}-[0-9a-f]{8}\.eml$/);
      assert.equal((await stat(join(dir, name))).mode & 0o777, 0o600);
    }
    const sorted = [...names].sort();
    assert.ok(sorted[0]?.startsWith('20261127T143012.123Z-'));
    assert.ok(sorted[2]?.startsWith('20261127T143013.623Z-'));

    const parsed = await Promise.all(sorted.map(async (name) => simpleParser(await readFile(join(dir, name)))));
    assert.deepEqual(
      parsed.map((p) => p.to && !Array.isArray(p.to) && p.to.value[0]?.address),
      [message.to, 'second@fabrikam.example', 'third@fabrikam.example'],
    );
    const first = parsed[0]!;
    assert.deepEqual(first.from?.value, [{ name: 'Contoso sign-in', address: 'no-reply@contoso.example' }]);
    assert.equal(first.subject, message.subject);
    assert.equal(first.text?.trim(), message.text);
    assert.equal(first.html, message.html);
    assert.match(first.messageId ?? '', /^<.+>$/);
    assert.equal(first.headers.get('mime-version'), '1.0');

    const lines = log.lines();
    assert.deepEqual(lines.map((l) => [l['event'], l['transport'], l['toDomain']]), [
      ['mail_sent', 'outbox', 'fabrikam.example'],
      ['mail_sent', 'outbox', 'fabrikam.example'],
      ['mail_sent', 'outbox', 'fabrikam.example'],
    ]);
    assert.equal(lines[0]?.['messageId'], first.messageId);
    assert.ok(!log.text().includes('12345678') && !log.text().includes('Bob.Smith'));
  });

  it('fails with a typed error when the folder cannot be written', async () => {
    const blocker = join(root, 'not-a-folder');
    await writeFile(blocker, 'a file where the outbox should be');
    const mailer = createMailer({ transport: 'outbox', from: FROM, outboxDir: join(blocker, 'outbox') }, { logger: silentLogger(), clock: new ManualClock(START) });
    await assert.rejects(mailer.send(message), (error: unknown) => {
      assert.ok(error instanceof MailDeliveryError);
      assert.equal(error.transport, 'outbox');
      assert.match(error.message, /^outbox .*not-a-folder/);
      return true;
    });
  });
});
