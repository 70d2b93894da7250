/**
 * Turning problems into the one-line messages operators read:
 *   `config/tenants/contoso.yaml: apps[2] (payroll): redirectUris[0]: must be an absolute URL`
 * These strings are part of the product (tests pin them, people grep for them), so every word
 * is chosen here rather than left to zod's defaults.
 */
import type { z } from 'zod';
import { isRecord, schemaAt, shapeOf, type PathSegment } from './schema-walk.ts';

export interface Issue {
  path: PathSegment[];
  message: string;
  /** For an unknown key: the key it probably meant, whose "is required" is then just noise. */
  meant?: PathSegment[];
}

export function levenshtein(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min(previous[j]! + 1, current[j - 1]! + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length]!;
}

/**
 * The closest candidate within edit distance 2. The distance must also be smaller than the
 * word itself, or every short typo would "match" every short key.
 */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    const distance = levenshtein(word.toLowerCase(), candidate.toLowerCase());
    if (distance <= 2 && distance < word.length && distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

const didYouMean = (word: string, candidates: readonly string[]): string => {
  const match = closest(word, candidates);
  return match === undefined ? '' : ` (did you mean '${match}'?)`;
};

const EXPECTED: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  int: 'a whole number',
  boolean: 'true or false',
  array: 'a list',
  object: 'a mapping',
};

function describeInput(input: unknown): string {
  if (input === null) return 'an empty value';
  if (Array.isArray(input)) return 'a list';
  if (typeof input === 'object') return 'a mapping';
  if (typeof input === 'string') return 'a string';
  if (typeof input === 'boolean') return String(input);
  if (typeof input === 'number') return String(input);
  return typeof input;
}

const countOf = (n: number, unit: string): string => `${n} ${unit}${n === 1 ? '' : 's'}`;

/** Passed to `safeParse`, so schema-level messages (regex, custom checks) still take precedence. */
export const humanErrorMap: z.core.$ZodErrorMap = (issue) => {
  switch (issue.code) {
    case 'invalid_type': {
      if (issue.input === undefined) return 'is required';
      const expected = EXPECTED[issue.expected] ?? issue.expected;
      return `must be ${expected} (got ${describeInput(issue.input)})`;
    }
    case 'invalid_value': {
      const values = issue.values.map(String);
      const hint = typeof issue.input === 'string' ? didYouMean(issue.input, values) : '';
      return `must be one of: ${values.join(', ')}${hint}`;
    }
    case 'too_small': {
      const min = Number(issue.minimum);
      if (issue.origin === 'array' || issue.origin === 'set') {
        return min === 1 ? 'must not be empty' : `must have at least ${min} entries`;
      }
      if (issue.origin === 'string') return min === 1 ? 'must not be empty' : `must be at least ${countOf(min, 'character')} long`;
      return issue.inclusive ? `must be at least ${min}` : `must be greater than ${min}`;
    }
    case 'too_big': {
      const max = Number(issue.maximum);
      if (issue.origin === 'array' || issue.origin === 'set') return `must have at most ${max} entries`;
      if (issue.origin === 'string') return `must be at most ${countOf(max, 'character')} long`;
      return issue.inclusive ? `must be at most ${max}` : `must be less than ${max}`;
    }
    case 'invalid_format':
      return 'has an invalid format';
    case 'invalid_union': {
      // A discriminated union (`identityProviders[]` by `kind`) whose key names no member.
      const options: unknown = 'options' in issue ? issue.options : undefined;
      if (issue.discriminator !== undefined && Array.isArray(options)) {
        const values = options.map(String);
        const given = isRecord(issue.input) ? issue.input[issue.discriminator] : undefined;
        if (given === undefined) return `is required (one of: ${values.join(', ')})`;
        const hint = typeof given === 'string' ? didYouMean(given, values) : '';
        return `must be one of: ${values.join(', ')}${hint}`;
      }
      return 'has an invalid value';
    }
    case 'unrecognized_keys':
      return 'unknown key';
    default:
      return undefined;
  }
};

/**
 * zod issues as config issues: one per unknown key, with a suggestion from the keys allowed
 * there. `data` is the document that was parsed: within a discriminated union the allowed keys
 * are those of the member its discriminator selects.
 */
export function fromZodIssues(schema: z.ZodType, issues: readonly z.core.$ZodIssue[], data: unknown): Issue[] {
  return issues.flatMap((issue): Issue[] => {
    const path = issue.path.map((segment) => (typeof segment === 'symbol' ? String(segment) : segment));
    if (issue.code === 'invalid_union' && issue.discriminator !== undefined) {
      return [{ path, message: issue.message }, ...misspeltDiscriminator(path, issue.discriminator, data)];
    }
    if (issue.code === 'unrecognized_keys') {
      const here = schemaAt(schema, path, data);
      const known = here ? Object.keys(shapeOf(here) ?? {}) : [];
      return issue.keys.map((key) => {
        const match = closest(key, known);
        return {
          path: [...path, key],
          message: `unknown key${match === undefined ? '' : ` (did you mean '${match}'?)`}`,
          ...(match === undefined ? {} : { meant: [...path, match] }),
        };
      });
    }
    return [{ path, message: issue.message }];
  });
}

/**
 * `knd: saml` leaves the union without a member to check the entry against, so no unknown-key
 * issue would name the typo: point at it here, which also silences the "kind: is required".
 */
function misspeltDiscriminator(path: PathSegment[], discriminator: string, data: unknown): Issue[] {
  const entryPath = path.slice(0, -1);
  const entry = valueAt(data, entryPath);
  if (!isRecord(entry) || entry[discriminator] !== undefined) return [];
  return Object.keys(entry).flatMap((key) =>
    closest(key, [discriminator]) === undefined
      ? []
      : [{ path: [...entryPath, key], message: `unknown key (did you mean '${discriminator}'?)`, meant: path }],
  );
}

function valueAt(data: unknown, path: readonly PathSegment[]): unknown {
  let current = data;
  for (const segment of path) {
    if (typeof segment === 'number') current = Array.isArray(current) ? current[segment] : undefined;
    else current = isRecord(current) ? current[segment] : undefined;
  }
  return current;
}

/**
 * `apps[2] (payroll): redirectUris[0]`: array entries that carry an `id` show it, and what
 * follows them is separated by ': ' so the id stands out.
 */
export function formatPath(path: readonly PathSegment[], data: unknown): string {
  let text = '';
  let current: unknown = data;
  let afterId = false;
  for (const segment of path) {
    if (typeof segment === 'number') {
      text += `[${segment}]`;
      current = Array.isArray(current) ? current[segment] : undefined;
      const id = isRecord(current) ? current['id'] : undefined;
      if (typeof id === 'string' && id !== '') {
        text += ` (${id})`;
        afterId = true;
      }
    } else {
      text += text === '' ? segment : afterId ? `: ${segment}` : `.${segment}`;
      afterId = false;
      current = isRecord(current) ? current[segment] : undefined;
    }
  }
  return text;
}

export const pathKey = (path: readonly PathSegment[]): string => JSON.stringify(path);
