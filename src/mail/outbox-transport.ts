import { randomBytes } from 'node:crypto';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createTransport } from 'nodemailer';
import { errorMessage } from '../shared/errors.ts';
import { MailDeliveryError } from './errors.ts';
import { nodemailerFields, type MailTransport } from './message.ts';

/**
 * `20261127T143012.123Z-000001-9f8e7d6c.eml`: names sort in the order the messages were written
 * (the sequence orders messages within one millisecond; the random part keeps instances sharing
 * a folder from clashing).
 */
export function outboxFileName(date: Date, sequence: number, random = randomBytes(4).toString('hex')): string {
  const stamp = date.toISOString().replace(/[-:]/g, '');
  return `${stamp}-${String(sequence).padStart(6, '0')}-${random}.eml`;
}

/**
 * Development transport: every message becomes an RFC 5322 file in `dir` instead of leaving the
 * machine. nodemailer's stream transport builds it, so the file is the exact MIME message SMTP
 * would have carried. Passcodes sit in these files, so the folder is 0700 and files 0600.
 */
export function outboxTransport(dir: string): MailTransport {
  const composer = createTransport({ streamTransport: true, buffer: true, newline: 'windows', disableFileAccess: true, disableUrlAccess: true });
  let sequence = 0;

  return {
    async deliver(message) {
      try {
        const info = await composer.sendMail(nodemailerFields(message));
        const name = outboxFileName(message.date, (sequence += 1));
        await mkdir(dir, { recursive: true, mode: 0o700 });
        // Written aside and renamed, so a reader never sees half a message.
        const temp = join(dir, `.${name}.tmp`);
        await writeFile(temp, info.message as Buffer, { mode: 0o600, flag: 'wx' });
        try {
          await rename(temp, join(dir, name));
        } catch (error) {
          await rm(temp, { force: true });
          throw error;
        }
        return { messageId: info.messageId };
      } catch (error) {
        throw new MailDeliveryError('outbox', `outbox ${dir}: ${errorMessage(error)}`);
      }
    },
    async close() {
      composer.close();
    },
  };
}
