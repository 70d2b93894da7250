export { createMailer, type ClosableMailer } from './mailer.ts';
export { MailDeliveryError } from './errors.ts';
export { SMTP_LIMITS } from './smtp-transport.ts';
export { outboxFileName } from './outbox-transport.ts';
export { readOutbox, isAddressedTo, type OutboxMessage } from './outbox-reader.ts';
