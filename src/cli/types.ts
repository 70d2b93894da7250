/**
 * The contract between `portico` (src/cli/main.ts) and its subcommands. Commands get their
 * streams and environment from `io` instead of touching `process`, so tests can run them
 * in-process and capture what they print.
 */

export interface CliIo {
  readonly stdout: { write(chunk: string): unknown };
  readonly stderr: { write(chunk: string): unknown };
  readonly env: NodeJS.ProcessEnv;
}

export interface CliCommand {
  /** `args` are the words after the command path. Resolves to the process exit code. */
  run(args: string[], io: CliIo): Promise<number>;
}

export interface CommandEntry {
  /** Arguments after the command path, as shown in usage (e.g. `[folder]`). */
  args: string;
  /** One line for the command list. */
  summary: string;
  /** Loaded on demand: `portico help` must not pay for (or break on) every command's imports. */
  load(): Promise<CliCommand>;
}

/** Bad arguments: main prints the message and the command's usage, and exits 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}
