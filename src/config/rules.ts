/**
 * Rules spanning several keys of one file. They read the raw (substituted, not yet validated)
 * data and skip whatever has the wrong shape, because zod already reports that; running them on
 * raw data means an app with a bad redirect URI still gets its unknown-api error reported in the
 * same run, instead of one problem per edit-and-retry cycle.
 */
import type { Issue } from './messages.ts';
import { isRecord, type PathSegment } from './schema-walk.ts';
import { originProblem, redirectUriProblem, type AppTypeName } from './schema.ts';
import { policyRules } from './policy-rules.ts';
import { signInRules } from './sign-in-rules.ts';

const APP_TYPES: readonly string[] = ['web', 'spa', 'native', 'daemon'];
const PUBLIC_CLIENTS: readonly string[] = ['spa', 'native'];

const listOf = (value: unknown): unknown[] | undefined => (Array.isArray(value) ? value : undefined);

/** `duplicate of <first path>` for every repeated value after the first. */
function duplicates(list: unknown[] | undefined, path: PathSegment[], key: string, issues: Issue[]): void {
  if (!list) return;
  const seen = new Map<string, number>();
  list.forEach((item, index) => {
    if (typeof item !== 'string') return;
    const first = seen.get(item);
    if (first === undefined) seen.set(item, index);
    else issues.push({ path: [...path, index], message: `duplicate of ${key}[${first}]` });
  });
}

/** A repeated `field` among the entries of a list of mappings (ids, identifiers). */
function duplicateFields(
  list: unknown[] | undefined,
  path: PathSegment[],
  field: string,
  describe: (firstIndex: number, first: Record<string, unknown>) => string,
  issues: Issue[],
): void {
  if (!list) return;
  const seen = new Map<string, number>();
  list.forEach((item, index) => {
    if (!isRecord(item) || typeof item[field] !== 'string') return;
    const value = item[field];
    const first = seen.get(value);
    if (first === undefined) seen.set(value, index);
    else issues.push({ path: [...path, index, field], message: `'${value}' is already used by ${describe(first, list[first] as Record<string, unknown>)}` });
  });
}

export function defaultGrantTypes(type: AppTypeName): ('authorization_code' | 'refresh_token' | 'client_credentials')[] {
  return type === 'daemon' ? ['client_credentials'] : ['authorization_code', 'refresh_token'];
}

export function tenantRules(raw: unknown): Issue[] {
  const issues: Issue[] = [];
  if (!isRecord(raw)) return issues;

  duplicates(listOf(raw['domains']), ['domains'], 'domains', issues);

  const apis = listOf(raw['apis']);
  duplicateFields(apis, ['apis'], 'id', (i) => `apis[${i}]`, issues);
  duplicateFields(
    apis,
    ['apis'],
    'identifier',
    (i, first) => (typeof first['id'] === 'string' ? `api '${first['id']}'` : `apis[${i}]`),
    issues,
  );
  const knownApis = [...new Set((apis ?? []).flatMap((api) => (isRecord(api) && typeof api['id'] === 'string' ? [api['id']] : [])))];

  const apps = listOf(raw['apps']);
  duplicateFields(apps, ['apps'], 'id', (i) => `apps[${i}]`, issues);
  apps?.forEach((app, index) => {
    if (isRecord(app)) appRules(app, ['apps', index], knownApis, issues);
  });

  signInRules(raw, issues);
  policyRules(raw, issues);
  return issues;
}

function appRules(app: Record<string, unknown>, at: PathSegment[], knownApis: string[], issues: Issue[]): void {
  const add = (path: PathSegment[], message: string) => issues.push({ path: [...at, ...path], message });
  // Portico registers this client itself in every tenant, for redeem links.
  if (app['id'] === 'portico-redeem') add(['id'], "'portico-redeem' is reserved for Portico's invitation redemption");
  const type = typeof app['type'] === 'string' && APP_TYPES.includes(app['type']) ? (app['type'] as AppTypeName) : undefined;

  if (type === 'daemon' && app['selfServiceSignUp'] === true) {
    add(['selfServiceSignUp'], 'not allowed for daemon apps (they sign in no users)');
  }
  if (type === 'daemon' && app['assignmentRequired'] === true) {
    add(['assignmentRequired'], 'not allowed for daemon apps (they sign in no users)');
  }

  if (type === 'web' || type === 'daemon') {
    if (app['secret'] === undefined) add(['secret'], `is required for ${type} apps (as \${env:NAME})`);
  } else if (type !== undefined && app['secret'] !== undefined) {
    add(['secret'], `not allowed for ${type} apps (public clients cannot keep a secret)`);
  }

  for (const key of ['redirectUris', 'postLogoutRedirectUris'] as const) {
    const uris = listOf(app[key]);
    if (type === 'daemon') {
      if (uris && uris.length > 0) add([key], 'not allowed for daemon apps');
      continue;
    }
    if (key === 'redirectUris' && type !== undefined && (app[key] === undefined || uris?.length === 0)) {
      add([key], `is required for ${type} apps`);
    }
    uris?.forEach((uri, index) => {
      if (typeof uri !== 'string') return;
      const problem = redirectUriProblem(uri, type);
      if (problem) add([key, index], problem);
    });
    duplicates(uris, [...at, key], key, issues);
  }

  const grants = listOf(app['grantTypes']);
  if (grants && type !== undefined) {
    const has = (grant: string) => grants.includes(grant);
    grants.forEach((grant, index) => {
      if (type === 'daemon' && (grant === 'authorization_code' || grant === 'refresh_token')) {
        add(['grantTypes', index], `'${grant}' is not allowed for daemon apps (they use client_credentials)`);
      } else if (PUBLIC_CLIENTS.includes(type) && grant === 'client_credentials') {
        add(['grantTypes', index], `'client_credentials' is not allowed for ${type} apps (public clients cannot authenticate)`);
      } else if (grant === 'refresh_token' && !has('authorization_code')) {
        add(['grantTypes', index], "'refresh_token' requires 'authorization_code'");
      }
    });
  }
  duplicates(grants, [...at, 'grantTypes'], 'grantTypes', issues);

  const apis = listOf(app['apis']);
  apis?.forEach((api, index) => {
    if (typeof api !== 'string' || knownApis.includes(api)) return;
    const known = knownApis.length > 0 ? `known: ${knownApis.join(', ')}` : 'this tenant defines no apis';
    add(['apis', index], `unknown api '${api}' (${known})`);
  });
  duplicates(apis, [...at, 'apis'], 'apis', issues);

  duplicates(listOf(app['scopes']), [...at, 'scopes'], 'scopes', issues);

  // App roles are for apps acting on their own behalf: a public client cannot prove who it is.
  const roles = listOf(app['graphRoles']);
  if (roles && roles.length > 0) {
    if (type !== undefined && PUBLIC_CLIENTS.includes(type)) {
      add(['graphRoles'], `not allowed for ${type} apps (app roles need a confidential client using client_credentials)`);
    } else if (type === 'web' && !(grants ?? defaultGrantTypes('web')).includes('client_credentials')) {
      add(['graphRoles'], "requires 'client_credentials' in grantTypes (app roles come with client credentials tokens)");
    }
  }
  duplicates(roles, [...at, 'graphRoles'], 'graphRoles', issues);

  // Delegated scopes come with a signed-in user, through the authorization code flow.
  const scopes = listOf(app['graphScopes']);
  if (scopes && scopes.length > 0 && type !== undefined) {
    if (type === 'daemon') add(['graphScopes'], 'not allowed for daemon apps (delegated scopes need a signed-in user; use graphRoles)');
    else if (!(grants ?? defaultGrantTypes(type)).includes('authorization_code')) {
      add(['graphScopes'], "requires 'authorization_code' in grantTypes (delegated scopes come with a user's sign-in)");
    }
  }
  duplicates(scopes, [...at, 'graphScopes'], 'graphScopes', issues);

  const origins = listOf(app['corsOrigins']);
  if (type === 'daemon' && origins && origins.length > 0) add(['corsOrigins'], 'not allowed for daemon apps');
  else {
    origins?.forEach((origin, index) => {
      if (typeof origin !== 'string') return;
      const problem = originProblem(origin);
      if (problem) add(['corsOrigins', index], problem);
    });
    duplicates(origins, [...at, 'corsOrigins'], 'corsOrigins', issues);
  }
}

/** Values after environment overrides, which some rules depend on. */
export interface EffectiveBrokerValues {
  publicUrl: string | undefined;
  redisUrl: string | undefined;
}

export function brokerRules(raw: unknown, effective: EffectiveBrokerValues): Issue[] {
  const issues: Issue[] = [];
  if (!isRecord(raw)) return issues;
  const section = (key: string): Record<string, unknown> => (isRecord(raw[key]) ? raw[key] : {});

  const storage = section('storage');
  if (storage['backend'] === 'redis') {
    const redis = isRecord(storage['redis']) ? storage['redis'] : {};
    const mode = redis['mode'] ?? 'standalone';
    const missing = (key: string, when: string) => {
      if (redis[key] === undefined) issues.push({ path: ['storage', 'redis', key], message: `is required when ${when}` });
    };
    if (mode === 'standalone' && effective.redisUrl === undefined) missing('url', 'storage.backend is redis (or set REDIS_URL)');
    if (mode === 'sentinel') {
      missing('sentinels', 'storage.redis.mode is sentinel');
      missing('sentinelName', 'storage.redis.mode is sentinel');
    }
    if (mode === 'cluster') missing('clusterNodes', 'storage.redis.mode is cluster');
  }

  const mail = section('mail');
  if (mail['transport'] === 'smtp' && mail['smtp'] === undefined) {
    issues.push({ path: ['mail', 'smtp'], message: 'is required when mail.transport is smtp' });
  }

  const cookies = section('cookies');
  if (cookies['sameSite'] === 'none') {
    // Browsers drop SameSite=None cookies that are not Secure: sign-in would silently loop.
    const secure = cookies['secure'] ?? 'auto';
    const publicUrl = effective.publicUrl ?? 'http://localhost';
    if (secure === false) {
      issues.push({ path: ['cookies', 'sameSite'], message: "'none' requires secure cookies (cookies.secure is false)" });
    } else if (secure === 'auto' && !publicUrl.startsWith('https:')) {
      issues.push({ path: ['cookies', 'sameSite'], message: "'none' requires secure cookies, which need an https publicUrl" });
    }
  }
  return issues;
}
