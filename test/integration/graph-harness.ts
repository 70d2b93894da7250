/**
 * Shared by the graph-*.test.ts suites: Portico in-process with extra daemons holding different
 * app roles (and a second tenant), tokens obtained by client credentials through openid-client,
 * and an API client that checks every response it sees against the OpenAPI document Portico
 * serves. The document's JSON Schemas are compiled with zod 4's `z.fromJSONSchema` (no validator
 * package is installed for JSON Schema 2020-12): its component references are rewritten from
 * `#/components/schemas/X` to `#/$defs/X`, the only local form that function resolves.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import * as client from 'openid-client';
import { parse, stringify } from 'yaml';
import { z } from 'zod';
import { EXAMPLE_CONFIG, startTestPortico, type TestPortico, type TestPorticoOptions } from '../helpers/portico.ts';
import { relyingParty } from '../helpers/relying-party.ts';

export const DAEMON = { id: 'contoso-daemon', secret: 'demo-daemon-secret' } as const;

/** Apps added to the example tenant: each with exactly the roles a test needs. */
export const EXTRA_APPS = {
  reader: { id: 'graph-reader', secret: 'reader-secret', graphRoles: ['User.Read.All'] },
  inviter: { id: 'graph-inviter', secret: 'inviter-secret', graphRoles: ['User.Invite.All'] },
  auditor: { id: 'graph-auditor', secret: 'auditor-secret', graphRoles: ['AuditLog.Read.All'] },
  admin: { id: 'graph-admin', secret: 'admin-secret', graphRoles: ['User.Invite.All', 'User.ReadWrite.All', 'AuditLog.Read.All'] },
  none: { id: 'no-roles', secret: 'no-roles-secret', graphRoles: [] },
  groupAdmin: { id: 'graph-group-admin', secret: 'group-admin-secret', graphRoles: ['Group.ReadWrite.All', 'AppRoleAssignment.ReadWrite.All', 'AuditLog.Read.All'] },
  groupReader: { id: 'graph-group-reader', secret: 'group-reader-secret', graphRoles: ['Group.Read.All', 'User.Read.All'] },
} as const;

export const NORTHWIND_DAEMON = { id: 'northwind-daemon', secret: 'northwind-secret' } as const;

const NORTHWIND = `id: northwind
displayName: Northwind
domains: [northwind.example]
apps:
  - id: ${NORTHWIND_DAEMON.id}
    name: Northwind sync
    type: daemon
    secret: \${env:NORTHWIND_DAEMON_SECRET:-${NORTHWIND_DAEMON.secret}}
    graphRoles: [User.Invite.All, User.ReadWrite.All, AuditLog.Read.All]
`;

/** The example contoso tenant with the extra daemons, plus `tenantExtra` merged in at the top level. */
async function contosoYaml(tenantExtra: Record<string, unknown>): Promise<string> {
  const tenant = parse(await readFile(`${EXAMPLE_CONFIG}tenants/contoso.yaml`, 'utf8')) as Record<string, unknown> & { apps: unknown[] };
  for (const app of Object.values(EXTRA_APPS)) {
    tenant.apps.push({ id: app.id, name: `Test ${app.id}`, type: 'daemon', secret: `\${env:${app.id.replaceAll('-', '_').toUpperCase()}:-${app.secret}}`, graphRoles: [...app.graphRoles] });
  }
  return stringify({ ...tenant, ...tenantExtra });
}

export async function startGraphPortico(options: { brokerYaml?: string; tenantExtra?: Record<string, unknown> } = {}): Promise<TestPortico> {
  const start: TestPorticoOptions = {
    backend: 'sqlite',
    ...(options.brokerYaml === undefined ? {} : { brokerYaml: options.brokerYaml }),
    tenantFiles: { contoso: await contosoYaml(options.tenantExtra ?? {}), northwind: NORTHWIND },
  };
  return startTestPortico(start);
}

export const graphResource = (portico: TestPortico): string => `http://127.0.0.1:${portico.port}/graph`;

/** An access token by client credentials, as a daemon script gets one. */
export async function appToken(portico: TestPortico, app: { id: string; secret: string }, options: { tenant?: string; resource?: string | null } = {}): Promise<string> {
  const issuer = `http://127.0.0.1:${portico.port}/${options.tenant ?? 'contoso'}/v2.0`;
  const config = await relyingParty(issuer, app.id, app.secret);
  const resource = options.resource === undefined ? graphResource(portico) : options.resource;
  const tokens = await client.clientCredentialsGrant(config, resource === null ? {} : { resource });
  return tokens.access_token;
}

// ---------------------------------------------------------------------------------------------
// OpenAPI conformance

type Json = Record<string, unknown>;

interface Operation {
  readonly responses: Record<string, { content?: { 'application/json'?: { schema: Json } } }>;
}

export interface GraphResponse {
  readonly status: number;
  readonly headers: Headers;
  readonly body: Json | undefined;
}

const rewriteRefs = (value: unknown): unknown => {
  if (Array.isArray(value)) return value.map(rewriteRefs);
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(
    Object.entries(value).map(([key, item]) => [key, key === '$ref' && typeof item === 'string' ? item.replace('#/components/schemas/', '#/$defs/') : rewriteRefs(item)]),
  );
};

export class OpenApiChecker {
  readonly #paths: { pattern: RegExp; template: string; item: Record<string, Operation> }[];
  readonly #defs: Json;
  readonly #compiled = new Map<string, z.ZodType>();
  /** Every (operation, status) a test saw, so a suite can show what it covered. */
  readonly seen = new Set<string>();
  checked = 0;

  constructor(document: Json) {
    assert.equal(document['openapi'], '3.1.0');
    const paths = document['paths'] as Record<string, Record<string, Operation>>;
    this.#paths = Object.entries(paths).map(([template, item]) => ({
      template,
      item,
      pattern: new RegExp(`^${template.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\\\{[^}]+\\\}|\{[^}]+\}/g, '[^/]+')}$`),
    }));
    this.#defs = rewriteRefs((document['components'] as { schemas: Json }).schemas) as Json;
  }

  static async fetch(portico: TestPortico): Promise<OpenApiChecker> {
    const response = await fetch(`http://127.0.0.1:${portico.port}/graph/v1.0/$metadata/openapi.json`);
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') ?? '', /application\/json/);
    return new OpenApiChecker((await response.json()) as Json);
  }

  #schema(ref: string): z.ZodType {
    let schema = this.#compiled.get(ref);
    if (!schema) {
      schema = z.fromJSONSchema({ $schema: 'https://json-schema.org/draft/2020-12/schema', $ref: ref.replace('#/components/schemas/', '#/$defs/'), $defs: this.#defs } as never);
      this.#compiled.set(ref, schema);
    }
    return schema;
  }

  /** Asserts that the response is one the document declares for this operation, body included. */
  check(method: string, path: string, response: GraphResponse): void {
    const found = this.#paths.find((candidate) => candidate.pattern.test(path));
    const operation = found?.item[method.toLowerCase()];
    const label = `${method} ${found?.template ?? path} → ${response.status}`;
    let schemaRef: string | undefined;
    if (operation) {
      const declared = operation.responses[String(response.status)];
      assert.ok(declared, `${label}: status not declared in the OpenAPI document`);
      const schema = declared.content?.['application/json']?.schema;
      schemaRef = typeof schema?.['$ref'] === 'string' ? schema['$ref'] : undefined;
      if (!declared.content) assert.equal(response.body, undefined, `${label}: the document declares no body`);
    } else {
      // Outside the documented operations only errors are expected, in Graph's error shape.
      assert.ok(response.status >= 400, `${label}: undocumented path answered with success`);
      schemaRef = '#/components/schemas/GraphError';
    }
    if (schemaRef) {
      assert.ok(response.body !== undefined, `${label}: expected a JSON body`);
      const result = this.#schema(schemaRef).safeParse(response.body);
      assert.ok(result.success, `${label}: body does not match ${schemaRef}: ${result.success ? '' : JSON.stringify(result.error.issues.slice(0, 3))}\n${JSON.stringify(response.body)}`);
    }
    this.seen.add(label);
    this.checked += 1;
  }
}

/** The management API as a script calls it; every response goes through the OpenAPI check. */
export class GraphClient {
  readonly #base: string;
  readonly #checker: OpenApiChecker;

  constructor(portico: TestPortico, checker: OpenApiChecker) {
    this.#base = `http://127.0.0.1:${portico.port}/graph/v1.0`;
    this.#checker = checker;
  }

  get base(): string {
    return this.#base;
  }

  async call(
    method: string,
    path: string,
    options: { token?: string; body?: unknown; rawBody?: string; contentType?: string; headers?: Record<string, string> } = {},
  ): Promise<GraphResponse> {
    const headers: Record<string, string> = { ...options.headers };
    if (options.token !== undefined) headers['authorization'] = `Bearer ${options.token}`;
    let body: string | undefined;
    if (options.rawBody !== undefined) body = options.rawBody;
    else if (options.body !== undefined) body = JSON.stringify(options.body);
    if (body !== undefined) headers['content-type'] = options.contentType ?? 'application/json';
    const url = path.startsWith('http') ? path : `${this.#base}${path}`;
    const response = await fetch(url, { method, headers, ...(body === undefined ? {} : { body }) });
    const text = await response.text();
    const result: GraphResponse = { status: response.status, headers: response.headers, body: text === '' ? undefined : (JSON.parse(text) as Json) };
    this.#checker.check(method, new URL(url).pathname.slice('/graph/v1.0'.length), result);
    return result;
  }
}

/** The error code of a Graph error response. */
export const errorCode = (response: GraphResponse): string => String((response.body?.['error'] as Json | undefined)?.['code']);
export const errorMessage = (response: GraphResponse): string => String((response.body?.['error'] as Json | undefined)?.['message']);

/** The ticket in a redeem URL. */
export const ticketOf = (redeemUrl: unknown): string => {
  const ticket = new URL(String(redeemUrl)).searchParams.get('ticket');
  assert.ok(ticket, 'the redeem URL carries a ticket');
  return ticket;
};
