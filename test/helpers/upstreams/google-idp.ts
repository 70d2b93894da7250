/**
 * A stand-in for Google: an oidc-provider whose ID tokens carry the claims Google's do (`email`,
 * `email_verified`, `hd` for Workspace accounts, profile claims).
 *
 * Google also documents ID tokens whose `iss` is the bare host `accounts.google.com`. An
 * oidc-provider issuer must be a URL, so that spelling cannot be configured; `useBareIssuer()`
 * makes the stand-in's token endpoint wrapper replace `iss` with the bare host (`127.0.0.1:<port>`)
 * and re-sign the ID token with the same published key and kid, which is exactly the token Google
 * hands out in that case.
 */
import { AccountBook, accountClaims, adHocId, type StandInAccount } from './accounts.ts';
import { listenOnLoopback } from './http-server.ts';
import { SigningKeys } from './keys.ts';
import { knobControls, type OidcStandIn } from './oidc-idp.ts';
import { createOidcCore, newHits, newKnobs, type ClientRegistration } from './oidc-core.ts';

export interface GoogleAccount extends StandInAccount {
  /** Google Workspace domain (`hd`); absent for personal accounts. */
  readonly hostedDomain?: string;
}

export interface GoogleStandInOptions {
  readonly accounts?: readonly GoogleAccount[];
  readonly clients?: readonly ClientRegistration[];
}

export interface GoogleStandIn extends Omit<OidcStandIn, 'accounts'> {
  readonly accounts: AccountBook<GoogleAccount>;
  /** The bare spelling of the issuer (`127.0.0.1:<port>`, as `accounts.google.com` is Google's). */
  readonly bareIssuer: string;
  /** Issue the next ID tokens with the bare issuer spelling (or back to the URL form). */
  useBareIssuer(on?: boolean): void;
}

export async function startGoogleStandIn(options: GoogleStandInOptions = {}): Promise<GoogleStandIn> {
  const listening = await listenOnLoopback();
  const issuer = listening.origin;
  const accounts = new AccountBook<GoogleAccount>(options.accounts ?? []);
  const keys = await SigningKeys.create();
  const knobs = newKnobs();
  const hits = newHits();
  const core = createOidcCore<GoogleAccount>({
    issuer,
    mountPath: '',
    label: 'Google',
    cookiePrefix: `google${listening.port}`,
    accounts,
    adHoc: (email) => ({ id: adHocId(email).replace(/\D/g, '').padEnd(21, '1').slice(0, 21), email }),
    claimsOf: (account) => ({ ...accountClaims(account), ...(account.hostedDomain ? { hd: account.hostedDomain } : {}) }),
    openidClaims: ['hd', 'device_compliant', 'device_hybrid_joined'],
    profileClaims: ['picture', 'locale'],
    claimsInIdToken: true,
    keys,
    knobs,
    hits,
  });
  for (const client of options.clients ?? []) core.registerClient(client);
  listening.handle((req, res) => core.handle(req, res));
  const bareIssuer = new URL(issuer).host;

  return {
    issuer,
    origin: listening.origin,
    accounts,
    knobs,
    hits,
    keys,
    bareIssuer,
    registerClient: (client) => core.registerClient(client),
    ...knobControls(knobs, keys),
    useBareIssuer: (on = true) => {
      if (on) knobs.idTokenClaims['iss'] = bareIssuer;
      else delete knobs.idTokenClaims['iss'];
    },
    stop: () => listening.close(),
  };
}
