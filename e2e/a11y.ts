/**
 * Accessibility and page-hygiene checks run inside the page. The functions handed to
 * `page.evaluate` run in the browser; this project compiles without the DOM library, so they
 * reach the document through a small structural type instead.
 */
import type { Page } from 'playwright-core';

interface Node_ {
  readonly id: string;
  readonly tagName: string;
  readonly attributes: ArrayLike<{ readonly name: string; readonly value: string }>;
  readonly labels?: ArrayLike<unknown> | null;
  getAttribute(name: string): string | null;
  hasAttribute(name: string): boolean;
  blur?(): void;
}
interface Document_ {
  readonly activeElement: Node_ | null;
  querySelectorAll(selector: string): ArrayLike<Node_>;
}

/** Form fields a person fills in that no `<label>` names (by id, or the tag when it has none). */
export async function unlabelledFields(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const d = (globalThis as unknown as { document: Document_ }).document;
    return Array.from(d.querySelectorAll('input:not([type="hidden"]), select, textarea'))
      .filter((field) => !field.labels || field.labels.length === 0)
      .map((field) => field.id || field.tagName);
  });
}

/**
 * Script a strict CSP forbids, as written in the page: `<script>` elements without `src`,
 * `on…=` handler attributes and `javascript:` URLs.
 */
export async function inlineScripting(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const d = (globalThis as unknown as { document: Document_ }).document;
    const found: string[] = [];
    for (const script of Array.from(d.querySelectorAll('script'))) if (!script.hasAttribute('src')) found.push('inline <script>');
    for (const element of Array.from(d.querySelectorAll('*'))) {
      for (const attribute of Array.from(element.attributes)) {
        if (/^on/i.test(attribute.name)) found.push(`${element.tagName} ${attribute.name}=`);
        if (/^\s*javascript:/i.test(attribute.value)) found.push(`${element.tagName} ${attribute.name}="javascript:…"`);
      }
    }
    return found;
  });
}

/** The focused element: its id, else its `data-testid`, else its tag name (`BODY` when nothing has focus). */
export async function focusedElement(page: Page): Promise<string> {
  return page.evaluate(() => {
    const active = (globalThis as unknown as { document: Document_ }).document.activeElement;
    return active ? active.id || active.getAttribute('data-testid') || active.tagName : 'none';
  });
}

/**
 * Puts the keyboard back at the top of the document, where Tab starts for someone arriving on the
 * page. Blurring is not enough (Chromium keeps the starting point of Tab at the blurred element):
 * the body takes focus for a moment, which moves the starting point to it, and gives it back.
 */
export async function resetFocus(page: Page): Promise<void> {
  await page.evaluate(() => {
    const body = (globalThis as unknown as { document: { body: Node_ & { setAttribute(n: string, v: string): void; removeAttribute(n: string): void; focus(): void } } }).document.body;
    body.setAttribute('tabindex', '-1');
    body.focus();
    body.blur?.();
    body.removeAttribute('tabindex');
  });
}
