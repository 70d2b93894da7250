/**
 * Names both sides of the federated-login bench agree on: the bench process (which drives the
 * logins and adds the guests) and the upstream stand-in child (which signs them in).
 */

/** Portico's client at the upstream IdP (a bench-only secret, handed to Portico through its env). */
export const UPSTREAM_CLIENT = { clientId: 'portico-northwind', clientSecret: 'northwind-bench-secret' } as const;

/** The connector id of the upstream in the tenant file: the `idp=` hint of every login. */
export const CONNECTOR_ID = 'northwind';

/** Upstream account ids the stand-in makes on first use. */
export const ACCOUNT_ID = /^bench-[A-Za-z0-9-]{1,80}$/;

/** Every bench account's verified email; northwind.example is the northwind partner's domain. */
export const accountEmail = (id: string): string => `${id}@northwind.example`;
