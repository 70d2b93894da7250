import { createHash } from 'node:crypto';

/** A person a stand-in can sign in. Only `id` is required; the rest becomes claims. */
export interface StandInAccount {
  /** The subject (`sub`). */
  readonly id: string;
  readonly email?: string;
  /** Defaults to true when there is an email. */
  readonly emailVerified?: boolean;
  readonly name?: string;
  readonly givenName?: string;
  readonly familyName?: string;
  /** Set on the session at login, so they reach the ID token as `amr` / `acr`. */
  readonly amr?: readonly string[];
  readonly acr?: string;
  /** Any other claims, sent as given (device claims, `hd`, odd types for negative tests …). */
  readonly claims?: Readonly<Record<string, unknown>>;
}

/** The accounts of a stand-in, changeable while it runs. */
export class AccountBook<A extends StandInAccount = StandInAccount> {
  readonly #accounts = new Map<string, A>();

  constructor(accounts: readonly A[]) {
    for (const account of accounts) this.add(account);
  }

  add(account: A): A {
    this.#accounts.set(account.id, account);
    return account;
  }

  list(): A[] {
    return [...this.#accounts.values()];
  }

  get(id: string): A | undefined {
    return this.#accounts.get(id);
  }

  byEmail(email: string): A | undefined {
    const wanted = email.trim().toLowerCase();
    return this.list().find((account) => account.email?.toLowerCase() === wanted);
  }
}

/** The id an unknown typed-in email gets, stable across runs so a person can sign in again. */
export const adHocId = (email: string): string => `adhoc-${createHash('sha256').update(email.trim().toLowerCase()).digest('hex').slice(0, 20)}`;

/** The claims oidc-provider releases for an account (it filters them by scope and claims config). */
export function accountClaims(account: StandInAccount): Record<string, unknown> {
  return {
    sub: account.id,
    ...(account.email !== undefined ? { email: account.email, email_verified: account.emailVerified ?? true } : {}),
    ...(account.name !== undefined ? { name: account.name } : {}),
    ...(account.givenName !== undefined ? { given_name: account.givenName } : {}),
    ...(account.familyName !== undefined ? { family_name: account.familyName } : {}),
    ...account.claims,
  };
}
