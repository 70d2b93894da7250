/**
 * The ceiling for the bench: oidc-provider on its own, with nothing of Portico in the request
 * path (`http.createServer(provider.callback())`, issuer at the root, default memory adapter).
 * Everything that shapes the cost of a token is the same as Portico's contoso tenant: client ids,
 * secrets and grant types, key types (RS256 + ES256, generated here with node:crypto), ES256 JWT
 * access tokens for the payroll API as the default resource of client_credentials, opaque access
 * tokens plus a new ID token on refresh, rotating refresh tokens, the same claims and the same
 * extra token claims (from memory instead of the user directory). What differs is exactly what
 * the Portico/bare ratio is meant to show: Portico's store, front door, headers and logging.
 *
 * Refresh tokens are minted through the provider's own models (Grant + RefreshToken) on request
 * over the IPC channel, instead of driving devInteractions' login and consent forms: the token
 * endpoint then sees the same kind of record a code exchange leaves, and minting stays out of the
 * measured cells. devInteractions therefore stays off.
 *
 * Usage: node bench/bare-server.ts <port>   (secrets from CONTOSO_DAEMON_SECRET, CONTOSO_WEB_SECRET,
 * BENCH_SECRET)
 */
import { generateKeyPairSync, randomBytes, randomUUID, type JsonWebKey } from 'node:crypto';
import { createServer } from 'node:http';
import Provider, { type ClientMetadata, type Configuration, type KoaContextWithOIDC } from 'oidc-provider';

const port = Number(process.argv[2]);
if (!Number.isInteger(port) || port <= 0 || !process.send) {
  process.stderr.write('usage: started by bench/run.ts with an IPC channel: bare-server.ts <port>\n');
  process.exit(2);
}

const PAYROLL = 'api://contoso/payroll';
const OIDC_SCOPES = ['openid', 'offline_access', 'profile', 'email'];
const REDIRECT = 'http://localhost:8080/callback';

const signingKey = (alg: 'RS256' | 'ES256'): JsonWebKey => {
  const pair = alg === 'RS256' ? generateKeyPairSync('rsa', { modulusLength: 2048 }) : generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return { ...pair.privateKey.export({ format: 'jwk' }), kid: randomBytes(12).toString('base64url'), alg, use: 'sig' };
};

const webClient = (id: string, secret: string, idTokenAlg: 'RS256' | 'ES256'): ClientMetadata => ({
  client_id: id,
  client_secret: secret,
  token_endpoint_auth_method: 'client_secret_basic',
  grant_types: ['authorization_code', 'refresh_token'],
  response_types: ['code'],
  redirect_uris: [REDIRECT],
  application_type: 'web',
  id_token_signed_response_alg: idTokenAlg,
  scope: OIDC_SCOPES.join(' '),
});

const env = process.env;
const clients: ClientMetadata[] = [
  {
    client_id: 'contoso-daemon',
    client_secret: env['CONTOSO_DAEMON_SECRET'] || 'demo-daemon-secret',
    token_endpoint_auth_method: 'client_secret_basic',
    grant_types: ['client_credentials'],
    response_types: [],
    redirect_uris: [],
    id_token_signed_response_alg: 'RS256',
    scope: OIDC_SCOPES.join(' '),
  },
  webClient('contoso-web', env['CONTOSO_WEB_SECRET'] || 'demo-web-secret', 'RS256'),
  webClient('bench-web-es256', env['BENCH_SECRET'] || 'bench-secret', 'ES256'),
];
const apisByClient = new Map([
  ['contoso-daemon', [PAYROLL]],
  ['contoso-web', [PAYROLL]],
]);

// The one user of the bench, with the claims Portico's directory would give it.
const user = { id: randomUUID(), upn: 'bench@contoso.example', name: 'Bench User', mail: 'bench@contoso.example' };

const configuration: Configuration = {
  clients,
  jwks: { keys: [signingKey('RS256'), signingKey('ES256')] } as Configuration['jwks'],
  cookies: { keys: [randomBytes(32).toString('base64url')] },
  claims: {
    openid: ['sub', 'tid', 'oid', 'user_type', 'idp', 'home_tid', 'preferred_username'],
    profile: ['name'],
    email: ['email', 'email_verified'],
  },
  conformIdTokenClaims: false,
  scopes: OIDC_SCOPES,
  responseTypes: ['code'],
  pkce: { required: () => true },
  enabledJWA: { idTokenSigningAlgValues: ['RS256', 'ES256', 'EdDSA'] },
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: async (ctx: KoaContextWithOIDC) =>
        ctx.oidc.params?.['grant_type'] === 'client_credentials' ? PAYROLL : undefined!,
      useGrantedResource: async () => true,
      getResourceServerInfo: async (_ctx, resource, client) => {
        if (resource !== PAYROLL || !apisByClient.get(client.clientId)?.includes(resource)) throw new Error('invalid target');
        return {
          scope: 'payroll.read payroll.write',
          audience: PAYROLL,
          accessTokenTTL: 3600,
          accessTokenFormat: 'jwt',
          jwt: { sign: { alg: 'ES256' } },
        };
      },
    },
  },
  extraTokenClaims: async (_ctx, token) =>
    'accountId' in token && token.accountId === user.id ? { tid: 'contoso', oid: user.id, user_type: 'Member' } : { tid: 'contoso' },
  issueRefreshToken: async (_ctx, client) => client.grantTypeAllowed('refresh_token'),
  rotateRefreshToken: true,
  findAccount: async (_ctx, sub) =>
    sub === user.id
      ? {
          accountId: user.id,
          claims: async () => ({
            sub: user.id,
            tid: 'contoso',
            oid: user.id,
            user_type: 'Member',
            preferred_username: user.upn,
            name: user.name,
            email: user.mail,
            email_verified: true,
          }),
        }
      : undefined,
  ttl: {
    AuthorizationCode: 60,
    AccessToken: 3600,
    ClientCredentials: 3600,
    IdToken: 3600,
    RefreshToken: 1_209_600,
    Session: 1_209_600,
    Interaction: 600,
    Grant: 1_209_600,
  },
};

const provider = new Provider(`http://127.0.0.1:${port}`, configuration);
// Refused grants only (never on the success path), to the log file like Portico's log: the
// response says just "invalid_grant", the reason is in error_detail.
provider.on('grant.error', (_ctx: KoaContextWithOIDC, error: Error & { error_detail?: string }) => {
  process.stdout.write(`${JSON.stringify({ event: 'grant.error', message: error.message, detail: error.error_detail })}\n`);
});

/**
 * What a code exchange with `scope=openid profile email` leaves behind, as in Portico's code
 * flow: a session with the user signed in and the client's grant, and a refresh token bound to
 * that session (no offline_access, so it `expiresWithSession` and every refresh looks the
 * session up, exactly the work Portico does for the tokens the bench mints there).
 */
async function mintRefreshToken(clientId: string): Promise<string> {
  const client = await provider.Client.find(clientId);
  if (!client) throw new Error(`no client ${clientId}`);
  const now = Math.floor(Date.now() / 1000);
  const grant = new provider.Grant({ accountId: user.id, clientId });
  grant.addOIDCScope('openid profile email');
  const grantId = await grant.save();
  const session = new provider.Session();
  session.loginAccount({ accountId: user.id, loginTs: now, amr: ['test'] });
  session.grantIdFor(clientId, grantId);
  session.ensureClientContainer(clientId);
  // @types/oidc-provider declares save() without arguments; oidc-provider 9 requires the TTL.
  await (session as unknown as { save(ttl: number): Promise<string> }).save(1_209_600);
  const token = new provider.RefreshToken({
    client,
    accountId: user.id,
    grantId,
    gty: 'authorization_code',
    scope: 'openid profile email',
    authTime: now,
    amr: ['test'],
    nonce: randomBytes(16).toString('base64url'),
    sessionUid: session.uid,
    sid: session.sidFor(clientId),
    expiresWithSession: true,
  });
  return token.save();
}

process.on('message', (message: { type?: string; id?: number; clientId?: string; count?: number }) => {
  if (message.type !== 'mint' || !message.clientId) return;
  const { id, clientId, count = 1 } = message;
  Promise.all(Array.from({ length: count }, () => mintRefreshToken(clientId))).then(
    (tokens) => process.send!({ type: 'minted', id, tokens }),
    (error: unknown) => process.send!({ type: 'minted', id, error: String(error) }),
  );
});

const server = createServer(provider.callback());
server.keepAliveTimeout = 5_000;
server.listen(port, '127.0.0.1', () => process.send!({ type: 'ready', userId: user.id }));

const stop = (): void => {
  server.close(() => process.exit(0));
  server.closeAllConnections();
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
process.once('disconnect', stop);
