/**
 * The `$filter` subset `/users` supports: `property eq 'value'` for `userType`, `mail` and
 * `externalUserState`, joined with `and`. Anything else is refused with Graph's
 * `Request_UnsupportedQuery` rather than silently ignored: a script must never act on more users
 * than it asked for.
 */
import { GraphError } from './errors.ts';

export const FILTERABLE = ['userType', 'mail', 'externalUserState'] as const;
export type FilterProperty = (typeof FILTERABLE)[number];
export type UserFilter = Readonly<Partial<Record<FilterProperty, string>>>;

const MAX_LENGTH = 1000;
// One clause: a property, `eq`, and an OData string literal ('' escapes a quote).
const CLAUSE = /^\s*([A-Za-z]+)\s+eq\s+'((?:[^']|'')*)'\s*/;
const AND = /^and\s+/;

const unsupported = (message: string): GraphError => new GraphError(400, 'Request_UnsupportedQuery', message);

export function parseUserFilter(value: unknown): UserFilter {
  if (value === undefined) return {};
  if (typeof value !== 'string' || value.trim() === '' || value.length > MAX_LENGTH) throw unsupported('Invalid $filter.');
  const filter: Partial<Record<FilterProperty, string>> = {};
  let rest = value;
  for (;;) {
    const clause = CLAUSE.exec(rest);
    if (!clause) throw unsupported(`Unsupported $filter: only ${FILTERABLE.map((p) => `${p} eq '…'`).join(', ')}, joined with 'and', are supported.`);
    const [whole, name = '', literal = ''] = clause;
    // Graph matches property names regardless of case.
    const property = FILTERABLE.find((candidate) => candidate.toLowerCase() === name.toLowerCase());
    if (!property) throw unsupported(`Unsupported or invalid query filter clause specified for property '${name}' of resource 'User'.`);
    if (filter[property] !== undefined) throw unsupported(`Property '${property}' appears more than once in $filter.`);
    filter[property] = literal.replaceAll("''", "'");
    rest = rest.slice(whole.length);
    if (rest === '') return filter;
    const and = AND.exec(rest);
    if (!and) throw unsupported("Unsupported $filter: clauses may only be joined with 'and'.");
    rest = rest.slice(and[0].length);
  }
}

/** Whether `user` matches every clause; values compare case-insensitively, as Entra does. */
export function matchesFilter(user: Readonly<Partial<Record<FilterProperty, string>>>, filter: UserFilter): boolean {
  return FILTERABLE.every((property) => {
    const wanted = filter[property];
    return wanted === undefined || (user[property] ?? '').toLowerCase() === wanted.toLowerCase();
  });
}
