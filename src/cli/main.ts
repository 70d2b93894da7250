/**
 * `portico <command> [arguments]`. Subcommands live in ./commands/index.ts, keyed by command
 * path ('config validate'); this file only finds the entry, loads it and maps failures to exit
 * codes: 0 success, 1 failure, 2 usage error (unknown command, bad arguments).
 */
import { ConfigError, errorMessage } from '../shared/errors.ts';
import { commands } from './commands/index.ts';
import { UsageError, type CliIo, type CommandEntry } from './types.ts';

type Registry = Record<string, CommandEntry>;

interface Match {
  path: string;
  entry: CommandEntry;
  rest: string[];
}

/** The longest command path that prefixes the leading words of `argv`. */
function findCommand(argv: string[], registry: Registry): Match | undefined {
  const words = leadingWords(argv);
  for (let length = words.length; length > 0; length--) {
    const path = words.slice(0, length).join(' ');
    const entry = registry[path];
    if (entry) return { path, entry, rest: argv.slice(length) };
  }
  return undefined;
}

const leadingWords = (argv: string[]): string[] => {
  const end = argv.findIndex((arg) => arg.startsWith('-'));
  return end === -1 ? argv : argv.slice(0, end);
};

function usage(registry: Registry, prefix = ''): string {
  const rows = Object.entries(registry)
    .filter(([path]) => prefix === '' || path === prefix || path.startsWith(`${prefix} `))
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([path, entry]) => [`${path} ${entry.args}`.trim(), entry.summary] as const);
  if (prefix === '') rows.push(['help [command]', 'show help for a command']);
  const width = Math.max(...rows.map(([left]) => left.length));
  return [
    'Usage: portico <command> [arguments]',
    '',
    'Commands:',
    ...rows.map(([left, summary]) => `  ${left.padEnd(width)}  ${summary}`),
    '',
    "Run 'portico help <command>' or 'portico <command> --help' for details.",
    '',
  ].join('\n');
}

const commandUsage = (match: { path: string; entry: CommandEntry }): string =>
  `Usage: portico ${`${match.path} ${match.entry.args}`.trim()}\n\n${match.entry.summary}\n`;

/** node:util parseArgs rejects unknown options and missing values with these codes. */
const isParseArgsError = (error: unknown): error is Error => {
  const code: unknown = error instanceof Error ? (error as Error & { code?: unknown }).code : undefined;
  return typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS_');
};

export async function main(argv: string[], io: CliIo, registry: Registry = commands): Promise<number> {
  const [first, ...others] = argv;
  if (first === undefined || first === 'help' || first === '--help' || first === '-h') {
    const topic = first === 'help' ? others : [];
    if (topic.length === 0) {
      io.stdout.write(usage(registry));
      return 0;
    }
    const match = findCommand(topic, registry);
    if (match && match.rest.length === 0) {
      io.stdout.write(commandUsage(match));
      return 0;
    }
    return unknownCommand(topic, io, registry);
  }

  const match = findCommand(argv, registry);
  if (!match) return unknownCommand(argv, io, registry);
  if (match.rest.includes('--help') || match.rest.includes('-h')) {
    io.stdout.write(commandUsage(match));
    return 0;
  }
  try {
    const command = await match.entry.load();
    return await command.run(match.rest, io);
  } catch (error) {
    if (error instanceof UsageError || isParseArgsError(error)) {
      io.stderr.write(`portico ${match.path}: ${error.message}\n\n${commandUsage(match)}`);
      return 2;
    }
    if (error instanceof ConfigError) {
      for (const problem of error.problems) io.stderr.write(`${problem}\n`);
      return 1;
    }
    io.stderr.write(`portico ${match.path}: ${errorMessage(error)}\n`);
    return 1;
  }
}

function unknownCommand(argv: string[], io: CliIo, registry: Registry): number {
  const words = leadingWords(argv).join(' ');
  // `portico config` names a group: listing its commands helps more than the full usage.
  const group = Object.keys(registry).some((path) => path.startsWith(`${words} `));
  io.stderr.write(group ? `portico ${words}: missing subcommand\n\n${usage(registry, words)}` : `unknown command '${words || argv.join(' ')}'\n\n${usage(registry)}`);
  return 2;
}

if (import.meta.main) {
  process.exitCode = await main(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, env: process.env });
}
