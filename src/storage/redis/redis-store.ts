import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';
import { ConfigError, PorticoError, errorMessage } from '../../shared/errors.ts';
import { AlreadyExistsError, ConflictError, NotFoundError, StoreUnavailableError } from '../errors.ts';
import type { DocumentStore, StoredRecord, UpdateOptions, WriteOptions } from '../ports.ts';
import { distinctTags, encodeValue, ttlMs, uniqueEntries } from '../values.ts';
import { packValue, unpackValue } from './value-packing.ts';

/*
 * Key layout (P = keyPrefix, default "portico:"; C = collection with '%', '{' and '}' escaped as
 * %25, %7B, %7D; I = encodeURIComponent(index name)):
 *
 *   P{C}:r:<id>                    string: the record (layout below)
 *   P{C}:u:<I>:<value>             string: id of the record holding the unique value
 *   P{C}:t:<tag>                   set of ids carrying the tag
 *   Pn:<collection length>:<collection>:<id>   counter (INCR + PEXPIRE)
 *
 * Every script that enforces uniqueness or maintains tags touches the record, its unique keys
 * and its tag sets together, and the unique key to check is only known by value, not by id. So a
 * collection's record family shares one Redis Cluster hash slot via the `{C}` hash tag; scripts
 * get the record (or unique/tag) key in KEYS and derive its siblings from the same `P{C}:` base,
 * which is safe precisely because they hash to the same slot. Counters are single keys touched
 * alone, so they carry no hash tag and spread over the cluster (rate limits are the hottest
 * keys). Escaping braces keeps any collection name from moving the slot boundary; index names
 * sit before a ':' and are encoded so that no (index, value) pair can collide with another, and
 * the counter key length-prefixes the collection for the same reason.
 *
 * A record is one string: version, consumedAt, expiresAt, unique JSON ([index, value, …]), tags
 * JSON and the value, joined by "\n" (the header fields never contain a newline, so the value can
 * simply be the rest, whatever its bytes). The value is its JSON text, or for records that live a
 * day or more (directory users, sessions, grants, refresh tokens, logs) that JSON packed with a
 * preset dictionary (value-packing.ts), which roughly halves those values (a new guest's sign-in
 * went from 5.2 to 3.9 KB of Redis memory); shorter-lived records (codes, interactions, sign-in
 * flows, access tokens) are read and rewritten often and soon gone, so they stay plain and cost no
 * CPU. A hash would be tidier, but values beyond 64 bytes push a hash out of its compact encoding
 * and double the memory a record takes. Everything that expires carries the record's own absolute
 * expiry (PXAT, from the server's clock), so unique keys vanish with their record. Tag sets are
 * shared by records with different lifetimes: a set lives as long as its longest-lived member, and
 * ids of records that are gone (or no longer carry the tag) are pruned by the scripts that read
 * the set.
 *
 * Requires Redis 7.0+ (PEXPIREAT … GT, SET … PXAT / KEEPTTL).
 */

const LUA_PRELUDE = `
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local function record_key(base, id) return base .. 'r:' .. id end
local function unique_key(base, name, value) return base .. 'u:' .. name .. ':' .. value end
local function tag_key(base, tag) return base .. 't:' .. tag end

-- { n, c, e, u, t, v } from the stored string, or nil for a missing record.
local function parse(raw)
  if not raw then return nil end
  local fields, pos = {}, 1
  for i = 1, 5 do
    local nl = string.find(raw, '\\n', pos, true)
    fields[i] = string.sub(raw, pos, nl - 1)
    pos = nl + 1
  end
  return { n = fields[1], c = fields[2], e = fields[3], u = fields[4], t = fields[5], v = string.sub(raw, pos) }
end
local function serialise(r)
  return table.concat({ r.n, r.c, r.e, r.u, r.t, r.v }, '\\n')
end
local function list(json)
  if json == '' or json == '[]' then return {} end
  return cjson.decode(json)
end

local function holds(r, name, value)
  if not r then return false end
  local unique = list(r.u)
  for i = 1, #unique, 2 do
    if unique[i] == name and unique[i + 1] == value then return true end
  end
  return false
end

local function has_tag(r, tag)
  if not r then return false end
  for _, t in ipairs(list(r.t)) do
    if t == tag then return true end
  end
  return false
end

-- The first index name whose value another live record holds, or nil.
local function clash(base, id, unique_json)
  local unique = list(unique_json)
  for i = 1, #unique, 2 do
    local owner = redis.call('GET', unique_key(base, unique[i], unique[i + 1]))
    if owner and owner ~= id and holds(parse(redis.call('GET', record_key(base, owner))), unique[i], unique[i + 1]) then
      return unique[i]
    end
  end
  return nil
end

local function unlink(base, id, r)
  local unique = list(r.u)
  for i = 1, #unique, 2 do
    local k = unique_key(base, unique[i], unique[i + 1])
    if redis.call('GET', k) == id then redis.call('DEL', k) end
  end
  for _, tag in ipairs(list(r.t)) do redis.call('SREM', tag_key(base, tag), id) end
end

-- Writes the record and its links. Callers check for clashes first: a script that fails half way
-- keeps its earlier writes, so nothing may be written before every check has passed.
local function write(base, key, id, r)
  if r.e ~= '' then
    redis.call('SET', key, serialise(r), 'PXAT', r.e)
  else
    redis.call('SET', key, serialise(r))
  end
  local unique = list(r.u)
  for i = 1, #unique, 2 do
    local k = unique_key(base, unique[i], unique[i + 1])
    if r.e ~= '' then redis.call('SET', k, id, 'PXAT', r.e) else redis.call('SET', k, id) end
  end
  for _, tag in ipairs(list(r.t)) do
    local k = tag_key(base, tag)
    local existed = redis.call('EXISTS', k) == 1
    redis.call('SADD', k, id)
    if r.e == '' then
      redis.call('PERSIST', k)
    elseif existed then
      redis.call('PEXPIREAT', k, r.e, 'GT')
    else
      redis.call('PEXPIREAT', k, r.e)
    end
  end
end

local function expiry(ttl_ms)
  if ttl_ms == '' then return '' end
  return string.format('%d', now_ms() + tonumber(ttl_ms))
end
`;

interface ScriptDefinition {
  readonly keys: number;
  readonly body: string;
}

const SCRIPTS = {
  // KEYS: record. ARGV: base, id, value, ttlMs|'', uniqueJson, tagsJson.
  porticoCreate: {
    keys: 1,
    body: `
      if redis.call('EXISTS', KEYS[1]) == 1 then return { 'exists' } end
      local taken = clash(ARGV[1], ARGV[2], ARGV[5])
      if taken then return { 'unique', taken } end
      write(ARGV[1], KEYS[1], ARGV[2], { n = '1', c = '', e = expiry(ARGV[4]), u = ARGV[5], t = ARGV[6], v = ARGV[3] })
      return { 'ok' }`,
  },
  // KEYS: record. ARGV: base, id, value, ttlMs|'', uniqueJson, tagsJson.
  porticoPut: {
    keys: 1,
    body: `
      local taken = clash(ARGV[1], ARGV[2], ARGV[5])
      if taken then return { 'unique', taken } end
      local version = 1
      local current = parse(redis.call('GET', KEYS[1]))
      if current then
        version = tonumber(current.n) + 1
        unlink(ARGV[1], ARGV[2], current)
      end
      write(ARGV[1], KEYS[1], ARGV[2], { n = tostring(version), c = '', e = expiry(ARGV[4]), u = ARGV[5], t = ARGV[6], v = ARGV[3] })
      return { 'ok' }`,
  },
  // Compare-and-set on the version read before the updater ran.
  // KEYS: record. ARGV: base, id, expectedVersion, value, ttlMs|'' (keep), uniqueJson|'-' (keep), tagsJson|'-' (keep).
  porticoUpdate: {
    keys: 1,
    body: `
      local current = parse(redis.call('GET', KEYS[1]))
      if not current then return { 'missing' } end
      if current.n ~= ARGV[3] then return { 'conflict' } end
      local unique_json = ARGV[6]
      if unique_json == '-' then unique_json = current.u end
      local tags_json = ARGV[7]
      if tags_json == '-' then tags_json = current.t end
      local taken = clash(ARGV[1], ARGV[2], unique_json)
      if taken then return { 'unique', taken } end
      local expires = current.e
      if ARGV[5] ~= '' then expires = expiry(ARGV[5]) end
      unlink(ARGV[1], ARGV[2], current)
      write(ARGV[1], KEYS[1], ARGV[2], {
        n = tostring(tonumber(current.n) + 1), c = current.c, e = expires, u = unique_json, t = tags_json, v = ARGV[4] })
      return { 'ok' }`,
  },
  // KEYS: record.
  porticoConsume: {
    keys: 1,
    body: `
      local current = parse(redis.call('GET', KEYS[1]))
      if not current or current.c ~= '' then return 0 end
      current.c = string.format('%d', now_ms())
      redis.call('SET', KEYS[1], serialise(current), 'KEEPTTL')
      return 1`,
  },
  // KEYS: record. ARGV: base, id.
  porticoDelete: {
    keys: 1,
    body: `
      local current = parse(redis.call('GET', KEYS[1]))
      if not current then return 0 end
      unlink(ARGV[1], ARGV[2], current)
      redis.call('DEL', KEYS[1])
      return 1`,
  },
  // One script rather than GET + GET so the record returned is the one holding the value.
  // KEYS: unique key. ARGV: base, encoded index, value. Returns { id, stored record } or nil.
  porticoFindByUnique: {
    keys: 1,
    body: `
      local owner = redis.call('GET', KEYS[1])
      if not owner then return false end
      local raw = redis.call('GET', record_key(ARGV[1], owner))
      if not holds(parse(raw), ARGV[2], ARGV[3]) then return false end
      return { owner, raw }`,
  },
  // Returns flat { id, stored record, … } and prunes ids that no longer belong.
  // KEYS: tag set. ARGV: base, tag.
  porticoListByTag: {
    keys: 1,
    body: `
      local out = {}
      for _, id in ipairs(redis.call('SMEMBERS', KEYS[1])) do
        local raw = redis.call('GET', record_key(ARGV[1], id))
        if has_tag(parse(raw), ARGV[2]) then
          out[#out + 1] = id
          out[#out + 1] = raw
        else
          redis.call('SREM', KEYS[1], id)
        end
      end
      return out`,
  },
  // KEYS: tag set. ARGV: base, tag.
  porticoDeleteByTag: {
    keys: 1,
    body: `
      local deleted = 0
      for _, id in ipairs(redis.call('SMEMBERS', KEYS[1])) do
        local key = record_key(ARGV[1], id)
        local current = parse(redis.call('GET', key))
        if has_tag(current, ARGV[2]) then
          unlink(ARGV[1], id, current)
          redis.call('DEL', key)
          deleted = deleted + 1
        else
          redis.call('SREM', KEYS[1], id)
        end
      end
      return deleted`,
  },
  // KEYS: counter. ARGV: windowMs.
  porticoIncrement: {
    keys: 1,
    body: `
      local n = redis.call('INCR', KEYS[1])
      if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
      return n`,
  },
} satisfies Record<string, ScriptDefinition>;

type ScriptName = keyof typeof SCRIPTS;
/** ioredis defines `<name>Buffer` beside each script: the same call with bulk replies as Buffers. */
type ScriptCommands = Record<ScriptName | `${ScriptName}Buffer`, (key: string, ...args: (string | Buffer)[]) => Promise<unknown>>;

const HASH_TAG_ESCAPES: Readonly<Record<string, string>> = { '%': '%25', '{': '%7B', '}': '%7D' };

/** Safety net only: a connection attempt normally ends within the connect and command timeouts. */
const CONNECTION_ATTEMPT_CAP_MS = 10_000;

/** Optimistic `update` attempts before giving up with ConflictError. */
const MAX_UPDATE_ATTEMPTS = 20;

/** Records that live at least this long (or forever) are stored packed; see the layout comment. */
const PACK_FROM_TTL_MS = 86_400_000;

/**
 * A DocumentStore on Redis (standalone, Sentinel or Cluster). The store owns `client`: `close()`
 * quits it. Every Redis failure (unreachable, timeout, error reply) rejects with
 * StoreUnavailableError; there is no fallback.
 *
 * Atomicity: every multi-key operation is one Lua script, so it runs without interleaving on the
 * server. `update` runs the caller's updater in this process, so it reads the record with its
 * version, runs the updater, and writes through a compare-and-set script that fails if the
 * version moved; it then retries with fresh data. Updates of one record from this process are
 * queued locally first, so the retries only ever race other processes, not our own callers.
 */
export function createRedisStore(options: { client: Redis | Cluster; keyPrefix?: string }): DocumentStore {
  const client = options.client;
  const prefix = options.keyPrefix ?? 'portico:';
  if (/[{}]/.test(prefix)) throw new ConfigError([`redis keyPrefix must not contain '{' or '}' (they select the cluster slot): ${prefix}`]);
  for (const [name, script] of Object.entries(SCRIPTS)) {
    client.defineCommand(name, { lua: LUA_PRELUDE + script.body, numberOfKeys: script.keys });
  }
  const scripts = client as unknown as ScriptCommands;
  const updateQueues = new Map<string, Promise<void>>();
  let closed = false;

  const base = (collection: string): string => `${prefix}{${collection.replace(/[%{}]/g, (c) => HASH_TAG_ESCAPES[c] as string)}}:`;
  const recordKey = (collection: string, id: string): string => `${base(collection)}r:${id}`;

  /** Runs one Redis interaction, turning every failure into StoreUnavailableError. */
  async function redis<R>(operation: () => Promise<R>): Promise<R> {
    if (closed) throw new StoreUnavailableError('redis store is closed');
    try {
      await untilAttemptSettles(client);
      return await operation();
    } catch (error) {
      if (error instanceof PorticoError) throw error;
      throw new StoreUnavailableError(`redis: ${errorMessage(error)}`, error);
    }
  }

  /** Interprets the `{ 'ok' } | { 'exists' } | { 'unique', index } | …` replies of the write scripts. */
  function checkWrite(collection: string, id: string, reply: unknown): string {
    const [status, detail] = reply as [string, string | undefined];
    if (status === 'exists') throw new AlreadyExistsError(collection, 'a record with this id');
    if (status === 'unique') {
      const index = decodeURIComponent(detail ?? '');
      throw new AlreadyExistsError(collection, `unique ${index}`, index);
    }
    return status;
  }

  async function serialised<R>(key: string, operation: () => Promise<R>): Promise<R> {
    const previous = updateQueues.get(key) ?? Promise.resolve();
    let release!: () => void;
    const tail = previous.then(() => new Promise<void>((resolve) => (release = resolve)));
    updateQueues.set(key, tail);
    try {
      await previous;
      return await operation();
    } finally {
      release();
      if (updateQueues.get(key) === tail) updateQueues.delete(key);
    }
  }

  async function write(script: 'porticoCreate' | 'porticoPut', collection: string, id: string, value: unknown, options: WriteOptions): Promise<void> {
    const args = [base(collection), id, storedValue(encodeValue(value), ttlMs(options.ttlSeconds)), ttlArg(options.ttlSeconds), uniqueArg(options.unique), tagsArg(options.tags)];
    const reply = await redis(() => scripts[script](recordKey(collection, id), ...args));
    checkWrite(collection, id, reply);
  }

  return {
    kind: 'redis',

    async get<T>(collection: string, id: string): Promise<StoredRecord<T> | undefined> {
      const raw = await redis(() => client.getBuffer(recordKey(collection, id)));
      return raw === null ? undefined : toRecord<T>(id, parseRecord(raw));
    },

    create: (collection, id, value, options = {}) => write('porticoCreate', collection, id, value, options),

    put: (collection, id, value, options = {}) => write('porticoPut', collection, id, value, options),

    async update<T>(collection: string, id: string, updater: (current: T) => T, options: UpdateOptions = {}): Promise<T> {
      const key = recordKey(collection, id);
      const ttl = ttlArg(options.ttlSeconds);
      const newLifetimeMs = ttlMs(options.ttlSeconds);
      const unique = options.unique === undefined ? KEEP : uniqueArg(options.unique);
      const tags = options.tags === undefined ? KEEP : tagsArg(options.tags);
      return serialised(key, async () => {
        for (let attempt = 1; attempt <= MAX_UPDATE_ATTEMPTS; attempt += 1) {
          const raw = await redis(() => client.getBuffer(key));
          if (raw === null) throw new NotFoundError(collection);
          const current = parseRecord(raw);
          const next = encodeValue(updater(JSON.parse(current.value) as T));
          // Without a new TTL the record keeps its expiry, and so how long it has left.
          const lifetime = newLifetimeMs ?? (current.expiresAt === '' ? undefined : Number(current.expiresAt) - Date.now());
          const stored = storedValue(next, lifetime);
          const reply = await redis(() => scripts.porticoUpdate(key, base(collection), id, current.version, stored, ttl, unique, tags));
          const status = checkWrite(collection, id, reply);
          if (status === 'ok') return JSON.parse(next) as T;
          if (status === 'missing') throw new NotFoundError(collection);
          // Another process won: back off a little, with jitter, so the contenders spread out.
          await sleep(Math.random() * Math.min(100, 2 ** attempt));
        }
        throw new ConflictError(collection);
      });
    },

    async delete(collection: string, id: string): Promise<boolean> {
      return (await redis(() => scripts.porticoDelete(recordKey(collection, id), base(collection), id))) === 1;
    },

    async consume(collection: string, id: string): Promise<boolean> {
      return (await redis(() => scripts.porticoConsume(recordKey(collection, id)))) === 1;
    },

    async findByUnique<T>(collection: string, index: string, value: string): Promise<StoredRecord<T> | undefined> {
      const encodedIndex = encodeURIComponent(index);
      const key = `${base(collection)}u:${encodedIndex}:${value}`;
      const reply = (await redis(() => scripts.porticoFindByUniqueBuffer(key, base(collection), encodedIndex, value))) as [Buffer, Buffer] | null;
      return reply ? toRecord<T>(reply[0].toString('utf8'), parseRecord(reply[1])) : undefined;
    },

    async listByTag<T>(collection: string, tag: string): Promise<StoredRecord<T>[]> {
      const flat = (await redis(() => scripts.porticoListByTagBuffer(`${base(collection)}t:${tag}`, base(collection), tag))) as Buffer[];
      const records: StoredRecord<T>[] = [];
      for (let i = 0; i + 1 < flat.length; i += 2) records.push(toRecord<T>((flat[i] as Buffer).toString('utf8'), parseRecord(flat[i + 1] as Buffer)));
      return records;
    },

    async deleteByTag(collection: string, tag: string): Promise<number> {
      return Number(await redis(() => scripts.porticoDeleteByTag(`${base(collection)}t:${tag}`, base(collection), tag)));
    },

    async increment(collection: string, id: string, windowSeconds: number): Promise<number> {
      const windowMs = ttlArg(windowSeconds);
      return Number(await redis(() => scripts.porticoIncrement(`${prefix}n:${collection.length}:${collection}:${id}`, windowMs)));
    },

    async ping(): Promise<void> {
      await redis(() => client.ping());
    },

    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      await closeClient(client);
    },
  };
}

export interface ConnectRedisOptions {
  /** redis:// or rediss:// URL; in sentinel and cluster mode it still supplies credentials and TLS. */
  readonly url?: string;
  readonly mode: 'standalone' | 'cluster' | 'sentinel';
  readonly sentinels?: readonly { host: string; port: number }[];
  readonly sentinelName?: string;
  /** Cluster seed nodes as URLs or host:port; defaults to `url`. */
  readonly clusterNodes?: readonly string[];
  readonly commandTimeoutMs?: number;
  readonly connectTimeoutMs?: number;
  /**
   * Connection-level errors (each failed reconnect attempt, …). Callers also see failures as
   * rejected store calls, so the default is to drop them instead of letting ioredis print them.
   */
  readonly onError?: (error: Error) => void;
}

/**
 * A client configured to fail closed: no offline queue (a command sent while disconnected fails at
 * once instead of waiting), a command timeout, and no replay of commands whose outcome was lost
 * with the connection (a replayed write could apply after its caller was told it failed).
 * Reconnection continues forever with a capped backoff so the service recovers on its own when
 * Redis comes back. A store on this client waits for a connection attempt in progress (such as
 * the first one) instead of failing at once, so a startup `ping()` works without extra steps.
 */
export function connectRedis(options: ConnectRedisOptions): Redis | Cluster {
  const commandTimeout = options.commandTimeoutMs ?? 2000;
  const connectTimeout = options.connectTimeoutMs ?? 2000;
  const retryStrategy = (attempt: number): number => Math.min(50 * 2 ** Math.min(attempt, 6), 2000) + Math.floor(Math.random() * 100);
  const common = {
    commandTimeout,
    connectTimeout,
    maxRetriesPerRequest: 1,
    autoResendUnfulfilledCommands: false,
    // Commands issued in the same tick go out in one write: cheaper under concurrent requests.
    enableAutoPipelining: true,
    connectionName: 'portico',
  } satisfies RedisOptions;

  let client: Redis | Cluster;
  switch (options.mode) {
    case 'standalone':
      client = new Redis(options.url ?? 'redis://127.0.0.1:6379', { ...common, enableOfflineQueue: false, retryStrategy });
      break;
    case 'sentinel': {
      const problems: string[] = [];
      if (!options.sentinels?.length) problems.push('redis sentinel mode needs at least one sentinel');
      if (!options.sentinelName) problems.push('redis sentinel mode needs the master group name (sentinelName)');
      if (problems.length) throw new ConfigError(problems);
      const sentinelOptions: RedisOptions = {
        ...common,
        enableOfflineQueue: false,
        retryStrategy,
        sentinels: options.sentinels?.map((s) => ({ host: s.host, port: s.port })),
        name: options.sentinelName,
        sentinelRetryStrategy: retryStrategy,
        sentinelCommandTimeout: commandTimeout,
      };
      client = options.url ? new Redis(options.url, sentinelOptions) : new Redis(sentinelOptions);
      break;
    }
    case 'cluster': {
      const nodes = options.clusterNodes?.length ? [...options.clusterNodes] : options.url ? [options.url] : [];
      if (!nodes.length) throw new ConfigError(['redis cluster mode needs clusterNodes or url']);
      const credentials = options.url ? credentialsFromUrl(options.url) : {};
      const clusterOptions: ClusterOptions = {
        enableOfflineQueue: false,
        clusterRetryStrategy: retryStrategy,
        slotsRefreshTimeout: connectTimeout,
        redisOptions: { ...common, ...credentials },
      };
      client = new Cluster(nodes, clusterOptions);
      break;
    }
  }
  const onError = options.onError ?? (() => {});
  client.on('error', onError);
  return client;
}

/**
 * Resolves once the client can take commands; rejects with StoreUnavailableError after
 * `timeoutMs`, when the client gives up, or (with `failFast`) as soon as the current connection
 * attempt reports an error instead of waiting for the reconnects that follow.
 */
export async function waitForRedisReady(client: Redis | Cluster, timeoutMs = 5000, options: { failFast?: boolean } = {}): Promise<void> {
  if (client.status === 'ready') return;
  if (client.status === 'end') throw new StoreUnavailableError('redis connection has ended');
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => done(new StoreUnavailableError(`redis not ready after ${timeoutMs} ms (status ${client.status})`)), timeoutMs);
    const onReady = (): void => done();
    const onEnd = (): void => done(new StoreUnavailableError('redis connection ended before it was ready'));
    const onFailure = (error?: unknown): void =>
      done(new StoreUnavailableError(`redis connection attempt failed${error instanceof Error ? `: ${error.message}` : ''}`, error));
    function done(error?: Error): void {
      clearTimeout(timer);
      client.off('ready', onReady);
      client.off('end', onEnd);
      client.off('close', onFailure);
      client.off('error', onFailure);
      if (error) reject(error);
      else resolve();
    }
    client.on('ready', onReady);
    client.on('end', onEnd);
    if (options.failFast) {
      client.on('close', onFailure);
      client.on('error', onFailure);
    }
  });
}

/**
 * Without an offline queue, a command sent while a connection attempt is under way fails even if
 * the attempt is about to succeed, which would make a store used right after `connectRedis` (the
 * startup ping) fail. So calls wait for an attempt in progress to settle, which the connect and
 * command timeouts bound; between attempts (status "reconnecting") they fail at once.
 */
async function untilAttemptSettles(client: Redis | Cluster): Promise<void> {
  const status = client.status;
  if (status !== 'wait' && status !== 'connecting' && status !== 'connect') return;
  // One waiter per client however many calls queue up behind the connection attempt.
  let attempt = connectionAttempts.get(client);
  if (!attempt) {
    attempt = (status === 'wait' ? client.connect() : waitForRedisReady(client, CONNECTION_ATTEMPT_CAP_MS, { failFast: true })).finally(() =>
      connectionAttempts.delete(client),
    );
    connectionAttempts.set(client, attempt);
  }
  await attempt;
}
const connectionAttempts = new WeakMap<Redis | Cluster, Promise<void>>();

async function closeClient(client: Redis | Cluster): Promise<void> {
  if (client.status === 'end') return;
  if (client.status === 'ready') {
    // QUIT lets in-flight replies arrive; bounded so a wedged server cannot hang shutdown.
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<void>((resolve) => (timer = setTimeout(resolve, 1000)));
    await Promise.race([client.quit().then(() => undefined, () => undefined), deadline]);
    clearTimeout(timer);
  }
  client.disconnect();
}

function credentialsFromUrl(url: string): { username?: string; password?: string; tls?: object } {
  const parsed = new URL(url);
  return {
    ...(parsed.username ? { username: decodeURIComponent(parsed.username) } : {}),
    ...(parsed.password ? { password: decodeURIComponent(parsed.password) } : {}),
    ...(parsed.protocol === 'rediss:' ? { tls: {} } : {}),
  };
}

interface ParsedRecord {
  readonly version: string;
  readonly consumedAt: string;
  readonly expiresAt: string;
  /** The value's JSON text, unpacked. */
  readonly value: string;
}

const NEWLINE = 0x0a;

/** Reads the "\n"-joined layout the scripts write (see the key layout comment at the top). */
function parseRecord(raw: Buffer): ParsedRecord {
  // Version, consumedAt and expiresAt are ASCII digits; the unique and tag fields are the scripts' business.
  const fields: string[] = [];
  let position = 0;
  for (let i = 0; i < 5; i += 1) {
    const newline = raw.indexOf(NEWLINE, position);
    if (newline < 0) throw new StoreUnavailableError('redis holds a record this version of Portico cannot read');
    if (i < 3) fields.push(raw.toString('latin1', position, newline));
    position = newline + 1;
  }
  let value: string;
  try {
    value = unpackValue(raw, position);
  } catch (error) {
    throw new StoreUnavailableError(`redis holds a value this version of Portico cannot read: ${errorMessage(error)}`, error);
  }
  return { version: fields[0] as string, consumedAt: fields[1] as string, expiresAt: fields[2] as string, value };
}

/** The value as written: packed when the record lives a day or more (`lifetimeMs` undefined: forever). */
function storedValue(json: string, lifetimeMs: number | undefined): string | Buffer {
  return lifetimeMs === undefined || lifetimeMs >= PACK_FROM_TTL_MS ? packValue(json) : json;
}

function toRecord<T>(id: string, record: ParsedRecord): StoredRecord<T> {
  return {
    id,
    value: JSON.parse(record.value) as T,
    ...(record.consumedAt === '' ? {} : { consumedAt: Number(record.consumedAt) }),
    ...(record.expiresAt === '' ? {} : { expiresAt: Number(record.expiresAt) }),
  };
}

/** Script argument meaning "keep the record's current unique values / tags". */
const KEEP = '-';

/** Milliseconds as a script argument; '' when absent. */
function ttlArg(seconds: number | undefined): string {
  const ms = ttlMs(seconds);
  return ms === undefined ? '' : String(ms);
}

/** Flat JSON [encodedIndex, value, …], or '' for none; index names are encoded because they sit before a ':' in key names. */
function uniqueArg(unique: Readonly<Record<string, string>> | undefined): string {
  const flat = uniqueEntries(unique).flatMap(([index, value]) => [encodeURIComponent(index), value]);
  return flat.length ? JSON.stringify(flat) : '';
}

/** JSON [tag, …], or '' for none (an empty field costs nothing in the stored record). */
function tagsArg(tags: readonly string[] | undefined): string {
  const distinct = distinctTags(tags);
  return distinct.length ? JSON.stringify(distinct) : '';
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
