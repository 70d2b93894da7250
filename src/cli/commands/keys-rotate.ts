import { parseArgs } from 'node:util';
import { maxSignedTokenSeconds } from '../../main.ts';
import { SigningKeyService, signingAlgsFor } from '../../provider/index.ts';
import { systemClock } from '../../shared/clock.ts';
import { openCliContext, requireTenant } from '../context.ts';
import type { CliIo } from '../types.ts';

const iso = (ms: number): string => new Date(ms).toISOString();

export async function run(args: string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({ args, options: { tenant: { type: 'string' }, config: { type: 'string' } } });
  const context = await openCliContext(io, values.config);
  try {
    const tenantId = requireTenant(context.config, values.tenant);
    const tenant = context.config.tenants.find((t) => t.id === tenantId)!;
    const keys = new SigningKeyService({ store: context.store, clock: systemClock, encryptionSecret: context.config.broker.keys.encryptionSecret });
    // A tenant that never started has no keys yet: create them first so there is a next key to promote.
    await keys.ensure(tenantId, signingAlgsFor(context.config.broker, tenant));
    const retireAfterSeconds = maxSignedTokenSeconds(context.config);
    const result = await keys.rotate(tenantId, retireAfterSeconds);
    for (const key of result.activated) io.stdout.write(`signing now   ${key.alg.padEnd(5)} ${key.kid}\n`);
    for (const key of result.published) io.stdout.write(`published     ${key.alg.padEnd(5)} ${key.kid} (signs after the next rotation)\n`);
    for (const key of result.retiring) io.stdout.write(`verify only   ${key.alg.padEnd(5)} ${key.kid} until ${iso(key.retireAfter)}\n`);
    for (const key of result.removed) io.stdout.write(`removed       ${key.alg.padEnd(5)} ${key.kid}\n`);
    io.stdout.write(
      `tenant ${tenantId}: key set version ${result.version}; running instances switch within ${context.config.broker.keys.rotationCheckSeconds} s\n`,
    );
    return 0;
  } finally {
    await context.close();
  }
}
