import { parseArgs } from 'node:util';
import { UserDirectory } from '../../directory/users.ts';
import { systemClock } from '../../shared/clock.ts';
import { openCliContext, requireTenant } from '../context.ts';
import type { CliIo } from '../types.ts';

export async function run(args: string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({ args, options: { tenant: { type: 'string' }, config: { type: 'string' }, json: { type: 'boolean' } } });
  const context = await openCliContext(io, values.config);
  try {
    const tenantId = requireTenant(context.config, values.tenant);
    const guests = (await new UserDirectory({ store: context.store, clock: systemClock }).list(tenantId)).filter((u) => u.userType === 'Guest');
    if (values.json) {
      io.stdout.write(`${JSON.stringify(guests, null, 2)}\n`);
      return 0;
    }
    if (guests.length === 0) io.stdout.write(`${tenantId} has no guests\n`);
    for (const guest of guests) {
      const idps = guest.identities.map((i) => i.issuer).join(', ') || '-';
      io.stdout.write(`${guest.id}  ${guest.userPrincipalName}  ${guest.externalUserState ?? '-'}  ${idps}\n`);
    }
    return 0;
  } finally {
    await context.close();
  }
}
