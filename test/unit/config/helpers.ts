import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../../../src/config/load.ts';
import { ConfigError } from '../../../src/shared/errors.ts';

export const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
export const fixturesRoot = path.join(repoRoot, 'test/fixtures/config');

/** A throwaway config folder outside the repository, so messages show its absolute path. */
export async function configFolder(files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'portico-config-'));
  for (const [name, content] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(dir, name)), { recursive: true });
    await writeFile(path.join(dir, name), content);
  }
  return dir;
}

/** The problems loading `dir` reports, with the folder's own path cut from the front. */
export async function problemsOf(dir: string, env: NodeJS.ProcessEnv = {}): Promise<string[]> {
  try {
    await loadConfig(dir, env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    return error.problems.map((problem) => problem.replaceAll(`${dir}/`, ''));
  }
  throw new Error(`expected ${dir} to be rejected`);
}

export const minimalTenant = (id = 'contoso', extra = ''): string =>
  `id: ${id}\ndisplayName: ${id}\ndomains: [${id}.example]\n${extra}`;
