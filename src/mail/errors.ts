import { PorticoError } from '../shared/errors.ts';

/**
 * A message could not be handed over (SMTP server down, slow, refusing, or the outbox folder not
 * writable). The message names the SMTP host for the log, never credentials or message content.
 */
export class MailDeliveryError extends PorticoError {
  readonly transport: 'smtp' | 'outbox';
  constructor(transport: 'smtp' | 'outbox', message: string) {
    // No `cause`: nodemailer's errors carry the SMTP command and reply, which may echo a login.
    super('mail_unavailable', message, { status: 503, expose: false });
    this.transport = transport;
  }
}
