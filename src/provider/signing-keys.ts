import { generateKeyPairSync, randomBytes, type JsonWebKey } from 'node:crypto';
import type { Clock } from '../shared/clock.ts';
import { PorticoError } from '../shared/errors.ts';
import { sealerFor, type Sealed, type Sealer } from '../shared/sealing.ts';
import { AlreadyExistsError } from '../storage/errors.ts';
import type { DocumentStore } from '../storage/ports.ts';

export type SigningAlg = 'RS256' | 'ES256' | 'EdDSA';

/**
 * `next` keys are published but never sign, so relying parties have them cached before they are
 * used; `current` keys sign; `previous` keys stay published until everything they signed expired.
 */
export type KeyState = 'next' | 'current' | 'previous';

interface StoredKey {
  readonly kid: string;
  readonly alg: SigningAlg;
  readonly state: KeyState;
  readonly createdAt: number;
  /** For `previous` keys: the time after which no token it signed can still be valid. */
  readonly retireAfter?: number;
  readonly jwk?: JsonWebKey;
  readonly sealed?: Sealed;
}

interface StoredKeySet {
  readonly version: number;
  readonly keys: readonly StoredKey[];
}

export interface SigningKey {
  readonly kid: string;
  readonly alg: SigningAlg;
  readonly state: KeyState;
  readonly createdAt: number;
  readonly retireAfter?: number;
  readonly privateJwk: JsonWebKey;
}

export interface TenantKeySet {
  readonly tenantId: string;
  readonly version: number;
  readonly keys: readonly SigningKey[];
}

export interface RotationResult {
  readonly version: number;
  readonly activated: readonly { alg: SigningAlg; kid: string }[];
  readonly published: readonly { alg: SigningAlg; kid: string }[];
  readonly retiring: readonly { alg: SigningAlg; kid: string; retireAfter: number }[];
  readonly removed: readonly { alg: SigningAlg; kid: string }[];
}

const COLLECTION = 'signing-keys';
const COOKIE_COLLECTION = 'cookie-keys';

export class KeyDecryptionError extends PorticoError {
  constructor(message: string) {
    super('keys_unreadable', message, { status: 500, expose: false });
  }
}

function generatePrivateJwk(alg: SigningAlg): JsonWebKey {
  switch (alg) {
    case 'RS256':
      return generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' });
    case 'ES256':
      return generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' });
    case 'EdDSA':
      return generateKeyPairSync('ed25519').privateKey.export({ format: 'jwk' });
  }
}

/** Random key ids: a kid is never reused, even if the same key material were generated twice. */
const newKid = (): string => randomBytes(12).toString('base64url');

const newKey = (alg: SigningAlg, state: KeyState, now: number): Omit<StoredKey, 'jwk' | 'sealed'> & { jwk: JsonWebKey } => ({
  kid: newKid(),
  alg,
  state,
  createdAt: now,
  jwk: generatePrivateJwk(alg),
});

/**
 * Per-tenant signing keys, kept in the store so every instance signs with the same keys, sealed
 * with AES-256-GCM when a key-encryption secret is configured.
 */
export class SigningKeyService {
  readonly #store: DocumentStore;
  readonly #clock: Clock;
  readonly #sealer: Sealer | undefined;

  constructor(options: { store: DocumentStore; clock: Clock; encryptionSecret?: string | undefined }) {
    this.#store = options.store;
    this.#clock = options.clock;
    this.#sealer = sealerFor(options.encryptionSecret, 'signing-keys/v1');
  }

  /** Loads the tenant's keys, creating a current and a next key for each missing algorithm. */
  async ensure(tenantId: string, algs: readonly SigningAlg[]): Promise<TenantKeySet> {
    const existing = await this.#store.get<StoredKeySet>(COLLECTION, tenantId);
    if (!existing) {
      const now = this.#clock.now();
      const fresh: StoredKeySet = {
        version: 1,
        keys: algs.flatMap((alg) => [newKey(alg, 'current', now), newKey(alg, 'next', now)]).map((k) => this.#seal(tenantId, k)),
      };
      try {
        await this.#store.create(COLLECTION, tenantId, fresh);
        return this.#open(tenantId, fresh);
      } catch (error) {
        // Another instance created them first: theirs win, so every instance signs alike.
        if (!(error instanceof AlreadyExistsError)) throw error;
        return this.ensure(tenantId, algs);
      }
    }
    const missing = algs.filter((alg) => !existing.value.keys.some((k) => k.alg === alg && k.state === 'current'));
    const needsSealing = this.#sealer !== undefined && existing.value.keys.some((k) => k.jwk);
    if (missing.length === 0 && !needsSealing) return this.#open(tenantId, existing.value);
    const updated = await this.#store.update<StoredKeySet>(COLLECTION, tenantId, (current) => {
      const now = this.#clock.now();
      const stillMissing = missing.filter((alg) => !current.keys.some((k) => k.alg === alg && k.state === 'current'));
      const added = stillMissing.flatMap((alg) => [newKey(alg, 'current', now), newKey(alg, 'next', now)]);
      return {
        version: current.version + 1,
        keys: [...current.keys.map((k) => this.#reseal(tenantId, k)), ...added.map((k) => this.#seal(tenantId, k))],
      };
    });
    return this.#open(tenantId, updated);
  }

  async load(tenantId: string): Promise<TenantKeySet | undefined> {
    const record = await this.#store.get<StoredKeySet>(COLLECTION, tenantId);
    return record ? this.#open(tenantId, record.value) : undefined;
  }

  /** The key set's version, a cheap way for instances to notice a rotation. */
  async version(tenantId: string): Promise<number | undefined> {
    return (await this.#store.get<StoredKeySet>(COLLECTION, tenantId))?.value.version;
  }

  /**
   * For every algorithm: the next key starts signing, the current key keeps being published until
   * `retireAfterSeconds` (the longest lifetime of anything it signed) has passed, a new next key is
   * published, and previous keys past their retirement are removed.
   */
  async rotate(tenantId: string, retireAfterSeconds: number): Promise<RotationResult> {
    let result: RotationResult | undefined;
    await this.#store.update<StoredKeySet>(COLLECTION, tenantId, (current) => {
      const now = this.#clock.now();
      const activated: { alg: SigningAlg; kid: string }[] = [];
      const published: { alg: SigningAlg; kid: string }[] = [];
      const retiring: { alg: SigningAlg; kid: string; retireAfter: number }[] = [];
      const removed: { alg: SigningAlg; kid: string }[] = [];
      const kept: StoredKey[] = [];
      const algs = [...new Set(current.keys.map((k) => k.alg))];
      for (const key of current.keys) {
        if (key.state === 'previous' && (key.retireAfter ?? 0) <= now) {
          removed.push({ alg: key.alg, kid: key.kid });
        } else if (key.state === 'current') {
          const retireAfter = now + retireAfterSeconds * 1000;
          kept.push({ ...key, state: 'previous', retireAfter });
          retiring.push({ alg: key.alg, kid: key.kid, retireAfter });
        } else if (key.state === 'next') {
          kept.push({ ...key, state: 'current' });
          activated.push({ alg: key.alg, kid: key.kid });
        } else {
          kept.push(key);
        }
      }
      for (const alg of algs) {
        if (!activated.some((a) => a.alg === alg)) {
          // No next key was waiting (an older store): the new current key is one that nobody
          // has cached yet, which relying parties handle by re-fetching the JWKS on an unknown kid.
          const fresh = this.#seal(tenantId, newKey(alg, 'current', now));
          kept.push(fresh);
          activated.push({ alg, kid: fresh.kid });
        }
        const next = this.#seal(tenantId, newKey(alg, 'next', now));
        kept.push(next);
        published.push({ alg, kid: next.kid });
      }
      result = { version: current.version + 1, activated, published, retiring, removed };
      return { version: current.version + 1, keys: kept };
    });
    if (!result) throw new Error('unreachable: rotation did not run');
    return result;
  }

  /** Keys shared by all instances to sign cookies; created once. */
  async cookieKeys(): Promise<string[]> {
    const existing = await this.#store.get<{ keys: string[] }>(COOKIE_COLLECTION, 'broker');
    if (existing) return existing.value.keys;
    try {
      await this.#store.create(COOKIE_COLLECTION, 'broker', { keys: [randomBytes(32).toString('base64url')] });
    } catch (error) {
      if (!(error instanceof AlreadyExistsError)) throw error;
    }
    return this.cookieKeys();
  }

  #seal(tenantId: string, key: StoredKey): StoredKey {
    if (!this.#sealer || !key.jwk) return key;
    const { jwk: _plain, ...rest } = key;
    // Binding the ciphertext to tenant and kid stops a sealed key being moved to another tenant.
    return { ...rest, sealed: this.#sealer.seal(JSON.stringify(key.jwk), `${tenantId}:${key.kid}`) };
  }

  #reseal(tenantId: string, key: StoredKey): StoredKey {
    return key.jwk ? this.#seal(tenantId, key) : key;
  }

  #unseal(tenantId: string, key: StoredKey): JsonWebKey {
    if (key.jwk) return key.jwk;
    if (!key.sealed) throw new KeyDecryptionError(`signing key ${key.kid} of tenant ${tenantId} has no key material`);
    if (!this.#sealer) {
      throw new KeyDecryptionError(
        `signing keys of tenant ${tenantId} are encrypted but keys.encryptionSecret is not set`,
      );
    }
    try {
      return JSON.parse(this.#sealer.open(key.sealed, `${tenantId}:${key.kid}`)) as JsonWebKey;
    } catch (error) {
      throw new KeyDecryptionError(
        `signing key ${key.kid} of tenant ${tenantId} cannot be decrypted: is keys.encryptionSecret the one it was sealed with? (${error instanceof Error ? error.message : String(error)})`,
      );
    }
  }

  #open(tenantId: string, set: StoredKeySet): TenantKeySet {
    return {
      tenantId,
      version: set.version,
      keys: set.keys.map((k) => ({
        kid: k.kid,
        alg: k.alg,
        state: k.state,
        createdAt: k.createdAt,
        ...(k.retireAfter === undefined ? {} : { retireAfter: k.retireAfter }),
        privateJwk: this.#unseal(tenantId, k),
      })),
    };
  }
}

/**
 * The JWKS handed to oidc-provider: current keys first and usable for signing; next and previous
 * keys marked verify-only so the provider publishes them but never signs with them. Previous keys
 * past their retirement are left out even before a rotation removes them from the store.
 */
export function providerJwks(set: TenantKeySet, now: number): { keys: JsonWebKey[] } {
  const live = set.keys.filter((k) => k.state !== 'previous' || (k.retireAfter ?? 0) > now);
  const ordered = [...live.filter((k) => k.state === 'current'), ...live.filter((k) => k.state !== 'current')];
  return {
    keys: ordered.map((k) => ({
      ...k.privateJwk,
      kid: k.kid,
      alg: k.alg,
      use: 'sig',
      ...(k.state === 'current' ? {} : { key_ops: ['verify'] }),
    })),
  };
}
