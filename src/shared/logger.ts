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
  return options.destination ? pino(config, options.destination as pino.DestinationStream) : pino(config);
}

/** A logger that drops everything: for tests that do not look at logs. */
export const silentLogger = (): Logger => pino({ level: 'silent' });
