/**
 * Portico's configuration for the federated-login bench, built the way the integration tests
 * build theirs (test/helpers/portico.ts + test/helpers/federation-tenant.ts): the example config
 * folder, its contoso tenant replaced by one whose `northwind` partner signs in through the
 * upstream stand-in, the Redis store under the bench's own key prefix.
 */
import { cp, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { federationTenantYaml } from '../../test/helpers/federation-tenant.ts';
import { CONNECTOR_ID, UPSTREAM_CLIENT } from './shared.ts';

const EXAMPLE_CONFIG = new URL('../../config/', import.meta.url).pathname;

export interface RelyingPartyApp {
  readonly clientId: string;
  readonly secret: string;
  readonly redirectUri: string;
}

/** contoso-web, as in the example config: returning guests sign in to it. */
export const RETURNING_APP: RelyingPartyApp = { clientId: 'contoso-web', secret: 'demo-web-secret', redirectUri: 'http://localhost:8080/callback' };
/** An app open for self-service sign-up: every login of a new person creates a guest. */
export const SIGN_UP_APP: RelyingPartyApp = { clientId: 'bench-sign-up', secret: 'test-app-secret', redirectUri: 'http://localhost:8090/callback' };

export const TENANT = 'contoso';

export async function writeBenchConfig(options: { dir: string; upstreamIssuer: string; redisKeyPrefix: string }): Promise<void> {
  await mkdir(options.dir, { recursive: true });
  await cp(EXAMPLE_CONFIG, options.dir, { recursive: true, filter: (source) => !source.includes('/examples') });
  const tenant = federationTenantYaml({
    northwind: { issuer: options.upstreamIssuer, clientId: UPSTREAM_CLIENT.clientId, clientSecret: UPSTREAM_CLIENT.clientSecret },
    apps: [{ id: SIGN_UP_APP.clientId, redirectUri: SIGN_UP_APP.redirectUri, selfServiceSignUp: true }],
  });
  if (!tenant.includes(`- id: ${CONNECTOR_ID}\n`)) throw new Error(`the bench tenant has no '${CONNECTOR_ID}' identity provider`);
  await writeFile(join(options.dir, 'tenants', `${TENANT}.yaml`), tenant);
  await writeFile(join(options.dir, 'portico.yaml'), `storage:\n  backend: redis\n  redis:\n    keyPrefix: "${options.redisKeyPrefix}"\n`);
}
