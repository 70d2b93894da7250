import assert from 'node:assert/strict';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createEmailOtpConnector, emailOtpConfigSchema } from '../../../../src/connectors/email-otp/index.ts';
import { challengeKey } from '../../../../src/connectors/email-otp/keys.ts';
import { UpstreamError, type CodeConnector, type PasscodeStore, type UpstreamErrorCode } from '../../../../src/connectors/types.ts';
import type { BrokerConfig } from '../../../../src/config/types.ts';
import { createMailer, type ClosableMailer } from '../../../../src/mail/index.ts';
import { ManualClock } from '../../../../src/shared/clock.ts';
import { createMemoryStore } from '../../../../src/storage/memory/memory-store.ts';
import type { DocumentStore } from '../../../../src/storage/ports.ts';
import { createPasscodeStore } from '../../../../src/storage/repositories/passcodes.ts';
import type { ReceivedMail } from '../../../helpers/smtp.ts';
import { capturingLogger } from '../../mail/helpers.ts';

export const TENANT = 'contoso';
export const TENANT_NAME = 'Contoso';
export const START = Date.UTC(2026, 10, 27, 14, 0, 0);
export const FROM = 'Contoso sign-in <no-reply@contoso.example>';

export const smtpMail = (port: number): BrokerConfig['mail'] => ({
  transport: 'smtp',
  from: FROM,
  outboxDir: join(tmpdir(), 'unused-outbox'),
  smtp: { host: '127.0.0.1', port, secure: false },
});

export interface Harness {
  readonly connector: CodeConnector<'email-otp'>;
  readonly clock: ManualClock;
  readonly passcodes: PasscodeStore;
  readonly log: ReturnType<typeof capturingLogger>;
  /** The stored challenge's key, as the connector derives it. */
  key(flowId: string, email: string): string;
  close(): Promise<void>;
}

/**
 * The connector as the composition root builds it: the real schema (with its defaults), the real
 * passcode store on a document store (memory unless given), the real mailer.
 */
export function harness(options: { mail: BrokerConfig['mail']; config?: Record<string, unknown>; store?: DocumentStore }): Harness {
  const clock = new ManualClock(START);
  const log = capturingLogger();
  const store = options.store ?? createMemoryStore({ clock });
  const passcodes = createPasscodeStore(store);
  const mailer: ClosableMailer = createMailer(options.mail, { logger: log.logger, clock });
  const config = emailOtpConfigSchema.parse({ id: 'mail', kind: 'email-otp', ...options.config });
  const connector = createEmailOtpConnector(config, { tenantId: TENANT, tenantDisplayName: TENANT_NAME, clock, logger: log.logger, passcodes, mailer });
  return {
    connector,
    clock,
    passcodes,
    log,
    key: (flowId, email) => challengeKey({ tenantId: TENANT, connectorId: 'mail' }, flowId, email.toLowerCase()),
    close: async () => {
      await mailer.close();
      if (!options.store) await store.close();
    },
  };
}

/** The code in a passcode mail's text part. */
export function codeIn(mail: ReceivedMail): string {
  const match = /^\s*(\d{8})\s*$/m.exec(mail.parsed.text ?? '');
  assert.ok(match, `no code in: ${mail.parsed.text}`);
  return match[1] as string;
}

/** A code that is not `code`. */
export const wrongCode = (code: string): string => String((Number(code) + 1) % 100_000_000).padStart(8, '0');

export async function rejectsWithCode(promise: Promise<unknown>, code: UpstreamErrorCode): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof UpstreamError, `expected UpstreamError, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    assert.equal(error.connectorId, 'mail');
    return true;
  });
}

/** The error codes (or 'ok') of settled verify calls. */
export const outcomes = (results: PromiseSettledResult<unknown>[]): string[] =>
  results.map((r) => (r.status === 'fulfilled' ? 'ok' : r.reason instanceof UpstreamError ? r.reason.code : String(r.reason)));
