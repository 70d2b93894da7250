import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { REFERENCE_PATH } from '../../../src/cli/commands/config-reference.ts';
import { renderConfigReference } from '../../../src/config/reference.ts';
import { defOf, unwrap } from '../../../src/config/schema-walk.ts';
import { brokerFileSchema, tenantFileSchema } from '../../../src/config/schema.ts';
import type { z } from 'zod';

test('config/REFERENCE.md is up to date with the schema', () => {
  const committed = readFileSync(REFERENCE_PATH, 'utf8');
  assert.ok(
    committed === renderConfigReference(),
    'config/REFERENCE.md is out of date with the schema: run `npm run config:reference` and commit the result',
  );
});

test('every key of the schema has a description', () => {
  const undocumented: string[] = [];
  const visit = (schema: z.ZodType, prefix: string) => {
    for (const [name, child] of Object.entries(defOf(unwrap(schema).core).shape ?? {})) {
      const field = unwrap(child);
      if (!field.meta.description) undocumented.push(`${prefix}${name}`);
      const def = defOf(field.core);
      if (def.type === 'object') visit(field.core, `${prefix}${name}.`);
      if (def.type === 'array' && def.element) visit(def.element, `${prefix}${name}[].`);
    }
  };
  visit(brokerFileSchema, 'portico.yaml: ');
  visit(tenantFileSchema, 'tenant: ');
  assert.deepEqual(undocumented, []);
});

test('the reference lists keys with type, default and description', () => {
  const text = renderConfigReference();
  assert.ok(text.includes('| `storage.backend` | one of `sqlite`, `redis`, `memory` | `sqlite` |'));
  assert.ok(text.includes('| `port` | integer, 1–65535 | `3000` | TCP port the HTTP server listens on. Environment variable `PORT` overrides it. |'));
  assert.ok(text.includes('| `apps[].type` | one of `web`, `spa`, `native`, `daemon` | **required** |'));
  assert.ok(text.includes('| `storage.sqlite.path` | string | `<dataDir>/portico.db` |'));
});
