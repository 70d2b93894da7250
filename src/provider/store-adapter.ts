import type { Adapter, AdapterPayload } from 'oidc-provider';
import { errors } from 'oidc-provider';
import type { DocumentStore, StoredRecord, WriteOptions } from '../storage/ports.ts';

/** Models whose records belong to a grant and must go when the grant is revoked. */
const GRANTABLE = new Set([
  'AccessToken',
  'AuthorizationCode',
  'RefreshToken',
  'DeviceCode',
  'BackchannelAuthenticationRequest',
]);

/**
 * Models listed under their account (one tag per login, never per token), so all of a user's
 * sessions and grants can be ended at once (`endAccountSessions`).
 */
const PER_ACCOUNT = new Set(['Grant', 'Session']);

/** Models that are single use: a lost race on `consume` is a replay and revokes the grant. */
const SINGLE_USE = new Set(['AuthorizationCode', 'RefreshToken', 'DeviceCode', 'BackchannelAuthenticationRequest']);

/** oidc-provider wants `consumed` (epoch seconds) in the payload of a consumed record. */
function payloadOf(record: StoredRecord<AdapterPayload> | undefined): AdapterPayload | undefined {
  if (!record) return undefined;
  return record.consumedAt === undefined ? record.value : { ...record.value, consumed: Math.floor(record.consumedAt / 1000) };
}

/**
 * Bridges oidc-provider's adapter API onto the DocumentStore port. One collection per tenant and
 * model, so one tenant's provider can never find another tenant's artefacts.
 */
export class StoreAdapter implements Adapter {
  readonly #store: DocumentStore;
  readonly #collection: string;
  readonly #model: string;
  readonly #tenantId: string;

  constructor(store: DocumentStore, tenantId: string, model: string) {
    this.#store = store;
    this.#model = model;
    this.#tenantId = tenantId;
    this.#collection = collectionOf(tenantId, model);
  }

  async upsert(id: string, payload: AdapterPayload, expiresIn: number): Promise<void> {
    const unique: Record<string, string> = {};
    if (payload.uid) unique['uid'] = payload.uid;
    if (payload.userCode) unique['userCode'] = payload.userCode;
    const options: WriteOptions = {
      ...(expiresIn > 0 ? { ttlSeconds: expiresIn } : {}),
      unique,
      tags: [
        ...(GRANTABLE.has(this.#model) && payload.grantId ? [`grant:${payload.grantId}`] : []),
        ...(PER_ACCOUNT.has(this.#model) && payload.accountId ? [`account:${payload.accountId}`] : []),
      ],
    };
    await this.#store.put(this.#collection, id, payload, options);
  }

  async find(id: string): Promise<AdapterPayload | undefined> {
    return payloadOf(await this.#store.get<AdapterPayload>(this.#collection, id));
  }

  async findByUid(uid: string): Promise<AdapterPayload | undefined> {
    return payloadOf(await this.#store.findByUnique<AdapterPayload>(this.#collection, 'uid', uid));
  }

  async findByUserCode(userCode: string): Promise<AdapterPayload | undefined> {
    return payloadOf(await this.#store.findByUnique<AdapterPayload>(this.#collection, 'userCode', userCode));
  }

  async consume(id: string): Promise<void> {
    const won = await this.#store.consume(this.#collection, id);
    if (won || !SINGLE_USE.has(this.#model)) return;
    // Two requests presented the same code or refresh token at once and this one lost: that is
    // a replay, so treat it like one (RFC 9700 §4.14.2) and revoke everything of the grant.
    const record = await this.#store.get<AdapterPayload>(this.#collection, id);
    const grantId = record?.value.grantId;
    if (grantId) await revokeGrant(this.#store, this.#tenantId, grantId);
    throw new errors.InvalidGrant(`${this.#model === 'RefreshToken' ? 'refresh token' : 'grant'} already used`);
  }

  async destroy(id: string): Promise<void> {
    await this.#store.delete(this.#collection, id);
  }

  async revokeByGrantId(grantId: string): Promise<void> {
    await this.#store.deleteByTag(this.#collection, `grant:${grantId}`);
  }
}

const collectionOf = (tenantId: string, model: string): string => `oidc:${tenantId}:${model}`;

/** Everything a grant issued (codes, access and refresh tokens) goes with it. */
async function revokeGrant(store: DocumentStore, tenantId: string, grantId: string): Promise<void> {
  await Promise.all([
    ...[...GRANTABLE].map((model) => store.deleteByTag(collectionOf(tenantId, model), `grant:${grantId}`)),
    store.delete(collectionOf(tenantId, 'Grant'), grantId),
  ]);
}

/**
 * Signs a user out everywhere in a tenant: every session, every grant and what the grants issued.
 * For when the identity behind the account changes (a reset redemption): what the old identity
 * signed in to must not outlive it.
 */
export async function endAccountSessions(store: DocumentStore, tenantId: string, accountId: string): Promise<void> {
  const grants = await store.listByTag(collectionOf(tenantId, 'Grant'), `account:${accountId}`);
  await Promise.all(grants.map((grant) => revokeGrant(store, tenantId, grant.id)));
  await store.deleteByTag(collectionOf(tenantId, 'Session'), `account:${accountId}`);
}
