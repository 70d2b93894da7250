/**
 * Checks that a dependency Portico patches (patches/, applied by patch-package) is installed at
 * the version its patch was made for and carries it, and that the unpatched copy installed beside
 * it for differential tests (`<alias>`, the same version) does not.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

export function assertPatchedDependency(options: { readonly name: string; readonly original: string; readonly file: string; readonly marker: RegExp }): void {
  const prefix = `${options.name.replace('/', '+')}+`;
  const patches = readdirSync(new URL('../../patches/', import.meta.url)).filter((file) => file.startsWith(prefix));
  assert.equal(patches.length, 1, `exactly one ${options.name} patch`);
  const version = (name: string): string => (require(`${name}/package.json`) as { version: string }).version;
  assert.equal(patches[0], `${prefix}${version(options.name)}.patch`, `upgrading ${options.name} needs the patch remade (npx patch-package ${options.name})`);
  assert.equal(version(options.original), version(options.name), `${options.original} must be the same version, unpatched`);
  const source = (name: string): string => readFileSync(require.resolve(`${name}/${options.file}`), 'utf8');
  assert.match(source(options.name), options.marker);
  assert.doesNotMatch(source(options.original), /Portico patch/);
}
