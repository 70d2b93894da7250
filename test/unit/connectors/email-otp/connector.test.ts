import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MAX_WRONG_ATTEMPTS } from '../../../../src/connectors/email-otp/index.ts';
import { freeLoopbackPort } from '../../../helpers/redis.ts';
import { startSmtpSink, type SmtpSink } from '../../../helpers/smtp.ts';
import { codeIn, FROM, harness, outcomes, rejectsWithCode, smtpMail, START, wrongCode, type Harness } from './harness.ts';

const IP = '203.0.113.7';
const BOB = 'bob@fabrikam.example';

let sink: SmtpSink;

/** A harness with its own SMTP sink, so no test reads another's mail. */
async function withHarness(test: (h: Harness) => Promise<void>, config: Record<string, unknown> = {}): Promise<void> {
  sink = await startSmtpSink();
  const h = harness({ mail: smtpMail(sink.port), config });
  try {
    await test(h);
  } finally {
    await h.close();
    await sink.close();
  }
}

const send = (h: Harness, flowId: string, email = BOB, clientIp = IP) => h.connector.send({ flowId, email, clientIp, tenantDisplayName: 'Contoso' });
const verify = (h: Harness, flowId: string, code: string, email = BOB, clientIp = IP) => h.connector.verify({ flowId, email, code, clientIp });

/** Sends a code for the flow and returns it as read from the delivered mail. */
async function mailedCode(h: Harness, flowId: string, email = BOB): Promise<string> {
  assert.deepEqual(await send(h, flowId, email), { status: 'sent' });
  return codeIn(await sink.nextMessageTo(email));
}

describe('email-otp: the passcode mail and the identity it yields', () => {
  it('mails an 8-digit code that signs the guest in as a verified mail identity, single factor', () =>
    withHarness(async (h) => {
      assert.deepEqual(await send(h, 'flow-1'), { status: 'sent' });
      const mail = await sink.nextMessageTo(BOB);
      assert.deepEqual(mail.rcptTo, [BOB]);
      assert.equal(mail.parsed.from?.text, FROM.replace('Contoso sign-in', '"Contoso sign-in"'));
      assert.equal(mail.parsed.subject, 'Your Contoso verification code');
      const text = mail.parsed.text ?? '';
      const code = codeIn(mail);
      assert.match(code, /^\d{8}$/);
      assert.match(text, /expires in 10 minutes/);
      assert.match(text, /If you did not try to sign in to Contoso, ignore this email/);
      assert.ok(String(mail.parsed.html).includes(code));
      for (const part of [text, String(mail.parsed.html)]) assert.doesNotMatch(part, /https?:|www\.|<a[\s>]/i, 'no links');

      assert.deepEqual(await verify(h, 'flow-1', code), {
        connectorId: 'mail',
        kind: 'email-otp',
        issuer: 'mail',
        subject: BOB,
        idp: 'mail',
        email: BOB,
        emailVerified: true,
        amr: ['otp'],
        rawClaims: { email: BOB },
      });
    }));

  it('mails the normalised address and makes case variants one identity, keeping the local part as typed', () =>
    withHarness(async (h) => {
      assert.deepEqual(await send(h, 'flow-1', '  Bob.Smith@Fabrikam.EXAMPLE '), { status: 'sent' });
      const mail = await sink.nextMessageTo('Bob.Smith@fabrikam.example');
      assert.deepEqual(mail.rcptTo, ['Bob.Smith@fabrikam.example']);
      const identity = await verify(h, 'flow-1', codeIn(mail), 'bob.smith@fabrikam.example');
      assert.equal(identity.subject, 'bob.smith@fabrikam.example');
      assert.equal(identity.email, 'bob.smith@fabrikam.example');
    }));

  it('accepts the code with the spaces or dashes people type, and refuses non-codes without spending an attempt', () =>
    withHarness(async (h) => {
      const code = await mailedCode(h, 'flow-1');
      for (let i = 0; i < MAX_WRONG_ATTEMPTS + 2; i++) await rejectsWithCode(verify(h, 'flow-1', 'abc'), 'invalid_code');
      await rejectsWithCode(verify(h, 'flow-1', code.slice(0, 7)), 'invalid_code');
      assert.equal((await h.passcodes.get(h.key('flow-1', BOB)))?.attempts, 0);
      assert.equal((await verify(h, 'flow-1', ` ${code.slice(0, 4)}-${code.slice(4)} `)).subject, BOB);
    }));

  it('stores only a salted hash of the code, with the flow, address and times', () =>
    withHarness(async (h) => {
      const code = await mailedCode(h, 'flow-1', 'Bob@Fabrikam.example');
      const stored = await h.passcodes.get(h.key('flow-1', BOB));
      assert.ok(stored);
      assert.ok(!stored.hash.includes(code));
      assert.match(stored.hash, /^v1\$[\w-]{22}\$[\w-]{43}$/);
      assert.deepEqual({ ...stored, hash: '' }, { hash: '', email: 'Bob@fabrikam.example', flowId: 'flow-1', expiresAt: START + 600_000, attempts: 0, sentAt: START });
    }));

  it('never logs the code or the address, only its domain', () =>
    withHarness(async (h) => {
      const code = await mailedCode(h, 'flow-1', 'carol.secret@fabrikam.example');
      await rejectsWithCode(verify(h, 'flow-1', wrongCode(code), 'carol.secret@fabrikam.example'), 'invalid_code');
      await verify(h, 'flow-1', code, 'carol.secret@fabrikam.example');
      const text = h.log.text();
      assert.ok(!text.includes(code) && !text.includes(wrongCode(code)), 'no code in the log');
      assert.ok(!text.includes('carol.secret'), 'no local part in the log');
      const events = h.log.lines().map((l) => l['event']);
      assert.deepEqual(events, ['mail_sent', 'passcode_sent', 'passcode_verified']);
      assert.ok(h.log.lines().every((l) => l['emailDomain'] === undefined || l['emailDomain'] === 'fabrikam.example'));
    }));

  it('gives the same answer for any address: it cannot tell invited from unknown', () =>
    withHarness(async (h) => {
      const addresses = ['invited.guest@fabrikam.example', 'nobody-knows-me@unknown-partner.example', 'x@xn--mnchen-3ya.example'];
      const results = await Promise.all(addresses.map((email, i) => send(h, `flow-${i}`, email)));
      assert.deepEqual(results, addresses.map(() => ({ status: 'sent' })));
      for (const email of addresses) assert.equal((await sink.nextMessageTo(email)).parsed.subject, 'Your Contoso verification code');
    }));

  it('refuses an address with CR/LF or other junk on send and verify, mailing nothing', () =>
    withHarness(async (h) => {
      const before = sink.received.length;
      for (const email of ['bob@fabrikam.example\r\nBcc: eve@evil.example', 'bob@fabrikam.example\n', 'bob@evil.example,bob@fabrikam.example', 'bob', 'bob@localhost']) {
        await rejectsWithCode(send(h, 'flow-1', email), 'incomplete_identity');
        await rejectsWithCode(verify(h, 'flow-1', '12345678', email), 'incomplete_identity');
      }
      assert.equal(sink.received.length, before);
    }));
});

describe('email-otp: a code is single use, short-lived and bound to its flow and address', () => {
  it('works once', () =>
    withHarness(async (h) => {
      const code = await mailedCode(h, 'flow-1');
      await verify(h, 'flow-1', code);
      await rejectsWithCode(verify(h, 'flow-1', code), 'code_expired');
    }));

  it('expires after codeLifetimeMinutes', () =>
    withHarness(
      async (h) => {
        const early = await mailedCode(h, 'flow-1');
        const late = await mailedCode(h, 'flow-2');
        h.clock.advance(3 * 60_000 - 1);
        assert.equal((await verify(h, 'flow-1', early)).subject, BOB);
        h.clock.advance(1);
        await rejectsWithCode(verify(h, 'flow-2', late), 'code_expired');
      },
      { codeLifetimeMinutes: 3 },
    ));

  it("is useless in another browser's flow, and for another address", () =>
    withHarness(async (h) => {
      const code = await mailedCode(h, 'flow-a');
      await rejectsWithCode(verify(h, 'flow-b', code), 'code_expired');
      await mailedCode(h, 'flow-b');
      await rejectsWithCode(verify(h, 'flow-b', code), 'invalid_code');
      await rejectsWithCode(verify(h, 'flow-a', code, 'carol@fabrikam.example'), 'code_expired');
      assert.equal((await verify(h, 'flow-a', code)).subject, BOB);
    }));

  it(`dies on the ${MAX_WRONG_ATTEMPTS}th wrong entry: the right code is refused after that`, () =>
    withHarness(async (h) => {
      const code = await mailedCode(h, 'flow-1');
      for (let i = 1; i < MAX_WRONG_ATTEMPTS; i++) await rejectsWithCode(verify(h, 'flow-1', wrongCode(code)), 'invalid_code');
      await rejectsWithCode(verify(h, 'flow-1', wrongCode(code)), 'too_many_attempts');
      await rejectsWithCode(verify(h, 'flow-1', code), 'too_many_attempts');
      assert.ok(h.log.lines().some((l) => l['event'] === 'passcode_locked'));
    }));

  it('compares at most five guesses however many race', () =>
    withHarness(async (h) => {
      const code = await mailedCode(h, 'flow-1');
      const guesses = Array.from({ length: 30 }, (_, i) => String((Number(code) + 1 + i) % 100_000_000).padStart(8, '0'));
      const results = outcomes(await Promise.allSettled(guesses.map((guess) => verify(h, 'flow-1', guess))));
      assert.equal(results.filter((r) => r === 'invalid_code').length, MAX_WRONG_ATTEMPTS - 1);
      assert.equal(results.filter((r) => r === 'too_many_attempts').length, 30 - (MAX_WRONG_ATTEMPTS - 1));
      await rejectsWithCode(verify(h, 'flow-1', code), 'too_many_attempts');
    }));

  it('gives exactly one identity when the right code is verified in parallel', () =>
    withHarness(async (h) => {
      const code = await mailedCode(h, 'flow-1');
      const results = outcomes(await Promise.allSettled(Array.from({ length: MAX_WRONG_ATTEMPTS }, () => verify(h, 'flow-1', code))));
      assert.deepEqual(results.sort(), ['code_expired', 'code_expired', 'code_expired', 'code_expired', 'ok']);
      const many = await mailedCode(h, 'flow-2');
      const more = outcomes(await Promise.allSettled(Array.from({ length: 20 }, () => verify(h, 'flow-2', many))));
      assert.equal(more.filter((r) => r === 'ok').length, 1);
      assert.ok(more.every((r) => ['ok', 'code_expired', 'too_many_attempts'].includes(r)), more.join());
    }));
});

describe('email-otp: resend and rate limits', () => {
  it('replaces the code on resend, but not before resendAfterSeconds', () =>
    withHarness(async (h) => {
      const first = await mailedCode(h, 'flow-1');
      h.clock.advance(20_500);
      assert.deepEqual(await send(h, 'flow-1'), { status: 'throttled', retryAfterSeconds: 40 });
      h.clock.advance(39_499);
      assert.deepEqual(await send(h, 'flow-1'), { status: 'throttled', retryAfterSeconds: 1 });
      h.clock.advance(1);
      const second = await mailedCode(h, 'flow-1');
      await rejectsWithCode(verify(h, 'flow-1', first === second ? wrongCode(second) : first), 'invalid_code');
      assert.equal((await verify(h, 'flow-1', second)).subject, BOB);
    }));

  it('limits codes per address per hour across flows and spellings, then lets them through in the next hour', () =>
    withHarness(
      async (h) => {
        h.clock.set(START + 15 * 60_000);
        const spellings = ['bob@fabrikam.example', 'BOB@fabrikam.example', 'Bob@FABRIKAM.example'];
        for (let i = 0; i < 3; i++) await mailedCode(h, `flow-${i}`, spellings[i]);
        const sent = sink.received.length;
        assert.deepEqual(await send(h, 'flow-3', 'bOb@fabrikam.example', '198.51.100.9'), { status: 'throttled', retryAfterSeconds: 45 * 60 });
        assert.equal(sink.received.length, sent, 'nothing mailed when throttled');
        assert.deepEqual(await send(h, 'flow-3', 'carol@fabrikam.example'), { status: 'sent' }, 'other addresses are not held back');
        await sink.nextMessageTo('carol@fabrikam.example');
        h.clock.set(START + 60 * 60_000);
        await mailedCode(h, 'flow-4');
      },
      { maxCodesPerAddressPerHour: 3 },
    ));

  it('limits codes per client IP per hour', () =>
    withHarness(
      async (h) => {
        for (let i = 0; i < 3; i++) await mailedCode(h, `flow-${i}`, `guest${i}@fabrikam.example`);
        assert.deepEqual(await send(h, 'flow-3', 'guest3@fabrikam.example'), { status: 'throttled', retryAfterSeconds: 3600 });
        assert.deepEqual(await send(h, 'flow-3', 'guest3@fabrikam.example', '198.51.100.9'), { status: 'sent' });
        await sink.nextMessageTo('guest3@fabrikam.example');
      },
      { maxCodesPerIpPerHour: 3 },
    ));

  it('limits code entries per client IP per hour, right or wrong', () =>
    withHarness(
      async (h) => {
        const code = await mailedCode(h, 'flow-1');
        await rejectsWithCode(verify(h, 'flow-1', wrongCode(code)), 'invalid_code');
        await rejectsWithCode(verify(h, 'flow-other', code), 'code_expired');
        await rejectsWithCode(verify(h, 'flow-1', 'junk'), 'invalid_code');
        await rejectsWithCode(verify(h, 'flow-1', code), 'throttled');
        assert.equal((await verify(h, 'flow-1', code, BOB, '198.51.100.9')).subject, BOB);
      },
      { maxVerifyAttemptsPerIpPerHour: 3 },
    ));
});

describe('email-otp: when the mail cannot be sent', () => {
  it('withdraws the code when the server refuses the mail, so a resend goes through at once', () =>
    withHarness(async (h) => {
      sink.refuseNext();
      await rejectsWithCode(send(h, 'flow-1'), 'upstream_unavailable');
      await rejectsWithCode(verify(h, 'flow-1', '12345678'), 'code_expired');
      assert.equal(await h.passcodes.get(h.key('flow-1', BOB)), undefined, 'no challenge is left usable');
      const code = await mailedCode(h, 'flow-1');
      assert.equal((await verify(h, 'flow-1', code)).subject, BOB);
    }));

  it('fails fast and cleanly when the SMTP server is down', async () => {
    const h = harness({ mail: smtpMail(await freeLoopbackPort()) });
    try {
      const started = performance.now();
      await rejectsWithCode(send(h, 'flow-1'), 'upstream_unavailable');
      await rejectsWithCode(send(h, 'flow-1'), 'upstream_unavailable');
      assert.ok(performance.now() - started < 5000);
      assert.equal(await h.passcodes.get(h.key('flow-1', BOB)), undefined);
      const failure = h.log.lines().find((l) => l['event'] === 'mail_failed');
      assert.match(String(failure?.['reason']), /^smtp 127\.0\.0\.1:\d+: /);
    } finally {
      await h.close();
    }
  });
});
