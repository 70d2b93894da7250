/**
 * Loads a config folder (`portico.yaml` + `tenants/*.yaml`) into a typed `PorticoConfig`, or
 * throws one `ConfigError` listing every problem in every file. Operators fix config in one
 * pass, so nothing stops at the first error: YAML, schema, cross-key and cross-file problems
 * are all collected, then sorted by file and by position in the file.
 */
import { createHash } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { isNode, isScalar, LineCounter, parseDocument, type Document } from 'yaml';
import type { z } from 'zod';
import { ConfigError } from '../shared/errors.ts';
import { substituteEnv, type SubstitutedValue } from './env-refs.ts';
import { formatPath, fromZodIssues, humanErrorMap, pathKey, type Issue } from './messages.ts';
import { brokerRules, defaultGrantTypes, tenantRules } from './rules.ts';
import { findSecretPaths, isRecord, type PathSegment } from './schema-walk.ts';
import {
  brokerFileSchema,
  logLevelSchema,
  normalizePublicUrl,
  portSchema,
  publicUrlProblem,
  redisUrlProblem,
  SLUG,
  tenantFileSchema,
} from './schema.ts';
import { implicitEmailOtpEntry } from './sign-in.ts';
import type { ConnectorConfig } from '../connectors/registry.ts';
import type { BrokerConfig, BrokerFile, LoadedConfig, LogLevel, TenantConfig, TenantFile } from './types.ts';

export type { LoadedConfig } from './types.ts';

/** Where a problem sits in its file, so messages come out in reading order. */
interface Located {
  offset: number;
  seq: number;
  text: string;
}

/** One YAML file and everything found wrong with it. */
interface SourceFile {
  /** Path as shown in messages. */
  display: string;
  /** Name inside the config folder, for the hash. */
  name: string;
  content: Buffer | undefined;
  doc: Document.Parsed | undefined;
  /** False when the YAML itself is broken: nothing else is checked then. */
  parsed: boolean;
  data: unknown;
  substituted: Map<string, SubstitutedValue>;
  issues: Issue[];
  warnings: Issue[];
  /** YAML syntax errors, which carry their own line:column. */
  syntax: Located[];
  /** Paths whose value came from a `:-default` of a secret. */
  demoDefaults: Set<string>;
}

export async function loadConfig(dir: string, env: NodeJS.ProcessEnv = process.env): Promise<LoadedConfig> {
  const cwd = process.cwd();
  const sourceDir = path.resolve(cwd, dir);
  const show = (absolute: string) => displayPath(cwd, absolute);

  const dirEntries = await listFolder(sourceDir, show);
  const folderProblems: string[] = [];

  // --- portico.yaml: optional, every key has a default
  const brokerName = 'portico.yaml';
  if (!dirEntries.includes(brokerName) && dirEntries.includes('portico.yml')) {
    folderProblems.push(`${show(path.join(sourceDir, 'portico.yml'))}: the broker file must be named portico.yaml`);
  }
  const broker = await readSource(sourceDir, brokerName, show, env, { optional: true });
  const overrides = readEnvOverrides(env);
  const brokerFile = checkBroker(broker, overrides.values);

  // --- tenants/*.yaml
  const tenantsDir = path.join(sourceDir, 'tenants');
  const tenantNames: string[] = [];
  const tenantProblems: string[] = [];
  try {
    const entries = await readdir(tenantsDir, { withFileTypes: true });
    for (const entry of entries.sort((a, b) => compare(a.name, b.name))) {
      // Dot files are editor and VCS droppings (.gitkeep, swap files), never tenants.
      if (entry.name.startsWith('.') || !(entry.isFile() || entry.isSymbolicLink())) continue;
      if (entry.name.endsWith('.yaml')) tenantNames.push(entry.name);
      else if (entry.name.endsWith('.yml')) tenantProblems.push(`${show(path.join(tenantsDir, entry.name))}: tenant files must end in .yaml`);
    }
    if (tenantNames.length === 0 && tenantProblems.length === 0) {
      tenantProblems.push(`${show(tenantsDir)}: no tenant files (each tenant is a file tenants/<id>.yaml)`);
    }
  } catch (error) {
    tenantProblems.push(
      errorCode(error) === 'ENOENT'
        ? `${show(tenantsDir)}: folder not found (each tenant is a file tenants/<id>.yaml)`
        : `${show(tenantsDir)}: cannot read (${errorCode(error) ?? 'unknown error'})`,
    );
  }

  const tenants: { source: SourceFile; base: string; file: TenantFile | undefined }[] = [];
  for (const name of tenantNames) {
    const source = await readSource(sourceDir, `tenants/${name}`, show, env, { optional: false });
    const base = name.slice(0, -'.yaml'.length);
    tenants.push({ source, base, file: checkTenant(source, base) });
  }
  checkDomainsAcrossTenants(tenants);
  checkPartnerTenants(tenants);

  const problems = [
    ...folderProblems,
    ...render(broker, 'issues'),
    ...overrides.problems,
    ...tenantProblems,
    ...tenants.flatMap(({ source }) => render(source, 'issues')),
  ];
  if (problems.length > 0) throw new ConfigError(problems);
  // No problems means every file parsed, so these are defined; the guard keeps the types honest.
  if (brokerFile === undefined || tenants.some((t) => t.file === undefined)) throw new ConfigError(['internal: config validated without a result']);

  const warnings = [...render(broker, 'warnings'), ...tenants.flatMap(({ source }) => render(source, 'warnings'))];
  const sources = [broker, ...tenants.map((t) => t.source)];
  return {
    config: {
      sourceDir,
      hash: hashSources(sources),
      broker: resolveBroker(brokerFile, overrides.values, cwd),
      tenants: tenants.map((t) => resolveTenant(t.file!, t.source)).sort((a, b) => compare(a.id, b.id)),
    },
    warnings,
  };
}

// ---------------------------------------------------------------------------------------------
// Checking one file: schema, then cross-key rules, then secrets. Each returns the typed file when
// the schema accepts it; problems accumulate on the source either way.

function checkBroker(broker: SourceFile, overrides: EnvValues): BrokerFile | undefined {
  if (!broker.parsed) return undefined;
  const result = brokerFileSchema.safeParse(broker.data, { error: humanErrorMap });
  broker.issues.push(...fromZodIssues(brokerFileSchema, result.error?.issues ?? [], broker.data));
  const raw = isRecord(broker.data) ? broker.data : {};
  const fileRedisUrl = isRecord(raw['storage']) && isRecord(raw['storage']['redis']) ? raw['storage']['redis']['url'] : undefined;
  broker.issues.push(
    ...brokerRules(broker.data, {
      publicUrl: overrides.publicUrl ?? (typeof raw['publicUrl'] === 'string' ? raw['publicUrl'] : undefined),
      redisUrl: overrides.redisUrl ?? (typeof fileRedisUrl === 'string' ? fileRedisUrl : undefined),
    }),
  );
  checkSecrets(broker, brokerFileSchema);
  if (!result.success) return undefined;
  if (result.data.storage.backend === 'memory') {
    broker.warnings.push({
      path: ['storage', 'backend'],
      message: "'memory' keeps all state in this process: it is lost on restart and not shared between instances (development and tests only)",
    });
  }
  return result.data;
}

function checkTenant(source: SourceFile, base: string): TenantFile | undefined {
  if (!source.parsed) return undefined;
  const result = tenantFileSchema.safeParse(source.data, { error: humanErrorMap });
  source.issues.push(...fromZodIssues(tenantFileSchema, result.error?.issues ?? [], source.data));
  source.issues.push(...tenantRules(source.data));
  // The id is in the file and in its name so a file copied to start a new tenant cannot silently
  // keep serving the old tenant's id.
  const id = isRecord(source.data) ? source.data['id'] : undefined;
  if (!SLUG.test(base)) {
    source.issues.push({ path: [], message: 'the file name must be the tenant id (lowercase letters, digits and hyphens) followed by .yaml' });
  } else if (typeof id === 'string' && id !== base) {
    source.issues.push({ path: ['id'], message: `'${id}' does not match the file name (expected '${base}')` });
  }
  checkSecrets(source, tenantFileSchema);
  return result.success ? result.data : undefined;
}

// ---------------------------------------------------------------------------------------------
// Reading

async function listFolder(sourceDir: string, show: (p: string) => string): Promise<string[]> {
  let info;
  try {
    info = await stat(sourceDir);
  } catch (error) {
    const code = errorCode(error);
    throw new ConfigError([code === 'ENOENT' ? `${show(sourceDir)}: config folder not found` : `${show(sourceDir)}: cannot read (${code ?? 'unknown error'})`]);
  }
  if (!info.isDirectory()) throw new ConfigError([`${show(sourceDir)}: not a folder`]);
  return readdir(sourceDir);
}

async function readSource(
  sourceDir: string,
  name: string,
  show: (p: string) => string,
  env: NodeJS.ProcessEnv,
  options: { optional: boolean },
): Promise<SourceFile> {
  const absolute = path.join(sourceDir, ...name.split('/'));
  const source: SourceFile = {
    display: show(absolute),
    name,
    content: undefined,
    doc: undefined,
    parsed: false,
    data: {},
    substituted: new Map(),
    issues: [],
    warnings: [],
    syntax: [],
    demoDefaults: new Set(),
  };
  try {
    source.content = await readFile(absolute);
  } catch (error) {
    const code = errorCode(error);
    if (code === 'ENOENT' && options.optional) {
      source.parsed = true;
      return source;
    }
    source.syntax.push({ offset: 0, seq: 0, text: `${source.display}: cannot read (${code ?? 'unknown error'})` });
    return source;
  }

  const lineCounter = new LineCounter();
  const doc = parseDocument(source.content.toString('utf8'), { lineCounter, prettyErrors: true, uniqueKeys: true });
  source.doc = doc;
  // Unknown tags are only warnings to the yaml library; in a config file they are always a mistake.
  for (const error of [...doc.errors, ...doc.warnings]) {
    const offset = error.pos[0];
    const { line, col } = lineCounter.linePos(offset);
    // The library appends " at line L, column C:" and a code excerpt: keep one line per problem.
    const message = error.message.replace(/ at line \d+, column \d+:[\s\S]*$/, '');
    source.syntax.push({ offset, seq: source.syntax.length, text: `${source.display}:${line}:${col}: invalid YAML: ${message}` });
  }
  if (source.syntax.length > 0) return source;

  let data: unknown;
  try {
    data = doc.toJS() ?? {};
  } catch (error) {
    source.syntax.push({ offset: 0, seq: 0, text: `${source.display}: invalid YAML: ${error instanceof Error ? error.message : String(error)}` });
    return source;
  }
  const isPlainScalar = (at: readonly PathSegment[]) => {
    const node = doc.getIn(at, true);
    return isScalar(node) && node.type === 'PLAIN';
  };
  const substitution = substituteEnv(withoutEmptyValues(data), env, isPlainScalar);
  source.data = substitution.data;
  source.substituted = substitution.values;
  source.issues.push(...substitution.issues);
  source.parsed = true;
  return source;
}

/**
 * `key:` with nothing after it (typically a section whose keys are all commented out) means
 * "not set", not "set to null": the key then takes its default, or is reported as required.
 */
function withoutEmptyValues(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutEmptyValues);
  if (!isRecord(value)) return value;
  return Object.fromEntries(
    Object.entries(value).flatMap(([key, item]) => (item === null ? [] : [[key, withoutEmptyValues(item)]])),
  );
}

// ---------------------------------------------------------------------------------------------
// Checks needing more than one file or the substitution record

/** Secrets must be `${env:NAME}` so they never end up committed with the rest of the config. */
function checkSecrets(source: SourceFile, schema: z.ZodType): void {
  for (const at of findSecretPaths(schema, source.data)) {
    const record = source.substituted.get(pathKey(at));
    if (record?.unresolved) continue;
    if (record === undefined || !record.singleReference) {
      source.issues.push({ path: at, message: 'secrets must be environment references like ${env:NAME}' });
    } else if (record.defaulted.length > 0) {
      source.demoDefaults.add(pathKey(at));
      source.warnings.push({
        path: at,
        message: `${record.defaulted.join(', ')} is not set, so the demo-only default is used: set it in any real deployment`,
      });
    }
  }
}

function checkDomainsAcrossTenants(tenants: { source: SourceFile; base: string }[]): void {
  const owners = new Map<string, { tenant: string; display: string }>();
  for (const { source, base } of tenants) {
    if (!source.parsed || !isRecord(source.data)) continue;
    const id = source.data['id'];
    const tenant = typeof id === 'string' && id !== '' ? id : base;
    const domains = Array.isArray(source.data['domains']) ? source.data['domains'] : [];
    const mine = new Set<string>();
    domains.forEach((domain: unknown, index) => {
      if (typeof domain !== 'string') return;
      const key = domain.toLowerCase();
      const owner = owners.get(key);
      if (owner && owner.display !== source.display) {
        source.issues.push({
          path: ['domains', index],
          message: `'${domain}' is already used by tenant '${owner.tenant}' (${owner.display})`,
        });
      }
      mine.add(key);
    });
    for (const key of mine) if (!owners.has(key)) owners.set(key, { tenant, display: source.display });
  }
}

/** `crossTenantAccess.partners[].tenant` must name another tenant of this deployment. */
function checkPartnerTenants(tenants: { source: SourceFile; base: string }[]): void {
  const ids = tenants.map(({ base }) => base);
  for (const { source } of tenants) {
    if (!source.parsed || !isRecord(source.data) || !isRecord(source.data['crossTenantAccess'])) continue;
    const partners = source.data['crossTenantAccess']['partners'];
    if (!Array.isArray(partners)) continue;
    partners.forEach((entry: unknown, index) => {
      if (!isRecord(entry) || typeof entry['tenant'] !== 'string' || ids.includes(entry['tenant'])) return;
      source.issues.push({ path: ['crossTenantAccess', 'partners', index, 'tenant'], message: `unknown tenant '${entry['tenant']}' (known: ${ids.join(', ')})` });
    });
  }
}

// ---------------------------------------------------------------------------------------------
// Environment overrides (PORT, PUBLIC_URL, PORTICO_DATA, REDIS_URL, LOG_LEVEL)

interface EnvValues {
  port?: number;
  publicUrl?: string;
  dataDir?: string;
  redisUrl?: string;
  logLevel?: LogLevel;
}

function readEnvOverrides(env: NodeJS.ProcessEnv): { values: EnvValues; problems: string[] } {
  const values: EnvValues = {};
  const problems: string[] = [];
  // An empty variable counts as unset, as in `${env:NAME:-default}`: compose files often export "".
  const get = (name: string) => (env[name] === undefined || env[name] === '' ? undefined : env[name]);
  const problem = (name: string, message: string) => problems.push(`environment variable ${name}: ${message}`);

  const port = get('PORT');
  if (port !== undefined) {
    if (/^\d+$/.test(port) && portSchema.safeParse(Number(port)).success) values.port = Number(port);
    else problem('PORT', `must be a port number from 1 to 65535 (got '${port}')`);
  }
  const publicUrl = get('PUBLIC_URL');
  if (publicUrl !== undefined) {
    const message = publicUrlProblem(publicUrl);
    if (message) problem('PUBLIC_URL', message);
    else values.publicUrl = publicUrl;
  }
  const dataDir = get('PORTICO_DATA');
  if (dataDir !== undefined) values.dataDir = dataDir;
  const redisUrl = get('REDIS_URL');
  if (redisUrl !== undefined) {
    const message = redisUrlProblem(redisUrl);
    if (message) problem('REDIS_URL', message);
    else values.redisUrl = redisUrl;
  }
  const logLevel = get('LOG_LEVEL');
  if (logLevel !== undefined) {
    const result = logLevelSchema.safeParse(logLevel, { error: humanErrorMap });
    if (result.success) values.logLevel = result.data;
    else problem('LOG_LEVEL', result.error.issues[0]?.message ?? 'is invalid');
  }
  return { values, problems };
}

// ---------------------------------------------------------------------------------------------
// Building the typed result

function resolveBroker(file: BrokerFile, env: EnvValues, cwd: string): BrokerConfig {
  const { port: filePort, publicUrl: filePublicUrl, ...rest } = file;
  const port = env.port ?? filePort;
  const dataDir = path.resolve(cwd, env.dataDir ?? file.dataDir);
  const redisUrl = env.redisUrl ?? file.storage.redis.url;
  return {
    port,
    publicUrl: normalizePublicUrl(env.publicUrl ?? filePublicUrl ?? `http://localhost:${port}`),
    ...rest,
    dataDir,
    storage: {
      ...file.storage,
      sqlite: { path: path.resolve(cwd, file.storage.sqlite.path ?? path.join(dataDir, 'portico.db')) },
      redis: { ...file.storage.redis, ...(redisUrl === undefined ? {} : { url: redisUrl }) },
    },
    mail: { ...file.mail, outboxDir: path.resolve(cwd, file.mail.outboxDir ?? path.join(dataDir, 'outbox')) },
    log: { ...file.log, level: env.logLevel ?? file.log.level },
  };
}

function resolveTenant(file: TenantFile, source: SourceFile): TenantConfig {
  return {
    ...file,
    file: source.display,
    identityProviders: [...file.identityProviders, ...implicitEmailOtp(file)],
    apps: file.apps.map((app, index) => {
      const redirectUris = app.redirectUris ?? [];
      return {
        ...app,
        secretIsDemoDefault: source.demoDefaults.has(pathKey(['apps', index, 'secret'])),
        redirectUris,
        grantTypes: app.grantTypes ?? defaultGrantTypes(app.type),
        // A SPA calls the token endpoint from the pages it is redirected to, so those origins
        // are the ones CORS must allow.
        corsOrigins: app.corsOrigins ?? (app.type === 'spa' ? [...new Set(redirectUris.map((uri) => new URL(uri).origin))] : []),
      };
    }),
  };
}

/** Email passcodes are on unless switched off; an entry of kind email-otp tunes them. */
function implicitEmailOtp(file: TenantFile): ConnectorConfig[] {
  if (!file.emailOneTimePasscode.enabled || file.identityProviders.some((entry) => entry.kind === 'email-otp')) return [];
  const implicit = implicitEmailOtpEntry();
  // tenantRules reported the problem when the kind cannot run on defaults alone.
  if (!('entry' in implicit)) throw new ConfigError([`internal: ${implicit.problem}`]);
  return [implicit.entry];
}

function hashSources(sources: SourceFile[]): string {
  const hash = createHash('sha256');
  const read = sources.filter((s) => s.content !== undefined).sort((a, b) => compare(a.name, b.name));
  for (const source of read) {
    hash.update(source.name).update('\0').update(source.content!).update('\0');
  }
  return hash.digest('hex');
}

// ---------------------------------------------------------------------------------------------
// Rendering

function render(source: SourceFile, kind: 'issues' | 'warnings'): string[] {
  const located: Located[] = kind === 'issues' ? [...source.syntax] : [];
  const seen = new Set<string>();
  // `redirectUri: unknown key (did you mean 'redirectUris'?)` already says what is wrong.
  const misspelt = new Set(source[kind].flatMap((issue) => (issue.meant ? [pathKey(issue.meant)] : [])));
  source[kind].forEach((issue, seq) => {
    // One message per key: the first (most basic) problem found there is the one to fix.
    const key = pathKey(issue.path);
    if (seen.has(key) || (misspelt.has(key) && issue.message.startsWith('is required'))) return;
    seen.add(key);
    const where = formatPath(issue.path, source.data);
    located.push({
      offset: source.doc ? offsetOf(source.doc, issue.path) : 0,
      seq,
      text: `${source.display}: ${where === '' ? '' : `${where}: `}${issue.message}`,
    });
  });
  return located.sort((a, b) => a.offset - b.offset || a.seq - b.seq).map((l) => l.text);
}

/** Start of the deepest node that exists along `at`: a missing key points at its parent. */
function offsetOf(doc: Document.Parsed, at: readonly PathSegment[]): number {
  for (let length = at.length; length >= 0; length--) {
    const node = length === 0 ? doc.contents : doc.getIn(at.slice(0, length), true);
    if (isNode(node) && node.range) return node.range[0];
  }
  return 0;
}

function displayPath(cwd: string, absolute: string): string {
  const relative = path.relative(cwd, absolute);
  if (relative === '') return '.';
  if (relative === '..' || relative.startsWith(`..${path.sep}`) || path.isAbsolute(relative)) return absolute;
  return relative.split(path.sep).join('/');
}

const compare = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

const errorCode = (error: unknown): string | undefined =>
  isRecord(error) && typeof error['code'] === 'string' ? error['code'] : undefined;
