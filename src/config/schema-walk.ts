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
}

export type PathSegment = string | number;

interface AnyDef {
  type: string;
  innerType?: z.ZodType;
  in?: z.ZodType;
  shape?: Record<string, z.ZodType>;
  element?: z.ZodType;
  options?: readonly z.ZodType[];
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

/** The schema of the value at `path` (array indexes step into elements), if the path exists. */
export function schemaAt(schema: z.ZodType, path: readonly PathSegment[]): z.ZodType | undefined {
  let current: z.ZodType | undefined = schema;
  for (const segment of path) {
    if (current === undefined) return undefined;
    const def = defOf(unwrap(current).core);
    if (typeof segment === 'number') current = def.type === 'array' ? def.element : undefined;
    else current = def.type === 'object' ? def.shape?.[segment] : undefined;
  }
  return current;
}

/** Every path in `data` whose schema is marked `secret`, with the value found there. */
export function findSecretPaths(schema: z.ZodType, data: unknown, path: PathSegment[] = []): PathSegment[][] {
  const { core, meta } = unwrap(schema);
  if (data === undefined) return [];
  if (meta.secret) return [path];
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
