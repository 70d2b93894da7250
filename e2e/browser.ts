/**
 * Launches the Debian Chromium through playwright-core (no downloaded browsers here) and gives
 * each test a fresh browser context that records Content-Security-Policy violations and leaves a
 * screenshot and the page's HTML behind when the test fails.
 */
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM_PATH = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';

/** Where failure screenshots go (git-ignored). */
export const ARTIFACTS_DIR = process.env['E2E_ARTIFACTS'] ?? new URL('../test-results/e2e/', import.meta.url).pathname;

const LAUNCH_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  // Screenshots in plain sRGB, so a pixel has exactly the colour the stylesheet names.
  '--force-color-profile=srgb',
];

/**
 * Options for a suite's `describe`: skipped, with the reason, when there is no Chromium on a
 * developer machine; in CI (`CI=true`) never skipped, so a missing browser fails the run.
 */
export function suiteOptions(): { skip?: string } {
  if (existsSync(CHROMIUM_PATH) || process.env['CI'] === 'true') return {};
  return { skip: `no Chromium at ${CHROMIUM_PATH} (apt-get install chromium, or set CHROMIUM_PATH)` };
}

export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) throw new Error(`no Chromium at ${CHROMIUM_PATH}: browser tests cannot run (CI=true fails instead of skipping)`);
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: LAUNCH_ARGS, timeout: 30_000 });
}

export interface CspViolation {
  readonly page: string;
  readonly directive: string;
  readonly blocked: string;
}

export interface BrowserSession {
  readonly context: BrowserContext;
  readonly page: Page;
  /** Violations seen so far, from the page's `securitypolicyviolation` events and console messages. */
  readonly cspViolations: readonly CspViolation[];
}

export interface SessionOptions {
  /** Tests that provoke a violation on purpose check `cspViolations` themselves. */
  readonly allowCspViolations?: boolean;
}

/**
 * Runs `body` with a page of a new browser context (no cookies shared with other tests); fails
 * the test on any CSP violation, and keeps a screenshot and the HTML when it fails.
 */
export async function withPage(browser: Browser, name: string, body: (session: BrowserSession) => Promise<void>, options: SessionOptions = {}): Promise<void> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: 'en-GB', deviceScaleFactor: 1 });
  context.setDefaultTimeout(10_000);
  context.setDefaultNavigationTimeout(15_000);
  const violations: CspViolation[] = [];
  // The binding and the init script run outside the page's CSP, so they see every page, and a
  // page's own policy cannot hide its violations from them.
  await context.exposeBinding('__porticoCspViolation', ({ page }, directive: string, blocked: string) => {
    violations.push({ page: page.url(), directive, blocked });
  });
  await context.addInitScript(
    `document.addEventListener('securitypolicyviolation', (e) => { globalThis.__porticoCspViolation(e.violatedDirective, e.blockedURI); });`,
  );
  const page = await context.newPage();
  page.on('console', (message) => {
    if (/Content Security Policy/i.test(message.text())) violations.push({ page: page.url(), directive: 'console', blocked: message.text() });
  });
  try {
    await body({ context, page, cspViolations: violations });
    if (!options.allowCspViolations && violations.length > 0) {
      throw new Error(`Content-Security-Policy violations:\n${violations.map((v) => `  ${v.page}: ${v.directive} ${v.blocked}`).join('\n')}`);
    }
  } catch (error) {
    const saved = await saveArtifacts(page, name).catch((e: unknown) => `could not save a screenshot: ${String(e)}`);
    if (error instanceof Error) error.message += `\n  at ${page.url()}\n  ${saved}`;
    throw error;
  } finally {
    await context.close();
  }
}

async function saveArtifacts(page: Page, name: string): Promise<string> {
  await mkdir(ARTIFACTS_DIR, { recursive: true });
  const base = join(ARTIFACTS_DIR, `${name.replace(/[^a-z0-9]+/gi, '-').replace(/^-|-$/g, '').slice(0, 80)}-${Date.now()}`);
  await page.screenshot({ path: `${base}.png`, fullPage: true, timeout: 5_000 });
  await writeFile(`${base}.html`, await page.content());
  return `screenshot: ${base}.png (and .html)`;
}
