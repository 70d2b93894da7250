import { createServer, type Server, type Socket } from 'node:net';
import { domainToASCII } from 'node:url';
import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer } from 'smtp-server';

/**
 * A real SMTP server on a free loopback port that keeps what it receives, parsed by mailparser,
 * for tests to read (the passcode in a mail, the headers). Without TLS: STARTTLS is disabled, so
 * nodemailer sends in clear as it does to any server that does not offer it.
 */

export interface ReceivedMail {
  /** Envelope recipients (RCPT TO), as sent. */
  readonly rcptTo: readonly string[];
  readonly mailFrom: string;
  readonly parsed: ParsedMail;
  /** The message as it crossed the wire. */
  readonly raw: Buffer;
}

export interface SmtpSink {
  readonly host: '127.0.0.1';
  readonly port: number;
  readonly received: readonly ReceivedMail[];
  /** How many AUTH attempts the server saw (only with `auth: true`). */
  readonly authAttempts: number;
  /** The next message to `address` (case-insensitive) not yet handed out, waiting for it if needed. */
  nextMessageTo(address: string, timeoutMs?: number): Promise<ReceivedMail>;
  /** Refuses the next `count` messages at DATA with a temporary failure (451). */
  refuseNext(count?: number): void;
  close(): Promise<void>;
}

/** smtp-server shows an IDN domain in Unicode even when it came as punycode: compare in ASCII. */
function comparable(address: string): string {
  const at = address.lastIndexOf('@');
  return `${address.slice(0, at)}@${domainToASCII(address.slice(at + 1))}`.toLowerCase();
}

export async function startSmtpSink(options: { auth?: boolean } = {}): Promise<SmtpSink> {
  const received: ReceivedMail[] = [];
  const claimed = new Set<ReceivedMail>();
  const waiters: { address: string; resolve: (mail: ReceivedMail) => void }[] = [];
  let refusals = 0;
  let authAttempts = 0;

  const deliverToWaiters = (): void => {
    for (const waiter of [...waiters]) {
      const mail = received.find((m) => !claimed.has(m) && m.rcptTo.some((to) => comparable(to) === waiter.address));
      if (!mail) continue;
      claimed.add(mail);
      waiters.splice(waiters.indexOf(waiter), 1);
      waiter.resolve(mail);
    }
  };

  const server = new SMTPServer({
    logger: false,
    closeTimeout: 200,
    // A reverse DNS lookup of 127.0.0.1 costs hundreds of milliseconds on some machines.
    disableReverseLookup: true,
    disabledCommands: options.auth ? ['STARTTLS'] : ['STARTTLS', 'AUTH'],
    authOptional: true,
    // Lets a client log in over plain text, so a test can see that Portico never tries.
    allowInsecureAuth: true,
    onAuth(_auth, _session, callback) {
      authAttempts += 1;
      callback(null, { user: 'test' });
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        if (refusals > 0) {
          refusals -= 1;
          callback(Object.assign(new Error('mailbox busy, try later'), { responseCode: 451 }));
          return;
        }
        const raw = Buffer.concat(chunks);
        simpleParser(raw).then(
          (parsed) => {
            const mailFrom = session.envelope.mailFrom === false ? '' : session.envelope.mailFrom.address;
            received.push({ rcptTo: session.envelope.rcptTo.map((r) => r.address), mailFrom, parsed, raw });
            callback();
            deliverToWaiters();
          },
          (error: Error) => callback(error),
        );
      });
    },
  });

  await new Promise<void>((resolve, reject) => {
    server.server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;

  return {
    host: '127.0.0.1',
    port,
    received,
    get authAttempts() {
      return authAttempts;
    },
    nextMessageTo(to, timeoutMs = 5000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          const index = waiters.indexOf(waiter);
          if (index >= 0) waiters.splice(index, 1);
          reject(new Error(`no message to ${to} within ${timeoutMs} ms`));
        }, timeoutMs);
        const waiter = {
          address: comparable(to),
          resolve: (mail: ReceivedMail) => {
            clearTimeout(timer);
            resolve(mail);
          },
        };
        waiters.push(waiter);
        deliverToWaiters();
      });
    },
    refuseNext(count = 1) {
      refusals += count;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/**
 * A TCP listener that accepts connections and never says a word: an SMTP server that hangs
 * before its greeting.
 */
export async function startSilentServer(): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    port,
    close: () => {
      for (const socket of sockets) socket.destroy();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
