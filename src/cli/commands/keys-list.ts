import { parseArgs } from 'node:util';
import { SigningKeyService } from '../../provider/index.ts';
import { systemClock } from '../../shared/clock.ts';
import { openCliContext, requireTenant } from '../context.ts';
import type { CliIo } from '../types.ts';

export async function run(args: string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({ args, options: { tenant: { type: 'string' }, config: { type: 'string' } } });
  const context = await openCliContext(io, values.config);
  try {
    const tenantId = requireTenant(context.config, values.tenant);
    const keys = new SigningKeyService({ store: context.store, clock: systemClock, encryptionSecret: context.config.broker.keys.encryptionSecret });
    const set = await keys.load(tenantId);
    if (!set) {
      io.stdout.write(`tenant ${tenantId} has no signing keys yet (they are generated when Portico first starts)\n`);
      return 0;
    }
    io.stdout.write(`tenant ${tenantId}: key set version ${set.version}\n`);
    for (const key of set.keys) {
      const until = key.retireAfter ? ` until ${new Date(key.retireAfter).toISOString()}` : '';
      io.stdout.write(`${key.state.padEnd(8)} ${key.alg.padEnd(5)} ${key.kid} created ${new Date(key.createdAt).toISOString()}${until}\n`);
    }
    return 0;
  } finally {
    await context.close();
  }
}
