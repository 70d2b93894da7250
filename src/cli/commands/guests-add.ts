import { parseArgs } from 'node:util';
import { guestUserPrincipalName, UserDirectory } from '../../directory/users.ts';
import { systemClock } from '../../shared/clock.ts';
import { normaliseEmail } from '../../shared/email.ts';
import { AlreadyExistsError } from '../../storage/errors.ts';
import { openCliContext, requireTenant } from '../context.ts';
import { UsageError, type CliIo } from '../types.ts';

/**
 * Adds a guest to a tenant's directory, pending acceptance: the guest's first sign-in with an
 * identity whose verified email is this address links that identity and accepts.
 */
export async function run(args: string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({
    args,
    options: { tenant: { type: 'string' }, email: { type: 'string' }, name: { type: 'string' }, config: { type: 'string' } },
  });
  const email = values.email ? normaliseEmail(values.email) : undefined;
  if (!email) throw new UsageError(values.email ? `'${values.email}' is not an email address` : '--email is required');
  const context = await openCliContext(io, values.config);
  try {
    const tenantId = requireTenant(context.config, values.tenant);
    const tenant = context.config.tenants.find((t) => t.id === tenantId)!;
    const directory = new UserDirectory({ store: context.store, clock: systemClock });
    try {
      const user = await directory.create({
        tenantId,
        userType: 'Guest',
        userPrincipalName: guestUserPrincipalName(email, tenant.domains[0]!),
        displayName: values.name ?? email,
        mail: email,
        creationType: 'Invitation',
        externalUserState: 'PendingAcceptance',
      });
      io.stdout.write(`added guest ${user.userPrincipalName} (id ${user.id}) to ${tenantId}, pending acceptance\n`);
      return 0;
    } catch (error) {
      if (!(error instanceof AlreadyExistsError)) throw error;
      io.stderr.write(`${email} is already a guest of ${tenantId}\n`);
      return 1;
    }
  } finally {
    await context.close();
  }
}
