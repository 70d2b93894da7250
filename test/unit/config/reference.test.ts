import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { REFERENCE_PATH } from '../../../src/cli/commands/config-reference.ts';
import { renderConfigReference } from '../../../src/config/reference.ts';
import { defOf, unwrap, variantsOf } from '../../../src/config/schema-walk.ts';
import { brokerFileSchema, tenantFileSchema } from '../../../src/config/schema.ts';
import { connectorModules } from '../../../src/connectors/registry.ts';
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
      if (def.type === 'record' && def.valueType) visit(def.valueType, `${prefix}${name}.<key>.`);
      if (def.type === 'array' && def.element) {
        visit(def.element, `${prefix}${name}[].`);
        // Each kind of identity provider documents its own keys.
        for (const variant of variantsOf(def.element)?.variants ?? []) visit(variant.schema, `${prefix}${name}[kind=${variant.value}].`);
      }
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

test('the reference documents the keys of user-keyed mappings under a named key', () => {
  const text = renderConfigReference();
  assert.ok(text.includes('| `invitations.templates` | mapping of mappings |  |'));
  assert.ok(text.includes('| `invitations.templates.<lang>.subject` | string | **required** | Subject line. |'));
  assert.ok(text.includes('| `invitations.templates.<lang>.html` | string | — |'));
  assert.ok(text.includes('| `invitations.ticketDays` | integer, 1–90 | `30` |'));
  assert.ok(text.includes('| `apps[].graphRoles` | list, each one of `User.Invite.All`, `User.ReadWrite.All`, `User.Read.All`, `AuditLog.Read.All`, `Group.Read.All`, `Group.ReadWrite.All`, `AppRoleAssignment.ReadWrite.All`, `Policy.Read.All` | `[]` |'));
  assert.ok(text.includes('| `audit.retentionDays` | integer, 1–3650 | `30` |'));
});

test('the reference documents every connector kind in its own section, with all its keys', () => {
  const text = renderConfigReference();
  const kinds = Object.keys(connectorModules);
  const headings = kinds.map((kind) => `### \`identityProviders[]\` with \`kind: ${kind}\``);
  for (const [index, kind] of kinds.entries()) {
    const start = text.indexOf(`${headings[index]}\n`);
    assert.ok(start > 0, `no section for kind ${kind}`);
    const next = text.indexOf('\n### ', start + 1);
    const section = text.slice(start, next === -1 ? undefined : next);
    assert.ok(section.includes(`| \`identityProviders[].kind\` | \`${kind}\` | **required** |`), `kind row of ${kind}`);
    const shape = defOf(unwrap(connectorModules[kind as keyof typeof connectorModules].schema).core).shape ?? {};
    for (const key of Object.keys(shape)) {
      assert.ok(section.includes(`| \`identityProviders[].${key}\` |`), `${kind}: key ${key} is not documented`);
    }
  }
  assert.ok(text.includes('| `identityProviders` | list of mappings, by `kind` | `[]` |'));
  assert.ok(text.includes('| `apps[].selfServiceSignUp` | boolean | `false` |'));
  assert.ok(text.includes('| `emailOneTimePasscode.enabled` | boolean | `true` |'));
  assert.ok(text.includes('| `signIn.redemptionOrder` | non-empty list, each one of `federation`, `social`, `emailOtp` | `["federation","social","emailOtp"]` |'));
});
