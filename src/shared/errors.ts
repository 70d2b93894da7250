/**
 * One error tree for Portico. `code` is stable and documented; `status` is the HTTP status;
 * `expose` says whether `message` may be shown to the caller (otherwise a generic text plus the
 * correlation id is shown and the detail goes to the log only).
 */
export class PorticoError extends Error {
  readonly code: string;
  readonly status: number;
  readonly expose: boolean;

  constructor(code: string, message: string, options: { status?: number; expose?: boolean; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.status = options.status ?? 500;
    this.expose = options.expose ?? this.status < 500;
  }
}

/** The store cannot be reached: callers fail closed (503), never fall back to memory. */
export class StoreUnavailableError extends PorticoError {
  constructor(message: string, cause?: unknown) {
    super('store_unavailable', message, { status: 503, expose: false, cause });
  }
}

export class ConfigError extends PorticoError {
  readonly problems: readonly string[];
  constructor(problems: readonly string[]) {
    super('config_invalid', `configuration has ${problems.length} error(s):\n${problems.map((p) => `  - ${p}`).join('\n')}`, {
      status: 500,
      expose: false,
    });
    this.problems = problems;
  }
}

export const errorMessage = (error: unknown): string => (error instanceof Error ? error.message : String(error));
