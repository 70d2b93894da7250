import { parseArgs } from 'node:util';
import { loadConfig } from '../../config/load.ts';
import { startRelyingPartyApp } from '../relying-party-app.ts';
import { UsageError, type CliIo } from '../types.ts';

/**
 * Runs a demo app that signs people in with Portico, so a sign-in can be tried by hand. It uses
 * an app of the config (default contoso-web, whose redirect URI is http://localhost:8080/callback)
 * and its secret, and listens where that redirect URI points.
 */
export async function run(args: string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({
    args,
    options: { tenant: { type: 'string', default: 'contoso' }, app: { type: 'string', default: 'contoso-web' }, config: { type: 'string' } },
  });
  const { config } = await loadConfig(values.config ?? (io.env['PORTICO_CONFIG'] || 'config'), io.env);
  const tenant = config.tenants.find((t) => t.id === values.tenant);
  if (!tenant) throw new UsageError(`unknown tenant '${values.tenant}'`);
  const app = tenant.apps.find((a) => a.id === values.app);
  if (!app || app.type !== 'web') throw new UsageError(`'${values.app}' is not a web app of ${tenant.id}`);
  const redirect = new URL(app.redirectUris[0]!);
  const issuer = `${config.broker.publicUrl}/${tenant.id}/v2.0`;
  const rp = await startRelyingPartyApp({
    issuer,
    clientId: app.id,
    ...(app.secret ? { clientSecret: app.secret } : {}),
    port: Number(redirect.port || 80),
    path: redirect.pathname,
    host: redirect.hostname === 'localhost' ? '127.0.0.1' : redirect.hostname,
  });
  io.stdout.write(`demo app for ${app.id} at ${new URL('/', redirect).href} (signs in at ${issuer}); Ctrl+C to stop\n`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await rp.stop();
  return 0;
}
