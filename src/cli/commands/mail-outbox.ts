import { parseArgs } from 'node:util';
import { loadConfig } from '../../config/load.ts';
import { isAddressedTo, readOutbox, type OutboxMessage } from '../../mail/outbox-reader.ts';
import { UsageError, type CliIo } from '../types.ts';

// What a message could smuggle into a terminal (escape sequences); newlines and tabs stay in bodies.
const printable = (text: string, keepLines = false): string =>
  text.replace(keepLines ? /[^\P{Cc}\n\t]/gu : /\p{Cc}/gu, '?');

const when = (message: OutboxMessage): string => (message.date ? message.date.toISOString().replace(/\.\d{3}Z$/, 'Z') : message.file.slice(0, 20));

/**
 * `portico mail outbox [--last] [--to <address>]`: what the `outbox` transport wrote, so a
 * developer can read the passcode Portico just "sent".
 */
export async function run(args: string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({ args, options: { last: { type: 'boolean' }, to: { type: 'string' }, config: { type: 'string' } } });
  if (values.to !== undefined && !values.to.includes('@')) throw new UsageError('--to must be an email address');
  const { config } = await loadConfig(values.config ?? (io.env['PORTICO_CONFIG'] || 'config'), io.env);
  const { outboxDir, transport } = config.broker.mail;
  if (transport !== 'outbox') {
    io.stderr.write(`note: mail.transport is ${transport}, so new mail goes to the SMTP server; the outbox only holds older messages\n`);
  }

  const to = values.to;
  const messages = (await readOutbox(outboxDir)).filter((message) => to === undefined || isAddressedTo(message, to));
  if (messages.length === 0) {
    const whom = to === undefined ? '' : ` to ${to}`;
    (values.last ? io.stderr : io.stdout).write(`no messages${whom} in ${outboxDir}\n`);
    return values.last ? 1 : 0;
  }

  if (values.last) {
    const newest = messages.at(-1) as OutboxMessage;
    if (newest.text === undefined) {
      io.stderr.write(`${newest.file} has no text part\n`);
      return 1;
    }
    const text = printable(newest.text, true);
    io.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
    return 0;
  }

  const width = Math.max(...messages.map((message) => message.to.length));
  for (const message of messages) {
    io.stdout.write(`${when(message)}  ${printable(message.to).padEnd(width)}  ${printable(message.subject)}\n`);
  }
  return 0;
}
