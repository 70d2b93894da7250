import type { Adapter, AdapterPayload } from 'oidc-provider';

/**
 * Storage for one stand-in provider. Each stand-in has its own (oidc-provider's built-in memory
 * adapter is shared by every provider in the process, so one Microsoft tenant could redeem
 * another's codes), and the stand-in can look inside it: the Microsoft stand-in finds which
 * tenant issued a code, and clients are registered at run time as `Client` entries.
 */
export class StandInStore {
  readonly #entries = new Map<string, { payload: AdapterPayload; expiresAt: number | undefined }>();
  readonly #grants = new Map<string, Set<string>>();

  adapterFactory = (model: string): Adapter => new ModelAdapter(this, model);

  get(key: string): AdapterPayload | undefined {
    const entry = this.#entries.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt !== undefined && entry.expiresAt <= Date.now()) {
      this.#entries.delete(key);
      return undefined;
    }
    return entry.payload;
  }

  set(key: string, payload: AdapterPayload, expiresIn: number | undefined): void {
    this.#entries.set(key, { payload, expiresAt: expiresIn ? Date.now() + expiresIn * 1000 : undefined });
    if (payload.grantId) {
      const keys = this.#grants.get(payload.grantId) ?? new Set<string>();
      keys.add(key);
      this.#grants.set(payload.grantId, keys);
    }
  }

  delete(key: string): void {
    this.#entries.delete(key);
  }

  revokeGrant(grantId: string): void {
    for (const key of this.#grants.get(grantId) ?? []) this.#entries.delete(key);
    this.#grants.delete(grantId);
  }

  find(predicate: (key: string, payload: AdapterPayload) => boolean): AdapterPayload | undefined {
    for (const [key, entry] of this.#entries) if (predicate(key, entry.payload)) return this.get(key);
    return undefined;
  }

  /** Whether this store holds an unexpired authorization code. */
  hasAuthorizationCode(code: string): boolean {
    return this.get(`AuthorizationCode:${code}`) !== undefined;
  }
}

class ModelAdapter implements Adapter {
  readonly #store: StandInStore;
  readonly #model: string;

  constructor(store: StandInStore, model: string) {
    this.#store = store;
    this.#model = model;
  }

  #key(id: string): string {
    return `${this.#model}:${id}`;
  }

  async upsert(id: string, payload: AdapterPayload, expiresIn?: number): Promise<void> {
    this.#store.set(this.#key(id), payload, expiresIn);
  }

  async find(id: string): Promise<AdapterPayload | undefined> {
    return this.#store.get(this.#key(id));
  }

  async findByUserCode(userCode: string): Promise<AdapterPayload | undefined> {
    return this.#store.find((key, payload) => key.startsWith(`${this.#model}:`) && payload.userCode === userCode);
  }

  async findByUid(uid: string): Promise<AdapterPayload | undefined> {
    return this.#store.find((key, payload) => key.startsWith(`${this.#model}:`) && payload.uid === uid);
  }

  async consume(id: string): Promise<void> {
    const payload = this.#store.get(this.#key(id));
    if (payload) payload.consumed = Math.floor(Date.now() / 1000);
  }

  async destroy(id: string): Promise<void> {
    this.#store.delete(this.#key(id));
  }

  async revokeByGrantId(grantId: string): Promise<void> {
    this.#store.revokeGrant(grantId);
  }
}
