export { startRelyingPartyApp, type RelyingPartyApp, type SignedIn } from '../../src/cli/relying-party-app.ts';
