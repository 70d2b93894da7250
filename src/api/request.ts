/**
 * Reading requests: JSON bodies (UTF-8, size-capped, `application/json` only), validated with
 * the zod schemas of shapes.ts; a malformed body is a 400 Graph error that names the property.
 */
import express, { type Request, type RequestHandler } from 'express';
import type { z } from 'zod';
import { GraphError, badRequest } from './errors.ts';

export const BODY_LIMIT_BYTES = 32 * 1024;

const parseJson = express.json({ limit: BODY_LIMIT_BYTES, strict: true, type: () => true });

/** Bodies of POST and PATCH must be JSON; an empty body is an empty object. */
export const jsonBody: RequestHandler = (req, res, next) => {
  const hasBody = req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0;
  if (!hasBody) {
    req.body = {};
    next();
    return;
  }
  if (!req.is('application/json')) {
    next(new GraphError(415, 'UnsupportedMediaType', "The request body must be JSON (Content-Type: application/json)."));
    return;
  }
  parseJson(req, res, next);
};

/** `null` is how scripts often say "not set": treated as absent, as Graph does for optional properties. */
function withoutNulls(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutNulls);
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(
    Object.entries(value).flatMap(([key, item]) =>
      // OData annotations (`@odata.type`) describe the payload; they are not properties.
      item === null || key.startsWith('@odata.') ? [] : [[key, withoutNulls(item)]],
    ),
  );
}

const pathText = (path: readonly PropertyKey[]): string =>
  path.reduce<string>((text, segment) => (typeof segment === 'number' ? `${text}[${segment}]` : text === '' ? String(segment) : `${text}.${String(segment)}`), '');

function describe(issue: z.core.$ZodIssue, at: string): string {
  const where = (suffix: string) => (at === '' ? suffix : `${at}.${suffix}`);
  switch (issue.code) {
    case 'unrecognized_keys':
      return issue.keys.map((key) => `Property '${where(key)}' does not exist on this resource.`).join(' ');
    case 'invalid_type':
      if (issue.input === undefined) return `Property '${at}' is required.`;
      return `Invalid value for property '${at}': expected ${issue.expected}.`;
    case 'invalid_value':
      return `Invalid value for property '${at}': must be one of ${issue.values.map((v) => `'${String(v)}'`).join(', ')}.`;
    case 'too_small':
      return issue.origin === 'string' ? `Invalid value for property '${at}': must not be empty.` : `Invalid value for property '${at}': too small.`;
    case 'too_big':
      return issue.origin === 'string'
        ? `Invalid value for property '${at}': at most ${String(issue.maximum)} characters.`
        : `Invalid value for property '${at}': ${issue.message.startsWith('at most') ? issue.message : 'too many entries'}.`;
    default:
      return at === '' ? `Invalid request body: ${issue.message}.` : `Invalid value for property '${at}': ${issue.message}.`;
  }
}

/** The body as `schema` reads it, or a 400 naming every offending property (the first few). */
export function parseBody<S extends z.ZodType>(schema: S, req: Request): z.output<S> {
  const body: unknown = req.body;
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw badRequest('The request body must be a JSON object.');
  const result = schema.safeParse(withoutNulls(body), { reportInput: true });
  if (result.success) return result.data;
  const messages = result.error.issues.slice(0, 5).map((issue) => describe(issue, pathText(issue.path)));
  throw badRequest(messages.join(' '));
}

/** A query option given once at most; arrays (`?$top=1&$top=2`) are refused. */
export function singleQuery(req: Request, name: string): string | undefined {
  const value: unknown = (req.query as Record<string, unknown>)[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw badRequest(`Query option '${name}' may be given once.`);
  return value;
}

/** Refuses query options the endpoint does not know: silently ignoring `$skip` would return wrong pages. */
export function onlyQuery(req: Request, allowed: readonly string[]): void {
  for (const name of Object.keys(req.query as Record<string, unknown>)) {
    if (!allowed.includes(name)) throw new GraphError(400, 'Request_UnsupportedQuery', `Query option '${name}' is not supported here.`);
  }
}
