/**
 * The `$filter` subset `/auditLogs/signIns` supports, joined with `and`:
 * `userId eq '…'`, `appId eq '…'`, `status/errorCode eq N`, `createdDateTime ge <date-time>` and
 * `createdDateTime le <date-time>` (an OData DateTimeOffset literal, unquoted, as Graph takes it).
 * Anything else is refused with `Request_UnsupportedQuery` naming the clause: a script that
 * filters by a property Portico ignores must not read the whole log as if it matched.
 */
import type { SignInFilter } from '../directory/sign-in-log.ts';
import { GraphError } from './errors.ts';

const MAX_LENGTH = 1000;
// One clause: a property path, an operator and a literal (quoted string, or a bare number or date-time).
const CLAUSE = /^\s*([A-Za-z]+(?:\/[A-Za-z]+)?)\s+([A-Za-z]+)\s+('(?:[^']|'')*'|[^\s']+)\s*/;
const AND = /^and\s+/i;
const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,7})?)?(?:Z|[+-]\d{2}:\d{2})$/;
const SUPPORTED = "userId eq '…', appId eq '…', status/errorCode eq N, createdDateTime ge|le <date-time>";

const unsupported = (message: string): GraphError => new GraphError(400, 'Request_UnsupportedQuery', message);

const stringLiteral = (literal: string): string | undefined =>
  literal.length >= 2 && literal.startsWith("'") && literal.endsWith("'") ? literal.slice(1, -1).replaceAll("''", "'") : undefined;

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

export function parseSignInFilter(value: unknown): SignInFilter {
  if (value === undefined) return {};
  if (typeof value !== 'string' || value.trim() === '' || value.length > MAX_LENGTH) throw unsupported('Invalid $filter.');
  const filter: Mutable<SignInFilter> = {};
  const set = <K extends keyof SignInFilter>(key: K, clause: string, item: SignInFilter[K]) => {
    if (filter[key] !== undefined) throw unsupported(`Unsupported $filter clause '${clause}': the property appears more than once.`);
    filter[key] = item;
  };
  let rest = value;
  for (;;) {
    const match = CLAUSE.exec(rest);
    if (!match) throw unsupported(`Unsupported $filter: only ${SUPPORTED}, joined with 'and', are supported.`);
    const [whole, name = '', operator = '', literal = ''] = match;
    const clause = whole.trim();
    const property = name.toLowerCase();
    const op = operator.toLowerCase();
    if ((property === 'userid' || property === 'appid') && op === 'eq') {
      const text = stringLiteral(literal);
      if (text === undefined) throw unsupported(`Unsupported $filter clause '${clause}': the value must be a quoted string.`);
      set(property === 'userid' ? 'userId' : 'appId', clause, text);
    } else if (property === 'status/errorcode' && op === 'eq') {
      if (!/^\d{1,9}$/.test(literal)) throw unsupported(`Unsupported $filter clause '${clause}': the value must be a whole number.`);
      set('errorCode', clause, Number(literal));
    } else if (property === 'createddatetime' && (op === 'ge' || op === 'le')) {
      if (!DATE_TIME.test(literal) || Number.isNaN(Date.parse(literal))) {
        throw unsupported(`Unsupported $filter clause '${clause}': the value must be a date-time like 2026-01-31T00:00:00Z.`);
      }
      set(op === 'ge' ? 'createdFrom' : 'createdUntil', clause, new Date(literal).toISOString());
    } else {
      throw unsupported(`Unsupported $filter clause '${clause}': only ${SUPPORTED} are supported.`);
    }
    rest = rest.slice(whole.length);
    if (rest === '') return filter;
    const and = AND.exec(rest);
    if (!and) throw unsupported("Unsupported $filter: clauses may only be joined with 'and'.");
    rest = rest.slice(and[0].length);
  }
}
