import { parseArgs } from 'node:util';
import { loadConfig } from '../../config/load.ts';
import { ConfigError } from '../../shared/errors.ts';
import { UsageError, type CliIo } from '../types.ts';

export async function run(args: string[], io: CliIo): Promise<number> {
  const { positionals } = parseArgs({ args, options: {}, allowPositionals: true });
  if (positionals.length > 1) throw new UsageError('expected at most one folder');
  const folder = positionals[0] ?? (io.env['PORTICO_CONFIG'] || 'config');
  try {
    const { config, warnings } = await loadConfig(folder, io.env);
    const ids = config.tenants.map((tenant) => tenant.id).join(', ');
    io.stdout.write(`config OK: ${config.tenants.length} tenant(s) (${ids}), hash ${config.hash.slice(0, 12)}\n`);
    for (const warning of warnings) io.stderr.write(`warning: ${warning}\n`);
    return 0;
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    for (const problem of error.problems) io.stderr.write(`${problem}\n`);
    io.stderr.write(`config invalid: ${error.problems.length} error(s)\n`);
    return 1;
  }
}
