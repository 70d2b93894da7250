import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';
import { ConfigError, PorticoError, errorMessage } from '../../shared/errors.ts';
import { AlreadyExistsError, ConflictError, NotFoundError, StoreUnavailableError } from '../errors.ts';
import type { DocumentStore, StoredRecord, UpdateOptions, WriteOptions } from '../ports.ts';

/*
 * Key layout (P = keyPrefix, default "portico:"; C = encodeURIComponent(collection)):
 *
 *   P{C}:r:<id>                 hash  v = value JSON, n = version, c = consumedAt, e = expiresAt,
 *                                     u = JSON [index, value, …] it holds, t = JSON [tag, …]
 *   P{C}:u:<encoded index>:<v>  string → id of the record holding unique value v
 *   P{C}:t:<tag>                set of ids carrying the tag
 *   P C:n:<id>                  counter (INCR + PEXPIRE)
 *
 * Every script that enforces uniqueness or maintains tags touches the record, its unique keys
 * and its tag sets together, and the unique key to check is only known by value, not by id. So a
 * collection's record family shares one Redis Cluster hash slot via the `{C}` hash tag; scripts
 * get the record (or unique/tag) key in KEYS and derive its siblings from the same `P{C}:` base,
 * which is safe precisely because they hash to the same slot. Counters are single keys touched
 * alone, so they carry no hash tag and spread over the cluster (rate limits are the hottest
 * keys). The collection is URI-encoded so that no collection name can contain `{`, `}` or `:`
 * and break the slot or make two keys collide; index names likewise, as they sit before a `:`.
 *
 * A record is a small hash (a listpack in Redis's encoding, with one-letter field names) and
 * everything that expires carries the record's own absolute expiry (PEXPIREAT/PXAT, from the
 * server's clock), so unique keys vanish with their record. Tag sets are shared by records with
 * different lifetimes: a set lives as long as its longest-lived member, and ids of records that
 * are gone (or no longer carry the tag) are pruned by the scripts that read the set.
 *
 * Requires Redis 7.0+ (PEXPIREAT … GT, SET … PXAT).
 */

const LUA_PRELUDE = `
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local function record_key(base, id) return base .. 'r:' .. id end
local function unique_key(base, name, value) return base .. 'u:' .. name .. ':' .. value end
local function tag_key(base, tag) return base .. 't:' .. tag end

local function holds(unique_json, name, value)
  if not unique_json then return false end
  local unique = cjson.decode(unique_json)
  for i = 1, #unique, 2 do
    if unique[i] == name and unique[i + 1] == value then return true end
  end
  return false
end

local function has_tag(tags_json, tag)
  if not tags_json then return false end
  for _, t in ipairs(cjson.decode(tags_json)) do
    if t == tag then return true end
  end
  return false
end

-- The first index name whose value another live record holds, or nil.
local function clash(base, id, unique)
  for i = 1, #unique, 2 do
    local owner = redis.call('GET', unique_key(base, unique[i], unique[i + 1]))
    if owner and owner ~= id and holds(redis.call('HGET', record_key(base, owner), 'u'), unique[i], unique[i + 1]) then
      return unique[i]
    end
  end
  return nil
end

local function unlink(base, key, id)
  local fields = redis.call('HMGET', key, 'u', 't')
  if fields[1] then
    local unique = cjson.decode(fields[1])
    for i = 1, #unique, 2 do
      local k = unique_key(base, unique[i], unique[i + 1])
      if redis.call('GET', k) == id then redis.call('DEL', k) end
    end
  end
  if fields[2] then
    for _, tag in ipairs(cjson.decode(fields[2])) do redis.call('SREM', tag_key(base, tag), id) end
  end
end

-- Replaces the record and its links. Callers check for clashes first: a script that fails half
-- way keeps its earlier writes, so nothing may be written before every check has passed.
local function write(base, key, id, value, version, consumed, expires, unique_json, tags_json)
  redis.call('DEL', key)
  local fields = { 'v', value, 'n', version }
  if consumed then fields[#fields + 1] = 'c'; fields[#fields + 1] = consumed end
  if expires then fields[#fields + 1] = 'e'; fields[#fields + 1] = expires end
  if unique_json ~= '[]' then fields[#fields + 1] = 'u'; fields[#fields + 1] = unique_json end
  if tags_json ~= '[]' then fields[#fields + 1] = 't'; fields[#fields + 1] = tags_json end
  redis.call('HSET', key, unpack(fields))
  if expires then redis.call('PEXPIREAT', key, expires) end
  local unique = cjson.decode(unique_json)
  for i = 1, #unique, 2 do
    local k = unique_key(base, unique[i], unique[i + 1])
    if expires then redis.call('SET', k, id, 'PXAT', expires) else redis.call('SET', k, id) end
  end
  for _, tag in ipairs(cjson.decode(tags_json)) do
    local k = tag_key(base, tag)
    local existed = redis.call('EXISTS', k) == 1
    redis.call('SADD', k, id)
    if not expires then
      redis.call('PERSIST', k)
    elseif existed then
      redis.call('PEXPIREAT', k, expires, 'GT')
    else
      redis.call('PEXPIREAT', k, expires)
    end
  end
end

local function expiry(ttl_ms)
  if ttl_ms == '' then return nil end
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
      local taken = clash(ARGV[1], ARGV[2], cjson.decode(ARGV[5]))
      if taken then return { 'unique', taken } end
      write(ARGV[1], KEYS[1], ARGV[2], ARGV[3], 1, nil, expiry(ARGV[4]), ARGV[5], ARGV[6])
      return { 'ok' }`,
  },
  // KEYS: record. ARGV: base, id, value, ttlMs|'', uniqueJson, tagsJson.
  porticoPut: {
    keys: 1,
    body: `
      local taken = clash(ARGV[1], ARGV[2], cjson.decode(ARGV[5]))
      if taken then return { 'unique', taken } end
      local version = 1
      local current = redis.call('HGET', KEYS[1], 'n')
      if current then
        version = tonumber(current) + 1
        unlink(ARGV[1], KEYS[1], ARGV[2])
      end
      write(ARGV[1], KEYS[1], ARGV[2], ARGV[3], version, nil, expiry(ARGV[4]), ARGV[5], ARGV[6])
      return { 'ok' }`,
  },
  // Compare-and-set on the version read before the updater ran.
  // KEYS: record. ARGV: base, id, expectedVersion, value, ttlMs|'', uniqueJson|'' (keep), tagsJson|'' (keep).
  porticoUpdate: {
    keys: 1,
    body: `
      local current = redis.call('HMGET', KEYS[1], 'n', 'c', 'e', 'u', 't')
      if not current[1] then return { 'missing' } end
      if current[1] ~= ARGV[3] then return { 'conflict' } end
      local unique_json = ARGV[6]
      if unique_json == '' then unique_json = current[4] or '[]' end
      local tags_json = ARGV[7]
      if tags_json == '' then tags_json = current[5] or '[]' end
      local taken = clash(ARGV[1], ARGV[2], cjson.decode(unique_json))
      if taken then return { 'unique', taken } end
      local expires = expiry(ARGV[5]) or current[3] or nil
      unlink(ARGV[1], KEYS[1], ARGV[2])
      write(ARGV[1], KEYS[1], ARGV[2], ARGV[4], tonumber(current[1]) + 1, current[2] or nil, expires, unique_json, tags_json)
      return { 'ok' }`,
  },
  // KEYS: record.
  porticoConsume: {
    keys: 1,
    body: `
      if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
      return redis.call('HSETNX', KEYS[1], 'c', string.format('%d', now_ms()))`,
  },
  // KEYS: record. ARGV: base, id.
  porticoDelete: {
    keys: 1,
    body: `
      if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
      unlink(ARGV[1], KEYS[1], ARGV[2])
      redis.call('DEL', KEYS[1])
      return 1`,
  },
  // One script rather than GET + HMGET so the record returned is the one holding the value.
  // KEYS: unique key. ARGV: base, encoded index, value.
  porticoFindByUnique: {
    keys: 1,
    body: `
      local owner = redis.call('GET', KEYS[1])
      if not owner then return false end
      local r = redis.call('HMGET', record_key(ARGV[1], owner), 'v', 'c', 'e', 'u')
      if not r[1] or not holds(r[4], ARGV[2], ARGV[3]) then return false end
      return { owner, r[1], r[2], r[3] }`,
  },
  // Returns flat [id, value, consumedAt, expiresAt, …] and prunes ids that no longer belong.
  // KEYS: tag set. ARGV: base, tag.
  porticoListByTag: {
    keys: 1,
    body: `
      local out = {}
      for _, id in ipairs(redis.call('SMEMBERS', KEYS[1])) do
        local r = redis.call('HMGET', record_key(ARGV[1], id), 'v', 'c', 'e', 't')
        if r[1] and has_tag(r[4], ARGV[2]) then
          out[#out + 1] = id; out[#out + 1] = r[1]; out[#out + 1] = r[2]; out[#out + 1] = r[3]
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
        if has_tag(redis.call('HGET', key, 't'), ARGV[2]) then
          unlink(ARGV[1], key, id)
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
type ScriptCommands = Record<ScriptName, (key: string, ...args: string[]) => Promise<unknown>>;

/** Safety net only: a first connection attempt normally ends within the connect timeout. */
const FIRST_CONNECTION_CAP_MS = 10_000;

/** Optimistic `update` attempts before giving up with ConflictError. */
const MAX_UPDATE_ATTEMPTS = 20;

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

  const base = (collection: string): string => `${prefix}{${encodeURIComponent(collection)}}:`;
  const recordKey = (collection: string, id: string): string => `${base(collection)}r:${id}`;

  /** Runs one Redis interaction, turning every failure into StoreUnavailableError. */
  async function redis<R>(operation: () => Promise<R>): Promise<R> {
    if (closed) throw new StoreUnavailableError('redis store is closed');
    try {
      await untilFirstConnection(client);
      return await operation();
    } catch (error) {
      if (error instanceof PorticoError) throw error;
      throw new StoreUnavailableError(`redis: ${errorMessage(error)}`, error);
    }
  }

  /** Interprets the `{ 'ok' } | { 'exists' } | { 'unique', index } | …` replies of the write scripts. */
  function checkWrite(collection: string, id: string, reply: unknown): string {
    const [status, detail] = reply as [string, string | undefined];
    if (status === 'exists') throw new AlreadyExistsError(collection, `id '${id}'`);
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
    const args = [base(collection), id, encodeValue(value), ttlArg(options.ttlSeconds), uniqueArg(options.unique), tagsArg(options.tags)];
    const reply = await redis(() => scripts[script](recordKey(collection, id), ...args));
    checkWrite(collection, id, reply);
  }

  return {
    kind: 'redis',

    async get<T>(collection: string, id: string): Promise<StoredRecord<T> | undefined> {
      const [value, consumedAt, expiresAt] = await redis(() => client.hmget(recordKey(collection, id), 'v', 'c', 'e'));
      return value == null ? undefined : toRecord<T>(id, value, consumedAt ?? null, expiresAt ?? null);
    },

    create: (collection, id, value, options = {}) => write('porticoCreate', collection, id, value, options),

    put: (collection, id, value, options = {}) => write('porticoPut', collection, id, value, options),

    async update<T>(collection: string, id: string, updater: (current: T) => T, options: UpdateOptions = {}): Promise<T> {
      const key = recordKey(collection, id);
      const ttl = ttlArg(options.ttlSeconds);
      const unique = options.unique === undefined ? '' : uniqueArg(options.unique);
      const tags = options.tags === undefined ? '' : tagsArg(options.tags);
      return serialised(key, async () => {
        for (let attempt = 1; attempt <= MAX_UPDATE_ATTEMPTS; attempt += 1) {
          const [value, version] = await redis(() => client.hmget(key, 'v', 'n'));
          if (value == null || version == null) throw new NotFoundError(collection, id);
          const next = encodeValue(updater(JSON.parse(value) as T));
          const reply = await redis(() => scripts.porticoUpdate(key, base(collection), id, version, next, ttl, unique, tags));
          const status = checkWrite(collection, id, reply);
          if (status === 'ok') return JSON.parse(next) as T;
          if (status === 'missing') throw new NotFoundError(collection, id);
          // Another process won: back off a little, with jitter, so the contenders spread out.
          await sleep(Math.random() * Math.min(100, 2 ** attempt));
        }
        throw new ConflictError(collection, id);
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
      const reply = (await redis(() => scripts.porticoFindByUnique(key, base(collection), encodedIndex, value))) as
        | [string, string, string | null, string | null]
        | null;
      return reply ? toRecord<T>(reply[0], reply[1], reply[2], reply[3]) : undefined;
    },

    async listByTag<T>(collection: string, tag: string): Promise<StoredRecord<T>[]> {
      const flat = (await redis(() => scripts.porticoListByTag(`${base(collection)}t:${tag}`, base(collection), tag))) as (string | null)[];
      const records: StoredRecord<T>[] = [];
      for (let i = 0; i < flat.length; i += 4) {
        records.push(toRecord<T>(flat[i] as string, flat[i + 1] as string, flat[i + 2] ?? null, flat[i + 3] ?? null));
      }
      return records;
    },

    async deleteByTag(collection: string, tag: string): Promise<number> {
      return Number(await redis(() => scripts.porticoDeleteByTag(`${base(collection)}t:${tag}`, base(collection), tag)));
    },

    async increment(collection: string, id: string, windowSeconds: number): Promise<number> {
      const windowMs = ttlArg(windowSeconds);
      return Number(await redis(() => scripts.porticoIncrement(`${prefix}${encodeURIComponent(collection)}:n:${id}`, windowMs)));
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
 * Redis comes back. Commands fail until the connection is ready: await `waitForRedisReady` at
 * startup.
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
 * `timeoutMs`, when the client gives up, or (with `failOnClose`) when a connection attempt fails.
 */
export async function waitForRedisReady(client: Redis | Cluster, timeoutMs = 5000, options: { failOnClose?: boolean } = {}): Promise<void> {
  if (client.status === 'ready') return;
  if (client.status === 'end') throw new StoreUnavailableError('redis connection has ended');
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => done(new StoreUnavailableError(`redis not ready after ${timeoutMs} ms (status ${client.status})`)), timeoutMs);
    const onReady = (): void => done();
    const onEnd = (): void => done(new StoreUnavailableError('redis connection ended before it was ready'));
    const onClose = (): void => done(new StoreUnavailableError('redis connection attempt failed'));
    function done(error?: Error): void {
      clearTimeout(timer);
      client.off('ready', onReady);
      client.off('end', onEnd);
      client.off('close', onClose);
      if (error) reject(error);
      else resolve();
    }
    client.on('ready', onReady);
    client.on('end', onEnd);
    if (options.failOnClose) client.on('close', onClose);
  });
}

/**
 * Without an offline queue, commands sent before the first connection is up would fail, so a
 * store used right after `connectRedis` (a startup ping) waits for that first attempt, which the
 * connect timeout bounds. Once a connection has been lost, commands fail at once instead.
 */
async function untilFirstConnection(client: Redis | Cluster): Promise<void> {
  const status = client.status;
  if (status === 'wait') await client.connect();
  else if (status === 'connecting' || status === 'connect') await waitForRedisReady(client, FIRST_CONNECTION_CAP_MS, { failOnClose: true });
}

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

function toRecord<T>(id: string, value: string, consumedAt: string | null, expiresAt: string | null): StoredRecord<T> {
  return {
    id,
    value: JSON.parse(value) as T,
    ...(consumedAt == null ? {} : { consumedAt: Number(consumedAt) }),
    ...(expiresAt == null ? {} : { expiresAt: Number(expiresAt) }),
  };
}

function encodeValue(value: unknown): string {
  const json = JSON.stringify(value);
  if (typeof json !== 'string') throw new TypeError('stored values must be JSON-serialisable');
  return json;
}

/** Milliseconds as a script argument; '' when absent. */
function ttlArg(seconds: number | undefined): string {
  if (seconds === undefined) return '';
  if (!Number.isFinite(seconds) || seconds <= 0) throw new RangeError(`ttl must be a positive number of seconds, got ${seconds}`);
  return String(Math.ceil(seconds * 1000));
}

/** Flat JSON [encodedIndex, value, …]: index names are encoded because they sit before a ':' in key names. */
function uniqueArg(unique: Readonly<Record<string, string>> | undefined): string {
  return JSON.stringify(Object.entries(unique ?? {}).flatMap(([index, value]) => [encodeURIComponent(index), value]));
}

function tagsArg(tags: readonly string[] | undefined): string {
  return JSON.stringify([...new Set(tags ?? [])]);
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
