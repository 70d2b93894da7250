/**
 * `$top` and `@odata.nextLink`. A next link carries a `$skiptoken` that is sealed with
 * AES-256-GCM under a key shared by every instance through the store: the client cannot read,
 * forge or alter it, and it is bound to the tenant, the collection and the query it continues,
 * so it cannot be replayed against another filter or tenant.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { DocumentStore } from '../storage/ports.ts';
import { AlreadyExistsError } from '../storage/errors.ts';
import { badRequest, type GraphError } from './errors.ts';

export const TOP_DEFAULT = 100;
export const TOP_MAX = 999;

const KEYS = 'api-keys';
const KEY_ID = 'skip-token';

/** `$top` as Graph takes it: an integer from 1 to 999; 100 when absent. */
export function parseTop(value: unknown): number {
  if (value === undefined) return TOP_DEFAULT;
  if (typeof value !== 'string' || !/^\d{1,4}$/.test(value) || Number(value) < 1 || Number(value) > TOP_MAX) {
    throw badRequest(`Invalid page size specified: '${String(value)}'. Must be between 1 and ${TOP_MAX} inclusive.`);
  }
  return Number(value);
}

/** What a skip token is bound to: the page it continues must be asked for with the same of each. */
export interface PageBinding {
  readonly tenantId: string;
  readonly collection: string;
  readonly query: string;
}

const invalidToken = (): GraphError => badRequest('The $skiptoken is invalid or does not belong to this query.');

export class SkipTokens {
  readonly #key: Buffer;

  private constructor(key: Buffer) {
    this.#key = key;
  }

  /** The key is made once and shared through the store, so any instance continues any page. */
  static async open(store: DocumentStore): Promise<SkipTokens> {
    const existing = await store.get<{ key: string }>(KEYS, KEY_ID);
    if (existing) return new SkipTokens(Buffer.from(existing.value.key, 'base64url'));
    try {
      await store.create(KEYS, KEY_ID, { key: randomBytes(32).toString('base64url') });
    } catch (error) {
      if (!(error instanceof AlreadyExistsError)) throw error;
    }
    return SkipTokens.open(store);
  }

  seal(binding: PageBinding, position: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.#key, iv);
    cipher.setAAD(this.#aad(binding));
    const data = Buffer.concat([cipher.update(position, 'utf8'), cipher.final()]);
    return Buffer.concat([iv, cipher.getAuthTag(), data]).toString('base64url');
  }

  /** The position sealed in `token`; a 400 Graph error when it was altered or is for another query. */
  open(binding: PageBinding, token: unknown): string {
    if (typeof token !== 'string' || token.length > 4096 || !/^[A-Za-z0-9_-]+$/.test(token)) throw invalidToken();
    const raw = Buffer.from(token, 'base64url');
    if (raw.length < 29) throw invalidToken();
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.#key, raw.subarray(0, 12));
      decipher.setAAD(this.#aad(binding));
      decipher.setAuthTag(raw.subarray(12, 28));
      return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8');
    } catch {
      throw invalidToken();
    }
  }

  #aad(binding: PageBinding): Buffer {
    return Buffer.from(JSON.stringify([binding.tenantId, binding.collection, binding.query]));
  }
}
