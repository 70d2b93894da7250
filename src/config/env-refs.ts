/**
 * `${env:NAME}` and `${env:NAME:-default}` in string values, replaced before validation so the
 * schema sees the real values. Secrets must be given this way (they then live in the deployment's
 * environment, not in the config repository); any other string may use it too.
 *
 * An unset or empty variable uses the default, as `:-` does in a shell. An unquoted value that is
 * exactly one reference becomes a number or boolean when the variable looks like one, as if the
 * text had been written in the file (`port: ${env:ADMIN_PORT}`); quote it to keep a string.
 * There is no escape for a literal `${env:`: no config value needs one.
 */
import { pathKey, type Issue } from './messages.ts';
import { isRecord, type PathSegment } from './schema-walk.ts';

const NAME = '[A-Za-z_][A-Za-z0-9_]*';
const REFERENCE = new RegExp(`\\$\\{env:(${NAME})(?::-([^}]*))?\\}`, 'g');
const SINGLE_REFERENCE = new RegExp(`^\\$\\{env:(${NAME})(?::-([^}]*))?\\}$`);
const SHELL_STYLE = new RegExp(`\\$\\{(${NAME})(?::-[^}]*)?\\}`);

/** What a string value looked like before substitution; kept only for values with references. */
export interface SubstitutedValue {
  raw: string;
  /** The whole value is one `${env:...}`: the only form allowed for secrets. */
  singleReference: boolean;
  /** Variables that were unset, so their `:-default` was used. */
  defaulted: string[];
  /** A variable was unset without default: the value is unusable. */
  unresolved: boolean;
}

export interface SubstitutionResult {
  data: unknown;
  issues: Issue[];
  /** By `pathKey(path)`. */
  values: Map<string, SubstitutedValue>;
}

export const isSingleEnvReference = (value: string): boolean => SINGLE_REFERENCE.test(value);

export function substituteEnv(
  data: unknown,
  env: NodeJS.ProcessEnv,
  isPlainScalar: (path: readonly PathSegment[]) => boolean,
): SubstitutionResult {
  const issues: Issue[] = [];
  const values = new Map<string, SubstitutedValue>();

  const substituteString = (raw: string, path: PathSegment[]): unknown => {
    if (!raw.includes('${')) return raw;
    const record: SubstitutedValue = { raw, singleReference: SINGLE_REFERENCE.test(raw), defaulted: [], unresolved: false };
    const replaced = raw.replace(REFERENCE, (_match, name: string, fallback: string | undefined) => {
      const value = env[name];
      if (value !== undefined && value !== '') return value;
      if (fallback !== undefined) {
        record.defaulted.push(name);
        return fallback;
      }
      record.unresolved = true;
      issues.push({ path, message: `environment variable ${name} is not set and has no default` });
      return '';
    });
    const leftover = raw.replace(REFERENCE, '');
    if (leftover.includes('${env:')) {
      issues.push({ path, message: 'malformed environment reference (write ${env:NAME} or ${env:NAME:-default})' });
      record.unresolved = true;
    } else {
      const shell = SHELL_STYLE.exec(leftover);
      if (shell) {
        issues.push({ path, message: `'${shell[0]}' is not substituted: write \${env:${shell[1]}}` });
        record.unresolved = true;
      }
    }
    if (raw.search(REFERENCE) === -1 && !record.unresolved) return raw;
    values.set(pathKey(path), record);
    // Unusable values stay as written, so later checks do not invent a second, confusing problem.
    if (record.unresolved) return raw;
    return record.singleReference && isPlainScalar(path) ? asYamlScalar(replaced) : replaced;
  };

  const walk = (value: unknown, path: PathSegment[]): unknown => {
    if (typeof value === 'string') return substituteString(value, path);
    if (Array.isArray(value)) return value.map((item, index) => walk(item, [...path, index]));
    if (isRecord(value)) return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, walk(item, [...path, key])]));
    return value;
  };

  return { data: walk(data, []), issues, values };
}

function asYamlScalar(text: string): unknown {
  if (/^[-+]?\d+(?:\.\d+)?$/.test(text)) return Number(text);
  if (text === 'true') return true;
  if (text === 'false') return false;
  return text;
}
