import { loadConfig } from '../config/load.ts';
import type { PorticoConfig } from '../config/types.ts';
import { directoryServices, type InvitationService } from '../directory/invitations.ts';
import { UserDirectory } from '../directory/users.ts';
import { createMailer, type ClosableMailer } from '../mail/index.ts';
import { openStore } from '../main.ts';
import { endAccountSessions } from '../provider/store-adapter.ts';
import { systemClock } from '../shared/clock.ts';
import { createLogger } from '../shared/logger.ts';
import type { DocumentStore } from '../storage/ports.ts';
import { UsageError, type CliIo } from './types.ts';

export interface CliContext {
  readonly config: PorticoConfig;
  readonly store: DocumentStore;
  close(): Promise<void>;
}

/**
 * The same config and store the server uses, so a command run beside a running server (or on
 * another instance sharing the Redis store) acts on the same data.
 */
export async function openCliContext(io: CliIo, configFolder?: string): Promise<CliContext> {
  const { config } = await loadConfig(configFolder ?? (io.env['PORTICO_CONFIG'] || 'config'), io.env);
  const logger = createLogger({ level: 'warn', destination: process.stderr });
  const store = await openStore(config.broker.storage, logger, systemClock);
  await store.ping();
  return { config, store, close: () => store.close() };
}

export function requireTenant(config: PorticoConfig, tenantId: string | undefined): string {
  if (!tenantId) throw new UsageError('--tenant is required');
  if (!config.tenants.some((t) => t.id === tenantId)) {
    throw new UsageError(`unknown tenant '${tenantId}' (known: ${config.tenants.map((t) => t.id).join(', ')})`);
  }
  return tenantId;
}

/** The directory services of the invitation commands, on the CLI's store, sending mail as the server does. */
export function openCliDirectory(context: CliContext): { users: UserDirectory; invitations: InvitationService; mailer: ClosableMailer } {
  const logger = createLogger({ level: 'warn', destination: process.stderr });
  const mailer = createMailer(context.config.broker.mail, { logger, clock: systemClock });
  const users = new UserDirectory({ store: context.store, clock: systemClock });
  const { invitations } = directoryServices(context.config, {
    store: context.store,
    clock: systemClock,
    users,
    mailer,
    logger,
    endSessions: (tenantId, userId) => endAccountSessions(context.store, tenantId, userId),
  });
  return { users, invitations, mailer };
}
