import type { BrokerConfig } from '../config/types.ts';
import type { Mailer } from '../connectors/types.ts';
import type { Clock } from '../shared/clock.ts';
import { ConfigError } from '../shared/errors.ts';
import type { Logger } from '../shared/logger.ts';
import { MailDeliveryError } from './errors.ts';
import { recipientDomain, type MailTransport } from './message.ts';
import { outboxTransport } from './outbox-transport.ts';
import { smtpTransport } from './smtp-transport.ts';

export type ClosableMailer = Mailer & { close(): Promise<void> };

// One address, no list or header syntax: the mailer is the last line before the wire.
const SINGLE_ADDRESS = /^[^\s@<>,;:"()[\]\\]+@[^\s@<>,;:"()[\]\\]+$/u;
const CONTROL = /[\p{Cc}\p{Zl}\p{Zp}]/u;

/**
 * Portico's outgoing mail: SMTP through a nodemailer pool, or (the default) the file outbox for
 * development. Logs one line per message with the recipient's domain and the Message-ID; never
 * the address, subject or body (bodies hold passcodes).
 */
export function createMailer(config: BrokerConfig['mail'], deps: { readonly logger: Logger; readonly clock: Clock }): ClosableMailer {
  const transport = pickTransport(config);
  const { logger, clock } = deps;

  return {
    async send(message) {
      if (!SINGLE_ADDRESS.test(message.to) || CONTROL.test(message.to)) {
        throw new MailDeliveryError(config.transport, 'refused a recipient that is not a single plain address');
      }
      const toDomain = recipientDomain(message.to);
      try {
        const { messageId } = await transport.deliver({ ...message, from: config.from, date: new Date(clock.now()) });
        logger.info({ event: 'mail_sent', transport: config.transport, toDomain, messageId }, 'mail sent');
      } catch (error) {
        const failure = error instanceof MailDeliveryError ? error : new MailDeliveryError(config.transport, `${config.transport}: unexpected failure`);
        logger.warn({ event: 'mail_failed', transport: config.transport, toDomain, reason: failure.message }, 'mail not sent');
        throw failure;
      }
    },
    close: () => transport.close(),
  };
}

function pickTransport(config: BrokerConfig['mail']): MailTransport {
  if (config.transport === 'outbox') return outboxTransport(config.outboxDir);
  if (!config.smtp) throw new ConfigError(['mail.smtp: is required when mail.transport is smtp']);
  return smtpTransport(config.smtp);
}
