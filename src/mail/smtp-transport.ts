import { createTransport } from 'nodemailer';
import type { BrokerConfig } from '../config/types.ts';
import { MailDeliveryError } from './errors.ts';
import { nodemailerFields, recipientDomain, type MailTransport } from './message.ts';

type SmtpConfig = NonNullable<BrokerConfig['mail']['smtp']>;

/**
 * Bounds on every stage, so a dead or stalled SMTP server fails a sign-in within seconds instead
 * of holding it for nodemailer's defaults (2 min to connect, 10 min of silence).
 */
export const SMTP_LIMITS = {
  connectionTimeoutMs: 3000,
  greetingTimeoutMs: 3000,
  dnsTimeoutMs: 3000,
  socketTimeoutMs: 5000,
  /** The whole hand-over, queueing in the pool included. */
  deliveryTimeoutMs: 10_000,
} as const;

export function smtpTransport(smtp: SmtpConfig): MailTransport {
  const withAuth = smtp.user !== undefined;
  const transporter = createTransport({
    pool: true,
    maxConnections: 3,
    maxMessages: 100,
    // A server that drops the connection mid-message gets one more try, not five: the guest waits.
    maxRequeues: 1,
    host: smtp.host,
    port: smtp.port,
    secure: smtp.secure,
    // STARTTLS is used whenever offered; with credentials it is required, so a server (or a
    // man in the middle) that hides STARTTLS cannot make us send the password in clear.
    requireTLS: !smtp.secure && withAuth,
    tls: { minVersion: 'TLSv1.2' },
    ...(withAuth ? { auth: { user: smtp.user, pass: smtp.password } } : {}),
    connectionTimeout: SMTP_LIMITS.connectionTimeoutMs,
    greetingTimeout: SMTP_LIMITS.greetingTimeoutMs,
    dnsTimeout: SMTP_LIMITS.dnsTimeoutMs,
    socketTimeout: SMTP_LIMITS.socketTimeoutMs,
    disableFileAccess: true,
    disableUrlAccess: true,
    logger: false,
  });

  return {
    async deliver(message) {
      try {
        const info = await transporter.sendMail({ ...nodemailerFields(message), signal: AbortSignal.timeout(SMTP_LIMITS.deliveryTimeoutMs) });
        return { messageId: info.messageId };
      } catch (error) {
        throw new MailDeliveryError('smtp', `smtp ${smtp.host}:${smtp.port}: ${describeFailure(error, smtp, message.to)}`);
      }
    },
    async close() {
      transporter.close();
    },
  };
}

/**
 * nodemailer's error code and message, with anything resembling the credentials taken out, and
 * the recipient reduced to its domain (a refused RCPT echoes the address).
 */
export function describeFailure(error: unknown, smtp: SmtpConfig, recipient: string): string {
  const failure = error as { code?: unknown; message?: unknown; responseCode?: unknown };
  const code = typeof failure.code === 'string' ? failure.code : 'error';
  let text: string;
  if (code === 'EABORT') text = `no answer within ${SMTP_LIMITS.deliveryTimeoutMs / 1000} s`;
  else text = typeof failure.message === 'string' ? failure.message : String(error);
  for (const secret of credentialForms(smtp)) text = text.split(secret).join('***');
  const escaped = recipient.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  text = text.replace(new RegExp(escaped, 'giu'), `***@${recipientDomain(recipient)}`);
  return `${code}: ${text}`;
}

/** The password and user as they could appear in a reply: plain, and base64 as AUTH sends them. */
function credentialForms(smtp: SmtpConfig): string[] {
  const plain = [smtp.password, smtp.user].filter((value): value is string => value !== undefined && value.length > 0);
  const encoded = plain.map((value) => Buffer.from(value).toString('base64'));
  if (smtp.user !== undefined && smtp.password !== undefined) {
    encoded.push(Buffer.from(`\u0000${smtp.user}\u0000${smtp.password}`).toString('base64'));
  }
  // Longest first, so a string containing another is replaced whole.
  return [...encoded, ...plain].sort((a, b) => b.length - a.length);
}
