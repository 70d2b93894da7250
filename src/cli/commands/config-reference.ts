import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { renderConfigReference } from '../../config/reference.ts';
import { UsageError, type CliIo } from '../types.ts';

/** The committed reference, found from this file so the command works from any directory. */
export const REFERENCE_PATH = fileURLToPath(new URL('../../../config/REFERENCE.md', import.meta.url));

export const REGENERATE_COMMAND = 'npm run config:reference';

export async function run(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: { check: { type: 'boolean', default: false }, out: { type: 'string' } },
    allowPositionals: true,
  });
  if (positionals.length > 0) throw new UsageError(`unexpected argument '${positionals[0]}'`);
  const out = path.resolve(values.out ?? REFERENCE_PATH);
  const relative = path.relative(process.cwd(), out);
  const shown = relative === '' || relative.startsWith('..') ? out : relative;
  const text = renderConfigReference();

  if (values.check) {
    const current = await readFile(out, 'utf8').catch(() => undefined);
    if (current !== text) {
      io.stderr.write(`${shown} is out of date with the schema: run \`${REGENERATE_COMMAND}\`\n`);
      return 1;
    }
    io.stdout.write(`${shown} is up to date\n`);
    return 0;
  }
  await writeFile(out, text);
  io.stdout.write(`wrote ${shown}\n`);
  return 0;
}
