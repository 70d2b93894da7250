/**
 * node-saml's InResponseTo cache, backed by the shared single-use store so that any instance can
 * accept the response to a request another instance sent, and so that a request id is used once.
 *
 * node-saml calls `getAsync` (before checking signatures), maybe `getAsync` again, then
 * `removeAsync`; a get followed by a remove is not atomic, so two copies of one response racing
 * on two instances could both pass. Here the first `getAsync` of a validation *takes* the id
 * atomically and the rest of that validation only remembers that it holds it: exactly one of
 * the racing POSTs wins. One provider serves one validation; it never touches an id other than
 * the one the sign-in flow is waiting for, so a response to someone else's request cannot burn it.
 * A failed validation leaves the id taken, as node-saml itself removes it on any failure.
 */
import type { CacheItem, CacheProvider } from '@node-saml/node-saml';
import type { OneTimeIdStore } from '../types.ts';

/** How long an AuthnRequest stays answerable: people may take a while at their IdP (MFA enrolment …). */
export const REQUEST_TTL_SECONDS = 30 * 60;

export const requestNamespace = (connectorId: string): string => `saml-request:${connectorId}`;

/** Remembers the id of an AuthnRequest being sent (node-saml's `saveAsync`). */
export class RequestIdRecorder implements CacheProvider {
  readonly #store: OneTimeIdStore;
  readonly #namespace: string;
  saved: string | undefined;

  constructor(store: OneTimeIdStore, connectorId: string) {
    this.#store = store;
    this.#namespace = requestNamespace(connectorId);
  }

  async saveAsync(key: string, value: string): Promise<CacheItem | null> {
    if (!(await this.#store.remember(this.#namespace, key, REQUEST_TTL_SECONDS))) throw new Error('request id collision');
    this.saved = key;
    return { value, createdAt: Date.now() };
  }

  async getAsync(): Promise<string | null> {
    return null;
  }

  async removeAsync(): Promise<string | null> {
    return null;
  }
}

/**
 * Takes the awaited request id once, for one validation of one response. `take` is the atomic
 * removal from the shared store (called on the main thread even when node-saml runs in a worker).
 */
export class RequestIdClaim implements CacheProvider {
  readonly #take: (id: string) => Promise<boolean>;
  readonly #expected: string;
  #held = false;

  constructor(expectedRequestId: string, take: (id: string) => Promise<boolean>) {
    this.#expected = expectedRequestId;
    this.#take = take;
  }

  /** Whether this validation took the request id. */
  get held(): boolean {
    return this.#held;
  }

  async saveAsync(): Promise<CacheItem | null> {
    throw new Error('a validation never sends requests');
  }

  async getAsync(key: string): Promise<string | null> {
    if (key !== this.#expected) return null;
    await this.take();
    // node-saml compares this instant with its own Date.now() against requestIdExpirationPeriodMs;
    // the store's ttl (on the injected clock) is what really bounds the request's life.
    return this.#held ? new Date().toISOString() : null;
  }

  /** The id was taken on first sight; nothing is left to remove, and nothing else may be. */
  async removeAsync(key: string | null): Promise<string | null> {
    return key;
  }

  /** Takes the id (once); also used outside node-saml, as a failure status ends the attempt too. */
  async take(): Promise<boolean> {
    if (!this.#held) this.#held = await this.#take(this.#expected);
    return this.#held;
  }
}
