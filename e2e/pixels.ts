/**
 * Colours as the person sees them: screenshots of small areas of the page, decoded here, rather
 * than what the stylesheet claims.
 */
import type { Locator, Page } from 'playwright-core';
import { decodePng, distinctColours } from './png.ts';

export interface Clip {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

/** The distinct colours (`rgb(r, g, b)`) in an area of the page. */
export async function coloursIn(page: Page, clip: Clip): Promise<string[]> {
  return distinctColours(decodePng(await page.screenshot({ clip, animations: 'disabled', caret: 'hide' })));
}

/** A corner of the viewport, where only the page background shows (the card is centred). */
export const BACKGROUND_CLIP: Clip = { x: 0, y: 0, width: 16, height: 16 };

/**
 * A small area inside an element's left padding, half-way down: only its fill shows there (no
 * text, no rounded corner).
 */
export async function fillClipOf(locator: Locator): Promise<Clip> {
  const box = await locator.boundingBox();
  if (!box) throw new Error('the element is not displayed');
  return { x: Math.round(box.x) + 5, y: Math.round(box.y + box.height / 2) - 2, width: 4, height: 4 };
}

/** A small area in the middle of an element. */
export async function centreClipOf(locator: Locator): Promise<Clip> {
  const box = await locator.boundingBox();
  if (!box) throw new Error('the element is not displayed');
  return { x: Math.round(box.x + box.width / 2) - 2, y: Math.round(box.y + box.height / 2) - 2, width: 4, height: 4 };
}
