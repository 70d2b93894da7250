/**
 * `portico policy explain`: what the collaboration policy decides for a user (invitation,
 * redemption, and with --app a sign-in), and why. The effect is the answer, not a failure: the
 * command exits 0 whatever it is, and 2 only when the question itself is wrong.
 */
import { parseArgs } from 'node:util';
import { GroupDirectory } from '../../directory/groups.ts';
import { guestUserPrincipalName, UserDirectory } from '../../directory/users.ts';
import { porticoTenantIssuers } from '../../interaction/access-policy.ts';
import { explainAccess, ExplainError } from '../../policy/explain.ts';
import { explanationText } from '../../policy/explain-text.ts';
import { staticPolicySource } from '../../policy/subject.ts';
import { systemClock } from '../../shared/clock.ts';
import { openCliContext, requireTenant } from '../context.ts';
import { UsageError, type CliIo } from '../types.ts';

const DEVICES = ['compliant', 'hybridJoined'] as const;
type Device = (typeof DEVICES)[number];
const isDevice = (value: string): value is Device => (DEVICES as readonly string[]).includes(value);

export async function run(args: string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      tenant: { type: 'string' },
      user: { type: 'string' },
      app: { type: 'string' },
      idp: { type: 'string' },
      mfa: { type: 'boolean' },
      device: { type: 'string' },
      json: { type: 'boolean' },
      config: { type: 'string' },
    },
  });
  // Checked before opening the store: a wrong question touches nothing.
  if (!values.user) throw new UsageError('--user is required');
  const device = values.device;
  if (device !== undefined && !isDevice(device)) throw new UsageError(`--device must be one of ${DEVICES.join(', ')} (got '${device}')`);

  const context = await openCliContext(io, values.config);
  try {
    const tenantId = requireTenant(context.config, values.tenant);
    const tenant = context.config.tenants.find((t) => t.id === tenantId)!;
    const question = { tenantId, user: values.user, app: values.app, idp: values.idp, mfa: values.mfa === true, device };
    const users = new UserDirectory({ store: context.store, clock: systemClock });
    const explanation = await explainAccess(
      {
        policies: staticPolicySource(context.config.tenants),
        tenant,
        users,
        guestUserPrincipalName,
        groups: new GroupDirectory({ store: context.store, clock: systemClock, users }),
        porticoTenants: porticoTenantIssuers(context.config.broker.publicUrl, context.config.tenants.map((t) => t.id)),
      },
      question,
    ).catch((error: unknown) => {
      throw error instanceof ExplainError ? new UsageError(error.message) : error;
    });
    io.stdout.write(values.json ? `${JSON.stringify(explanation, null, 2)}\n` : explanationText(explanation, question));
    return 0;
  } finally {
    await context.close();
  }
}
