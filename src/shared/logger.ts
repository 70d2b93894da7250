import { pino, type Logger, type LoggerOptions } from 'pino';

export type { Logger };

/**
 * Keys whose values must never reach a log line, wherever they appear in a logged object.
 * Request logging never records query strings or bodies in the first place; this is the net
 * under that rule.
 */
export const REDACTED_KEYS = [
  'password',
  'secret',
  'client_secret',
  'clientSecret',
  'code',
  'code_verifier',
  'passcode',
  'otp',
  'token',
  'access_token',
  'refresh_token',
  'id_token',
  'authorization',
  'cookie',
  'set-cookie',
  'd',
  'p',
  'q',
  'dp',
  'dq',
  'qi',
  'privateKey',
  'encryptionSecret',
] as const;

const redactPaths = REDACTED_KEYS.flatMap((key) => [key, `*.${key}`, `*.*.${key}`]);

let stdout: pino.DestinationStream | undefined;

/**
 * Standard output, written asynchronously and shared by every logger of the process (one
 * destination, so lines of two loggers never interleave mid-line). A synchronous write(2) blocks
 * the event loop whenever the file system or a full pipe makes it wait; lines written while one
 * write is in flight go out together with the next. pino flushes what is left when the process
 * exits.
 */
function stdoutDestination(): pino.DestinationStream {
  stdout ??= pino.destination({ dest: 1, sync: false });
  return stdout;
}

export function createLogger(
  options: { level?: string; destination?: NodeJS.WritableStream | undefined; redact?: boolean } = {},
): Logger {
  const config: LoggerOptions = {
    level: options.level ?? process.env['LOG_LEVEL'] ?? 'info',
    base: { service: 'portico' },
    ...(options.redact === false ? {} : { redact: { paths: redactPaths, censor: '[redacted]' } }),
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
  };
  return pino(config, (options.destination as pino.DestinationStream | undefined) ?? stdoutDestination());
}

/** A logger that drops everything: for tests that do not look at logs. */
export const silentLogger = (): Logger => pino({ level: 'silent' });
