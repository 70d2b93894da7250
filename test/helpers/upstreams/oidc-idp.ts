/**
 * A generic OpenID Connect IdP on loopback: a real oidc-provider 9 whose scope claims (email,
 * profile) are served by userinfo only, as many IdPs do when an access token is issued.
 */
import { AccountBook, accountClaims, adHocId, type StandInAccount } from './accounts.ts';
import { listenOnLoopback } from './http-server.ts';
import { SigningKeys } from './keys.ts';
import { forward } from './mount.ts';
import { createOidcCore, newHits, newKnobs, type ClientRegistration, type Hits, type OidcKnobs } from './oidc-core.ts';

/** Claim names released with `openid` whatever the accounts hold (custom ones must be declared). */
export const COMMON_CUSTOM_CLAIMS = ['device_compliant', 'device_hybrid_joined'] as const;

export interface OidcStandInOptions {
  readonly accounts?: readonly StandInAccount[];
  readonly clients?: readonly ClientRegistration[];
  /** Put email and profile claims in the ID token too (default false: userinfo only). */
  readonly claimsInIdToken?: boolean;
  /** A path for the issuer (like `/realms/partner`); default none. */
  readonly issuerPath?: string;
  readonly label?: string;
}

export interface OidcStandIn {
  readonly issuer: string;
  readonly origin: string;
  readonly accounts: AccountBook;
  /** Change between steps of a test; `resetKnobs()` puts them back. */
  readonly knobs: OidcKnobs;
  /** Requests served per endpoint. */
  readonly hits: Hits;
  readonly keys: SigningKeys;
  registerClient(client: ClientRegistration): void;
  /** Publishes a new signing key and signs the next ID tokens with it; returns its kid. */
  rotateKey(): Promise<string>;
  resetKnobs(): void;
  stop(): Promise<void>;
}

/** Knob and hit bookkeeping every OIDC stand-in exposes the same way. */
export function knobControls(knobs: OidcKnobs, keys: SigningKeys) {
  return {
    rotateKey: async () => (await keys.rotate()).kid,
    resetKnobs: () => {
      Object.assign(knobs, newKnobs());
    },
  };
}

export async function startOidcStandIn(options: OidcStandInOptions = {}): Promise<OidcStandIn> {
  const listening = await listenOnLoopback();
  const mountPath = (options.issuerPath ?? '').replace(/\/+$/, '');
  const issuer = `${listening.origin}${mountPath}`;
  const accounts = new AccountBook<StandInAccount>(options.accounts ?? []);
  const keys = await SigningKeys.create();
  const knobs = newKnobs();
  const hits = newHits();
  const custom = new Set<string>(COMMON_CUSTOM_CLAIMS);
  for (const account of accounts.list()) for (const name of Object.keys(account.claims ?? {})) custom.add(name);

  const core = createOidcCore({
    issuer,
    mountPath,
    label: options.label ?? 'OIDC IdP',
    cookiePrefix: `oidc${listening.port}`,
    accounts,
    adHoc: (email) => ({ id: adHocId(email), email }),
    claimsOf: accountClaims,
    openidClaims: [...custom],
    profileClaims: [],
    claimsInIdToken: options.claimsInIdToken ?? false,
    keys,
    knobs,
    hits,
  });
  for (const client of options.clients ?? []) core.registerClient(client);

  listening.handle(async (req, res) => {
    const url = req.url ?? '/';
    if (mountPath === '') return core.handle(req, res);
    if (url === mountPath || url.startsWith(`${mountPath}/`) || url.startsWith(`${mountPath}?`)) {
      return forward(core, req, res, mountPath, url.slice(mountPath.length) || '/');
    }
    res.statusCode = 404;
    res.end();
  });

  return {
    issuer,
    origin: listening.origin,
    accounts,
    knobs,
    hits,
    keys,
    registerClient: (client) => core.registerClient(client),
    ...knobControls(knobs, keys),
    stop: () => listening.close(),
  };
}
