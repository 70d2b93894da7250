/**
 * Stand-in upstream identity providers on loopback, for connector, integration and browser
 * tests. Each `start…StandIn()` listens on a free 127.0.0.1 port and returns its URLs, its
 * accounts (changeable while it runs), knobs for misbehaving, request counters and `stop()`.
 * `signInUpstream()` walks a stand-in's sign-in pages with fetch; a person can use the same pages
 * in a browser (plain HTML forms: pick an account or type an email).
 */
export { adHocId, type StandInAccount } from './accounts.ts';
export { signInUpstream, standInForms, type UpstreamSignIn } from './browser.ts';
export { startFacebookStandIn, type FacebookApp, type FacebookKnobs, type FacebookStandIn } from './facebook-idp.ts';
export { startGoogleStandIn, type GoogleAccount, type GoogleStandIn } from './google-idp.ts';
export type { IdTokenSigning } from './keys.ts';
export {
  CONSUMERS_TENANT,
  startMicrosoftStandIn,
  type MicrosoftAccount,
  type MicrosoftStandIn,
  type MicrosoftTenant,
} from './microsoft-idp.ts';
export type { ClientRegistration, Hits, OidcKnobs, OidcRoute } from './oidc-core.ts';
export { startOidcStandIn, type OidcStandIn } from './oidc-idp.ts';
