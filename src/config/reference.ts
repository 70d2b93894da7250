/**
 * `config/REFERENCE.md`, generated from the zod schema so the documentation cannot drift from
 * what the loader accepts. A unit test fails when the committed file differs from this output.
 */
import type { z } from 'zod';
import { defOf, unwrap, type Unwrapped } from './schema-walk.ts';
import { brokerFileSchema, tenantFileSchema } from './schema.ts';

interface Row {
  key: string;
  type: string;
  default: string;
  description: string;
}

const code = (text: string): string => `\`${text}\``;

/** `<` outside code spans would be taken for an HTML tag; `|` would end the table cell. */
function cell(text: string): string {
  return text
    .split(/(`[^`]*`)/)
    .map((part) => (part.startsWith('`') ? part : part.replaceAll('<', '&lt;').replaceAll('>', '&gt;')))
    .join('')
    .replaceAll('|', '\\|');
}

function minLengthOf(schema: z.ZodType): number | undefined {
  const checks = (defOf(schema) as { checks?: { _zod: { def: { check: string; minimum?: number } } }[] }).checks ?? [];
  return checks.find((check) => check._zod.def.check === 'min_length')?._zod.def.minimum;
}

function typeText(schema: z.ZodType): string {
  const def = defOf(schema);
  switch (def.type) {
    case 'string':
      return 'string';
    case 'boolean':
      return 'boolean';
    case 'number': {
      const { minValue, maxValue, isInt } = schema as unknown as { minValue: number | null; maxValue: number | null; isInt: boolean };
      const kind = isInt ? 'integer' : 'number';
      // zod's integer type carries the safe-integer bounds: not worth printing.
      const min = minValue !== null && Math.abs(minValue) < 1e15 ? minValue : undefined;
      const max = maxValue !== null && Math.abs(maxValue) < 1e15 ? maxValue : undefined;
      if (min !== undefined && max !== undefined) return `${kind}, ${min}–${max}`;
      if (min !== undefined) return `${kind} ≥ ${min}`;
      return kind;
    }
    case 'enum':
      return `one of ${Object.values(def.entries ?? {}).map(code).join(', ')}`;
    case 'literal':
      return (def.values ?? []).map((value) => code(String(value))).join(', ');
    case 'union':
      return (def.options ?? []).map((option) => typeText(unwrap(option).core)).join(' or ');
    case 'object':
      return 'mapping';
    case 'array': {
      const element = unwrap(def.element!).core;
      const elementDef = defOf(element);
      const nonEmpty = (minLengthOf(schema) ?? 0) > 0 ? 'non-empty ' : '';
      if (elementDef.type === 'object') return `${nonEmpty}list of mappings`;
      if (elementDef.type === 'string') return `${nonEmpty}list of strings`;
      return `${nonEmpty}list, each ${typeText(element)}`;
    }
    default:
      return def.type;
  }
}

function defaultText(field: Unwrapped): string {
  if (field.meta.defaultText !== undefined) return field.meta.defaultText;
  if (field.hasDefault) {
    const value = field.defaultValue;
    // Sections default to `{}`: their keys carry the actual defaults.
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) return '';
    return code(typeof value === 'string' ? value : JSON.stringify(value));
  }
  return field.optional ? '—' : '**required**';
}

function describe(field: Unwrapped): string {
  const parts = [field.meta.description ?? ''];
  if (field.meta.env) parts.push(`Environment variable ${code(field.meta.env)} overrides it.`);
  if (field.meta.secret) parts.push('Must be written as `${env:NAME}` (or `${env:NAME:-default}`).');
  return parts.filter((part) => part !== '').join(' ');
}

function rows(schema: z.ZodType, prefix = ''): Row[] {
  const def = defOf(unwrap(schema).core);
  return Object.entries(def.shape ?? {}).flatMap(([name, child]) => {
    const field = unwrap(child);
    const key = `${prefix}${name}`;
    const row: Row = { key, type: typeText(field.core), default: defaultText(field), description: describe(field) };
    const childDef = defOf(field.core);
    if (childDef.type === 'object') return [row, ...rows(field.core, `${key}.`)];
    if (childDef.type === 'array') {
      const element = unwrap(childDef.element!).core;
      if (defOf(element).type === 'object') return [row, ...rows(element, `${key}[].`)];
    }
    return [row];
  });
}

/** Every key path of a file schema, as the reference names them (`apps[].redirectUris`). */
export const listConfigKeys = (schema: z.ZodType): string[] => rows(schema).map((row) => row.key);

function table(schema: z.ZodType): string {
  return [
    '| Key | Type | Default | Description |',
    '| --- | --- | --- | --- |',
    ...rows(schema).map((row) => `| ${code(row.key)} | ${cell(row.type)} | ${cell(row.default)} | ${cell(row.description)} |`),
  ].join('\n');
}

function environmentTable(): string {
  const found: [string, string][] = [];
  const visit = (schema: z.ZodType, prefix: string) => {
    for (const [name, child] of Object.entries(defOf(unwrap(schema).core).shape ?? {})) {
      const field = unwrap(child);
      if (field.meta.env) found.push([field.meta.env, `${prefix}${name}`]);
      if (defOf(field.core).type === 'object') visit(field.core, `${prefix}${name}.`);
    }
  };
  visit(brokerFileSchema, '');
  return [
    '| Variable | Overrides |',
    '| --- | --- |',
    ...found.map(([variable, key]) => `| ${code(variable)} | ${code(key)} |`),
    '| `PORTICO_CONFIG` | the config folder (default `./config`) |',
  ].join('\n');
}

export function renderConfigReference(): string {
  return `${[
    '# Portico configuration reference',
    '',
    '<!-- Generated from src/config/schema.ts by `npm run config:reference`: do not edit by hand. -->',
    '',
    'A config folder (default `./config`; the environment variable `PORTICO_CONFIG` names another) holds:',
    '',
    '- `portico.yaml`: the broker settings. Optional: every key has a default.',
    '- `tenants/<id>.yaml`: one file per tenant; the file name is the tenant id. At least one is required.',
    '',
    'Anything else in the folder (such as `examples/` or this file) is ignored.',
    'Check a folder with `portico config validate [folder]`: it reports every problem in every file at once.',
    '',
    'Unknown keys are errors. A key with an empty value (`key:` with nothing after it) counts as not set.',
    '',
    '## Environment references',
    '',
    'Any string value may contain `${env:NAME}` (the variable must be set) or `${env:NAME:-default}`',
    '(the default applies when the variable is unset or empty). An unquoted value that is exactly one',
    'reference becomes a number or boolean when the variable holds one; quote it to keep a string.',
    '',
    'Secrets (`keys.encryptionSecret`, `mail.smtp.password`, `apps[].secret`) must be written as exactly',
    'one reference: a literal secret is an error. A secret taken from its `:-default` is meant for demos',
    'only, and Portico warns about it at start-up.',
    '',
    '## Environment variables',
    '',
    'These take precedence over the file.',
    '',
    environmentTable(),
    '',
    '## portico.yaml',
    '',
    table(brokerFileSchema),
    '',
    '## tenants/&lt;id&gt;.yaml',
    '',
    'Domains must be unique across all tenants. App ids (client_id), api ids and api identifiers must be',
    'unique within the tenant.',
    '',
    table(tenantFileSchema),
  ].join('\n')}\n`;
}
