/**
 * The upstream IdP of the federated-login bench: the generic OIDC stand-in of the tests
 * (test/helpers/upstreams, a real oidc-provider 9), in its own process on the load generator's
 * core so that it never takes CPU from Portico.
 *
 * Usage: node bench/federated/upstream-child.ts <Portico's callback URL for this connector>
 *
 * Accounts are made on first use from their id (`bench-…`): the bench signs in thousands of
 * distinct people (self-service sign-up needs a new one per login), and a book filled up front
 * would have to be sized before knowing the rate. Every account has a verified email
 * `<id>@northwind.example`, so it can link to a guest added by that address.
 *
 * IPC: `{ type: 'ready', issuer }` once listening.
 */
import { startOidcStandIn, type StandInAccount } from '../../test/helpers/upstreams/index.ts';
import { ACCOUNT_ID, UPSTREAM_CLIENT, accountEmail } from './shared.ts';

const callbackUrl = process.argv[2];
if (!callbackUrl || !process.send) {
  process.stderr.write('usage: started by bench/federated-login.ts with an IPC channel: upstream-child.ts <callback URL>\n');
  process.exit(2);
}
const standIn = await startOidcStandIn({
  label: 'Northwind',
  // ID tokens carry email and name, so Portico needs no userinfo call (as with most IdPs).
  claimsInIdToken: process.env['BENCH_UPSTREAM_USERINFO'] !== '1',
  clients: [{ ...UPSTREAM_CLIENT, redirectUris: [callbackUrl] }],
});
const book = standIn.accounts;
const known = book.get.bind(book);
book.get = (id: string): StandInAccount | undefined =>
  known(id) ?? (ACCOUNT_ID.test(id) ? book.add({ id, email: accountEmail(id), emailVerified: true, name: `Guest ${id.slice(6)}` }) : undefined);

const stop = (): void => {
  standIn.stop().then(
    () => process.exit(0),
    () => process.exit(1),
  );
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
process.once('disconnect', stop);
process.send({ type: 'ready', issuer: standIn.issuer });
