/**
 * Reading the zod schema as data: the reference generator, the "did you mean" suggestions and
 * the secret checks all need to know, for a key path, which keys exist and what their metadata
 * says. zod 4 exposes this through `_zod.def`; only the few node kinds the config schema uses
 * are understood here.
 */
import { z } from 'zod';

export interface FieldMeta {
  description?: string;
  env?: string;
  secret?: boolean;
  defaultText?: string;
  /** For a mapping keyed by the user (`invitations.templates`): how the reference names a key, like `<lang>`. */
  keyName?: string;
}

export type PathSegment = string | number;

interface AnyDef {
  type: string;
  innerType?: z.ZodType;
  in?: z.ZodType;
  shape?: Record<string, z.ZodType>;
  element?: z.ZodType;
  /** Set on records: the schema of every value. */
  valueType?: z.ZodType;
  options?: readonly z.ZodType[];
  /** Set on discriminated unions: the key whose value selects the member. */
  discriminator?: string;
  entries?: Record<string, string>;
  values?: readonly unknown[];
  defaultValue?: unknown;
}

export const defOf = (schema: z.ZodType): AnyDef => schema._zod.def as unknown as AnyDef;

/** A schema with its wrappers (optional, default, prefault, pipe) peeled off, and what they said. */
export interface Unwrapped {
  core: z.ZodType;
  meta: FieldMeta;
  optional: boolean;
  hasDefault: boolean;
  defaultValue: unknown;
}

export function unwrap(schema: z.ZodType): Unwrapped {
  const result: Unwrapped = { core: schema, meta: {}, optional: false, hasDefault: false, defaultValue: undefined };
  let current: z.ZodType = schema;
  for (;;) {
    // Outer metadata wins: `.meta()` is applied last when a key is declared.
    const meta = z.globalRegistry.get(current) as FieldMeta | undefined;
    if (meta) result.meta = { ...meta, ...result.meta };
    const def = defOf(current);
    if (def.type === 'optional' || def.type === 'nullable') {
      result.optional = true;
      current = def.innerType!;
    } else if (def.type === 'default' || def.type === 'prefault') {
      if (!result.hasDefault) {
        result.hasDefault = true;
        result.defaultValue = def.defaultValue;
      }
      current = def.innerType!;
    } else if (def.type === 'pipe') {
      current = def.in!;
    } else {
      result.core = current;
      return result;
    }
  }
}

export const shapeOf = (schema: z.ZodType): Record<string, z.ZodType> | undefined => {
  const def = defOf(unwrap(schema).core);
  return def.type === 'object' ? def.shape : undefined;
};

/** One member of a discriminated union and the discriminator value that selects it. */
export interface Variant {
  value: string;
  schema: z.ZodType;
}

/** The members of a discriminated union, in declaration order; undefined for anything else. */
export function variantsOf(schema: z.ZodType): { discriminator: string; variants: Variant[] } | undefined {
  const def = defOf(unwrap(schema).core);
  if (def.type !== 'union' || def.discriminator === undefined) return undefined;
  const discriminator = def.discriminator;
  const variants = (def.options ?? []).flatMap((option) => {
    const values = (option._zod as { propValues?: Record<string, Set<unknown>> }).propValues?.[discriminator] ?? new Set();
    return [...values].flatMap((value) => (typeof value === 'string' ? [{ value, schema: option }] : []));
  });
  return { discriminator, variants };
}

/**
 * `schema` itself, or for a discriminated union the member `data` selects (undefined when the
 * data names no member: the union reports that itself).
 */
export function resolveVariant(schema: z.ZodType, data: unknown): z.ZodType | undefined {
  const union = variantsOf(schema);
  if (union === undefined) return schema;
  const value = isRecord(data) ? data[union.discriminator] : undefined;
  return union.variants.find((variant) => variant.value === value)?.schema;
}

/**
 * The schema of the value at `path` (array indexes step into elements), if the path exists.
 * `data` is the document the path points into, needed to step through discriminated unions.
 */
export function schemaAt(schema: z.ZodType, path: readonly PathSegment[], data?: unknown): z.ZodType | undefined {
  let current: z.ZodType | undefined = schema;
  let value: unknown = data;
  for (const segment of path) {
    if (current === undefined) return undefined;
    current = resolveVariant(current, value);
    if (current === undefined) return undefined;
    const def = defOf(unwrap(current).core);
    if (typeof segment === 'number') {
      current = def.type === 'array' ? def.element : undefined;
      value = Array.isArray(value) ? value[segment] : undefined;
    } else {
      current = def.type === 'object' ? def.shape?.[segment] : def.type === 'record' ? def.valueType : undefined;
      value = isRecord(value) ? value[segment] : undefined;
    }
  }
  return current === undefined ? undefined : resolveVariant(current, value);
}

/** Every path in `data` whose schema is marked `secret`, with the value found there. */
export function findSecretPaths(schema: z.ZodType, data: unknown, path: PathSegment[] = []): PathSegment[][] {
  const { core, meta } = unwrap(schema);
  if (data === undefined) return [];
  if (meta.secret) return [path];
  const variant = resolveVariant(core, data);
  if (variant === undefined) return [];
  if (variant !== core) return findSecretPaths(variant, data, path);
  const def = defOf(core);
  if (def.type === 'object' && isRecord(data)) {
    return Object.entries(def.shape ?? {}).flatMap(([key, child]) =>
      Object.hasOwn(data, key) ? findSecretPaths(child, data[key], [...path, key]) : [],
    );
  }
  if (def.type === 'array' && Array.isArray(data) && def.element) {
    const element = def.element;
    return data.flatMap((item, index) => findSecretPaths(element, item, [...path, index]));
  }
  return [];
}

export const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
