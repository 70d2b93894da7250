/**
 * The composition root: config → storage → services → providers → http. The only module that
 * picks concrete backends. `startPortico` is what the server entry point and the integration
 * tests both call.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadConfig } from './config/load.ts';
import { LiveConfig } from './config/live-config.ts';
import type { PolicySource } from './policy/types.ts';
import type { PorticoConfig, BrokerConfig } from './config/types.ts';
import { UserDirectory } from './directory/users.ts';
import { graphApi } from './api/index.ts';
import type { AuditLog } from './directory/audit.ts';
import { AppRoleAssignments } from './directory/app-role-assignments.ts';
import { GroupDirectory } from './directory/groups.ts';
import { endAccountSessions } from './provider/store-adapter.ts';
import { porticoTenantIssuers, sessionCheck, type AccessPolicyDeps } from './interaction/access-policy.ts';
import { SignInLog } from './directory/sign-in-log.ts';
import { auditRetentionDays } from './config/invitations.ts';
import { directoryServices, type InvitationService } from './directory/invitations.ts';
import { createExpressApp } from './http/express-app.ts';
import { healthRoutes } from './http/health.ts';
import { createRequestHandler } from './http/request-handler.ts';
import { contentSecurityPolicy } from './http/security-headers.ts';
import { interactionRoutes } from './interaction/routes.ts';
import { redemptionRoutes } from './interaction/redemption.ts';
import { FlowStore } from './interaction/flow.ts';
import { TenantSignIn } from './interaction/tenant-sign-in.ts';
import { brandingRoutes } from './http/branding-routes.ts';
import { connectorModules, type ConnectorConfig, type ConnectorDeps } from './connectors/registry.ts';
import type { Connector } from './connectors/types.ts';
import { createMailer, type ClosableMailer } from './mail/index.ts';
import { AuthenticatorStore } from './mfa/authenticator-store.ts';
import { PasskeyStore } from './mfa/passkeys.ts';
import { createOneTimeIdStore } from './storage/repositories/one-time-ids.ts';
import { createPasscodeStore } from './storage/repositories/passcodes.ts';
import { boundedFetch } from './shared/bounded-fetch.ts';
import { brandingImageOrigins } from './ui/branding.ts';
import { SigningKeyService } from './provider/signing-keys.ts';
import { formActionOrigins } from './provider/tenant-provider.ts';
import { TenantProviders } from './provider/tenant-registry.ts';
import { epochSeconds, systemClock, type Clock } from './shared/clock.ts';
import { ConfigError, errorMessage } from './shared/errors.ts';
import { createLogger, type Logger } from './shared/logger.ts';
import type { DocumentStore } from './storage/ports.ts';
import { createMemoryStore } from './storage/memory/memory-store.ts';
import { connectRedis, createRedisStore } from './storage/redis/redis-store.ts';
import { openSqliteStore } from './storage/sqlite/sqlite-store.ts';

export interface StartOptions {
  readonly configDir?: string;
  readonly env?: NodeJS.ProcessEnv;
  readonly logger?: Logger;
  readonly clock?: Clock;
  /** Address to listen on; tests use loopback. */
  readonly host?: string;
  /** Test harness only: see InteractionDeps.testLogin. */
  readonly testLogin?: boolean;
  /**
   * Apply edits of the policy keys live: `true` on file changes and SIGHUP, `'signal'` on SIGHUP
   * only. Off by default (tests start many Porticos in one process); the server turns it on.
   */
  readonly watchConfig?: boolean | 'signal';
}

export interface RunningPortico {
  readonly config: PorticoConfig;
  readonly url: string;
  readonly server: Server;
  readonly store: DocumentStore;
  readonly users: UserDirectory;
  readonly keys: SigningKeyService;
  readonly providers: TenantProviders;
  /** Invitations and their redemption tickets (the redemption page uses checkTicket / redeem). */
  readonly invitations: InvitationService;
  readonly audit: AuditLog;
  readonly groups: GroupDirectory;
  /** Who is assigned to which app (`apps[].assignmentRequired`). */
  readonly assignments: AppRoleAssignments;
  /** Users' second factors (authenticator apps, recovery codes). */
  readonly authenticators: AuthenticatorStore;
  /** Users' passkeys (WebAuthn), the second factor beside the app. */
  readonly passkeys: PasskeyStore;
  /** The collaboration policy in force for each tenant (follows live config edits). */
  readonly policies: PolicySource;
  /** Reloads, the hash in force, refused edits and edits waiting for a restart. */
  readonly liveConfig: LiveConfig;
  /** Stops taking requests, lets the ones in flight finish (up to the grace period), closes the store. */
  close(): Promise<void>;
}

export async function openStore(storage: BrokerConfig['storage'], logger: Logger, clock: Clock = systemClock): Promise<DocumentStore> {
  switch (storage.backend) {
    case 'sqlite':
      return openSqliteStore({
        path: storage.sqlite.path,
        clock,
        onBackgroundError: (error) => logger.error({ err: error }, 'sqlite checkpointer stopped: WAL checkpoints now run inline, on the request path'),
        onUpgrade: ({ from, to }) =>
          logger.warn(
            { path: storage.sqlite.path, from, to },
            'upgrading the sqlite store file to a newer schema: this can take a while on a large file, and older Portico versions cannot open it afterwards',
          ),
      });
    case 'redis':
      return createRedisStore({
        client: connectRedis({
          ...(storage.redis.url === undefined ? {} : { url: storage.redis.url }),
          mode: storage.redis.mode,
          ...(storage.redis.sentinels ? { sentinels: storage.redis.sentinels } : {}),
          ...(storage.redis.sentinelName ? { sentinelName: storage.redis.sentinelName } : {}),
          ...(storage.redis.clusterNodes ? { clusterNodes: storage.redis.clusterNodes } : {}),
          commandTimeoutMs: storage.redis.commandTimeoutMs,
          connectTimeoutMs: storage.redis.connectTimeoutMs,
        }),
        keyPrefix: storage.redis.keyPrefix,
      });
    case 'memory':
      logger.warn(
        '!!! storage backend "memory": everything (keys, sessions, tokens) is lost on restart and not shared between instances. For tests and experiments only. !!!',
      );
      return createMemoryStore({ clock });
  }
}

/** The longest a token signed with a key can live: how long a retired key stays published. */
export function maxSignedTokenSeconds(config: PorticoConfig): number {
  const { tokens } = config.broker;
  const apiTtls = config.tenants.flatMap((t) => t.apis.map((a) => a.accessTokenSeconds ?? 0));
  return Math.max(tokens.accessTokenSeconds, tokens.idTokenSeconds, tokens.clientCredentialsSeconds, ...apiTtls);
}

/** Builds a tenant's connectors from its `identityProviders` through the typed registry. */
export async function buildConnectors(
  config: PorticoConfig,
  tenantId: string,
  shared: Omit<ConnectorDeps, 'tenantId' | 'tenantDisplayName' | 'tenantBaseUrl' | 'configDir'>,
): Promise<Connector[]> {
  const tenant = config.tenants.find((t) => t.id === tenantId)!;
  const deps: ConnectorDeps = {
    ...shared,
    tenantId,
    tenantDisplayName: tenant.displayName,
    tenantBaseUrl: `${config.broker.publicUrl}/${tenantId}/v2.0`,
    configDir: config.sourceDir,
  };
  const create = <C extends ConnectorConfig>(entry: C): Promise<Connector> =>
    (connectorModules[entry.kind] as unknown as { create(c: C, d: ConnectorDeps): Promise<Connector> }).create(entry, deps);
  return Promise.all(tenant.identityProviders.map((entry) => create(entry)));
}

export async function startPortico(options: StartOptions = {}): Promise<RunningPortico> {
  const env = options.env ?? process.env;
  const clock = options.clock ?? systemClock;
  const configDir = options.configDir ?? env['PORTICO_CONFIG'] ?? './config';
  const { config, warnings } = await loadConfig(configDir, env);
  const logger = options.logger ?? createLogger({ level: config.broker.log.level });
  const { broker } = config;
  for (const warning of warnings) logger.warn(warning);
  logger.info(
    { configHash: config.hash.slice(0, 12), tenants: config.tenants.map((t) => t.id), storage: broker.storage.backend },
    'configuration loaded',
  );
  const liveConfig = new LiveConfig(config, { configDir, env, logger, clock });

  const store = await openStore(broker.storage, logger, clock);
  try {
    await store.ping();
  } catch (error) {
    await store.close().catch(() => undefined);
    throw new Error(`the ${broker.storage.backend} store does not answer: ${errorMessage(error)}`, { cause: error });
  }

  const users = new UserDirectory({ store, clock });
  const keys = new SigningKeyService({ store, clock, encryptionSecret: broker.keys.encryptionSecret });
  const groups = new GroupDirectory({ store, clock, users });
  const access: AccessPolicyDeps = { policies: liveConfig, groups, porticoTenants: porticoTenantIssuers(broker.publicUrl, config.tenants.map((t) => t.id)) };
  const nowSeconds = () => epochSeconds(clock);
  const providers = new TenantProviders({
    broker,
    tenants: config.tenants,
    store,
    users,
    keys,
    clock,
    logger,
    mayRefresh: sessionCheck(access, logger, nowSeconds, 'refresh'),
    maySkipSignIn: sessionCheck(access, logger, nowSeconds, 'single sign-on'),
  });
  await providers.start();
  providers.watchKeys(broker.keys.rotationCheckSeconds);

  const mailer: ClosableMailer = createMailer(broker.mail, { logger, clock });
  const connectorDeps = {
    clock,
    logger,
    // Connectors bound each call by their own `timeoutSeconds`; this is only the outer safety net.
    fetch: boundedFetch(61_000),
    oneTimeIds: createOneTimeIdStore(store),
    passcodes: createPasscodeStore(store),
    mailer,
  };
  const signIns = new Map<string, TenantSignIn>();
  for (const tenant of config.tenants) {
    const connectors = await buildConnectors(config, tenant.id, connectorDeps);
    signIns.set(tenant.id, new TenantSignIn(tenant, connectors, `${broker.publicUrl}/${tenant.id}/v2.0`));
  }
  const flows = new FlowStore({ store, clock, ttlSeconds: broker.tokens.interactionSeconds });
  const { audit, invitations } = directoryServices(config, {
    store,
    clock,
    users,
    mailer,
    logger,
    policies: liveConfig,
    endSessions: (tenantId, userId) => endAccountSessions(store, tenantId, userId),
  });
  const assignments = new AppRoleAssignments({ store, clock, groups, apps: (tenantId) => config.tenants.find((t) => t.id === tenantId)?.apps ?? [] });
  const signInLog = new SignInLog({ store, clock, retentionDays: auditRetentionDays(config) });
  const authenticators = new AuthenticatorStore({ store, clock, encryptionSecret: broker.keys.encryptionSecret });
  const passkeys = new PasskeyStore({ store, clock, publicUrl: broker.publicUrl, authenticators });
  const graph = await graphApi({
    publicUrl: broker.publicUrl,
    tenants: config.tenants,
    store,
    keys,
    keyRefreshSeconds: broker.keys.rotationCheckSeconds,
    users,
    invitations,
    audit,
    signInLog,
    groups,
    assignments,
    authenticators,
    passkeys,
    clock,
    logger,
    policies: liveConfig,
    requestsPerMinute: broker.managementApi.requestsPerMinute,
  });

  const https = broker.publicUrl.startsWith('https:');
  const cspByTenant = new Map(
    config.tenants.map((t) => [
      t.id,
      contentSecurityPolicy({
        formAction: formActionOrigins(t),
        images: brandingImageOrigins([t.branding, ...t.partners.map((p) => p.branding)]),
      }),
    ]),
  );
  let draining = false;
  const app = createExpressApp({
    logger,
    https,
    trustProxy: broker.http.trustProxy,
    health: healthRoutes({ pingStore: () => store.ping(), configHash: () => liveConfig.hash, isDraining: () => draining, configStatus: () => liveConfig.status() }),
    routers: [
      graph,
      brandingRoutes({ stylesheet: (tenantId, key) => signIns.get(tenantId)?.stylesheet(key) }),
      interactionRoutes({
        logger,
        flows,
        users,
        secureCookies: broker.cookies.secure === 'auto' ? https : broker.cookies.secure,
        flowSeconds: broker.tokens.interactionSeconds,
        tenantFor: (tenantId) => {
          const entry = providers.get(tenantId);
          const signIn = signIns.get(tenantId);
          return entry && signIn ? { provider: entry.provider, tenant: entry.tenant, csp: cspByTenant.get(tenantId)!, signIn } : undefined;
        },
        testLogin: options.testLogin ? { users } : undefined,
        assignments,
        signInLog,
        access,
        authenticators,
        passkeys,
        clock,
        redemption: {
          invitations,
          store,
          consentLinks: (tenantId) => {
            const settings = config.tenants.find((t) => t.id === tenantId)?.invitations;
            return { privacyStatementUrl: settings?.privacyStatementUrl, termsOfUseUrl: settings?.termsOfUseUrl };
          },
          inviterOf: async (tenantId, userId) => {
            const pending = (await invitations.listForUser(tenantId, userId)).find((i) => i.status === 'PendingAcceptance' || i.status === 'Error');
            return pending?.invitedBy.displayName || undefined;
          },
        },
      }),
      redemptionRoutes({
        store,
        invitations,
        users,
        clock,
        logger,
        publicUrl: broker.publicUrl,
        ttlSeconds: broker.tokens.interactionSeconds,
        secureCookies: broker.cookies.secure === 'auto' ? https : broker.cookies.secure,
        tenantExists: (tenantId) => signIns.has(tenantId),
        branding: (tenantId) => signIns.get(tenantId)!.brandingFor(undefined),
        displayName: (tenantId) => config.tenants.find((t) => t.id === tenantId)?.displayName ?? tenantId,
      }),
    ],
  });
  const handler = createRequestHandler({
    // The per-request line has fixed, safe fields (never a query string or body), so it skips
    // the redaction pass, which measured at a third of the token endpoint's throughput.
    logger: options.logger ?? createLogger({ level: config.broker.log.level, redact: false }),
    https,
    trustProxy: broker.http.trustProxy,
    app,
    providerFor: (tenantId) => {
      const entry = providers.get(tenantId);
      return entry ? { callback: entry.callback, csp: cspByTenant.get(tenantId)! } : undefined;
    },
  });

  const server = createServer({ requestTimeout: 30_000, headersTimeout: 10_000 }, handler);
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(broker.port, options.host ?? env['HOST'] ?? '0.0.0.0', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  logger.info({ port: address.port, publicUrl: broker.publicUrl, issuers: config.tenants.map((t) => `${broker.publicUrl}/${t.id}/v2.0`) }, 'portico is listening');
  if (options.watchConfig) liveConfig.start({ files: options.watchConfig === true, signal: true });

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      draining = true;
      providers.stop();
      await liveConfig.close();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      const grace = setTimeout(() => server.closeAllConnections(), broker.http.shutdownGraceSeconds * 1000);
      grace.unref();
      await closed;
      clearTimeout(grace);
      await mailer.close();
      await store.close();
      logger.info('portico stopped');
    })();
    return closing;
  };

  return { config, url: broker.publicUrl, server, store, users, keys, providers, invitations, audit, groups, assignments, authenticators, passkeys, policies: liveConfig, liveConfig, close };
}



async function runServer(): Promise<void> {
  let running: RunningPortico;
  try {
    running = await startPortico({ watchConfig: true });
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`portico: refusing to start, the configuration has errors:\n${error.problems.map((p) => `  ${p}`).join('\n')}\n`);
    } else {
      process.stderr.write(`portico: could not start: ${errorMessage(error)}\n`);
    }
    process.exit(1);
  }
  const stop = (signal: string) => {
    process.stderr.write(`portico: ${signal} received, finishing requests in flight\n`);
    running.close().then(
      () => process.exit(0),
      (error: unknown) => {
        process.stderr.write(`portico: shutdown failed: ${errorMessage(error)}\n`);
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
}

if (import.meta.main) await runServer();
