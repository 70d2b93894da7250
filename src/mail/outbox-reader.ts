import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { simpleParser, type AddressObject } from 'mailparser';

export interface OutboxMessage {
  readonly file: string;
  readonly path: string;
  /** From the Date header; undefined when missing or unreadable. */
  readonly date: Date | undefined;
  /** The recipients as written in the To header. */
  readonly to: string;
  /** The recipients' addresses, lowercased. */
  readonly recipients: readonly string[];
  readonly subject: string;
  /** The text part, decoded. */
  readonly text: string | undefined;
}

const isMessageFile = (name: string): boolean => name.endsWith('.eml') && !name.startsWith('.');

const addressesOf = (to: AddressObject | AddressObject[] | undefined): string[] =>
  (Array.isArray(to) ? to : to ? [to] : []).flatMap((group) => group.value.flatMap((a) => (a.address ? [a.address.toLowerCase()] : [])));

/** The messages in the outbox, oldest first (file names sort by time); empty when the folder is missing. */
export async function readOutbox(dir: string): Promise<OutboxMessage[]> {
  let names: string[];
  try {
    names = (await readdir(dir)).filter(isMessageFile).sort();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  const messages: OutboxMessage[] = [];
  for (const file of names) {
    const path = join(dir, file);
    const parsed = await simpleParser(await readFile(path));
    const to = Array.isArray(parsed.to) ? parsed.to.map((a) => a.text).join(', ') : (parsed.to?.text ?? '');
    messages.push({
      file,
      path,
      date: parsed.date && !Number.isNaN(parsed.date.getTime()) ? parsed.date : undefined,
      to,
      recipients: addressesOf(parsed.to),
      subject: parsed.subject ?? '',
      text: parsed.text,
    });
  }
  return messages;
}

/** Whether `message` is addressed to `address` (compared case-insensitively). */
export const isAddressedTo = (message: OutboxMessage, address: string): boolean => message.recipients.includes(address.trim().toLowerCase());
