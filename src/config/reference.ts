/**
 * `config/REFERENCE.md`, generated from the zod schema so the documentation cannot drift from
 * what the loader accepts. A unit test fails when the committed file differs from this output.
 */
import type { z } from 'zod';
import { defOf, unwrap, variantsOf, type Unwrapped } from './schema-walk.ts';
import { brokerFileSchema, tenantFileSchema } from './schema.ts';

interface Row {
  key: string;
  type: string;
  default: string;
  description: string;
}

/** The keys of one member of a discriminated union (`identityProviders[]` with `kind: saml`). */
interface VariantSection {
  /** `identityProviders[]` */
  at: string;
  discriminator: string;
  value: string;
  rows: Row[];
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
    case 'union': {
      const union = variantsOf(schema);
      if (union) return `mapping, by ${code(union.discriminator)}`;
      return (def.options ?? []).map((option) => typeText(unwrap(option).core)).join(' or ');
    }
    case 'object':
      return 'mapping';
    case 'record': {
      const value = unwrap(def.valueType!).core;
      return `mapping of ${defOf(value).type === 'object' ? 'mappings' : typeText(value)}`;
    }
    case 'array': {
      const element = unwrap(def.element!).core;
      const elementDef = defOf(element);
      const nonEmpty = (minLengthOf(schema) ?? 0) > 0 ? 'non-empty ' : '';
      if (elementDef.type === 'object') return `${nonEmpty}list of mappings`;
      const union = variantsOf(element);
      if (union) return `${nonEmpty}list of mappings, by ${code(union.discriminator)}`;
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

/**
 * The rows of an object schema, depth first. The members of a discriminated union get their own
 * sections (pushed to `sections`) instead of rows here: their keys differ by member.
 */
function rows(schema: z.ZodType, sections: VariantSection[], prefix = ''): Row[] {
  const def = defOf(unwrap(schema).core);
  return Object.entries(def.shape ?? {}).flatMap(([name, child]) => {
    const field = unwrap(child);
    const key = `${prefix}${name}`;
    const row: Row = { key, type: typeText(field.core), default: defaultText(field), description: describe(field) };
    const childDef = defOf(field.core);
    if (childDef.type === 'object') return [row, ...rows(field.core, sections, `${key}.`)];
    if (childDef.type === 'record') {
      const value = unwrap(childDef.valueType!).core;
      if (defOf(value).type === 'object') return [row, ...rows(value, sections, `${key}.${field.meta.keyName ?? '<key>'}.`)];
      return [row];
    }
    if (childDef.type === 'array') {
      const element = unwrap(childDef.element!).core;
      if (defOf(element).type === 'object') return [row, ...rows(element, sections, `${key}[].`)];
      variantSections(element, `${key}[]`, sections);
    } else {
      variantSections(field.core, key, sections);
    }
    return [row];
  });
}

function variantSections(schema: z.ZodType, at: string, sections: VariantSection[]): void {
  const union = variantsOf(schema);
  if (!union) return;
  for (const variant of union.variants) {
    const nested: VariantSection[] = [];
    const all = rows(variant.schema, nested, `${at}.`);
    // The discriminator first: it is what makes the other keys apply.
    const first = `${at}.${union.discriminator}`;
    const ordered = [...all.filter((row) => row.key === first), ...all.filter((row) => row.key !== first)];
    sections.push({ at, discriminator: union.discriminator, value: variant.value, rows: ordered });
    sections.push(...nested);
  }
}

/**
 * Every key path of a file schema, as the reference names them (`apps[].redirectUris`); keys of
 * a union member name it: `identityProviders[kind=saml].entityId`.
 */
export function listConfigKeys(schema: z.ZodType): string[] {
  const sections: VariantSection[] = [];
  const keys = rows(schema, sections).map((row) => row.key);
  for (const section of sections) {
    const named = `${section.at.replace(/\[\]$/, '')}[${section.discriminator}=${section.value}]`;
    keys.push(...section.rows.map((row) => `${named}${row.key.slice(section.at.length)}`));
  }
  return keys;
}

function tableOf(tableRows: Row[]): string {
  return [
    '| Key | Type | Default | Description |',
    '| --- | --- | --- | --- |',
    ...tableRows.map((row) => `| ${code(row.key)} | ${cell(row.type)} | ${cell(row.default)} | ${cell(row.description)} |`),
  ].join('\n');
}

/** The schema's table, then one subsection per union member. */
function table(schema: z.ZodType): string {
  const sections: VariantSection[] = [];
  const main = tableOf(rows(schema, sections));
  return [
    main,
    ...sections.flatMap((section) => [
      '',
      `### ${code(section.at)} with ${code(`${section.discriminator}: ${section.value}`)}`,
      '',
      tableOf(section.rows),
    ]),
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
    'Secrets (`keys.encryptionSecret`, `mail.smtp.password`, `apps[].secret`, and the identity provider',
    'keys marked as secrets below) must be written as exactly one reference: a literal secret is an error.',
    'A secret taken from its `:-default` is meant for demos only, and Portico warns about it at start-up.',
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
    "Identity provider ids and partner ids are unique within the tenant. An email domain is routed to at",
    "most one identity provider (a kind's default domains count) and belongs to at most one partner; none",
    "may be one of the tenant's own domains. Each identity provider entry has the keys of its `kind`,",
    'listed in the sections after the table.',
    '',
    table(tenantFileSchema),
  ].join('\n')}\n`;
}
