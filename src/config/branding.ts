/**
 * Branding of the sign-in pages (the tenant's own, and each partner's). Every value ends up in
 * HTML or CSS that guests see, so the checks are strict: colours are exactly `#rrggbb`, image
 * URLs cannot break out of a CSS `url(...)` or an attribute, and the sign-in text is plain
 * text without the control and bidirectional characters that make a page lie about itself.
 */
import { z } from 'zod';
import { HTTPS_ONLY, checked, isLoopbackHost } from './primitives.ts';

export const COLOR = /^#[0-9a-fA-F]{6}$/;

export function colorProblem(value: string): string | undefined {
  return COLOR.test(value) ? undefined : 'must be a colour written as # and six hex digits (like #0078d4)';
}

// Characters that could end a CSS url() token or an HTML attribute, or that browsers strip
// silently (whitespace), so what the operator reads is not what the browser loads.
const UNSAFE_URL_CHARACTER = /[\s"'()<>\\`]/;

export function imageUrlProblem(value: string): string | undefined {
  if (UNSAFE_URL_CHARACTER.test(value)) {
    return 'must not contain whitespace, quotes, parentheses, backslashes or angle brackets (percent-encode them)';
  }
  if (!URL.canParse(value)) return 'must be an absolute URL (like https://cdn.example.com/logo.png)';
  const url = new URL(value);
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return 'must be an http or https URL';
  if (url.username !== '' || url.password !== '') return 'must not contain a user name or password';
  if (url.protocol === 'http:' && !isLoopbackHost(url.hostname)) return HTTPS_ONLY;
  return undefined;
}

export const SIGN_IN_TEXT_MAX = 1000;

// C0 and C1 controls except tab and line feed, and the bidirectional embeddings, overrides and
// isolates (U+202A-U+202E, U+2066-U+2069) that can reorder what a guest reads on the page.
// eslint-disable-next-line no-control-regex
const UNSAFE_TEXT_CHARACTER = /[\x00-\x08\x0B-\x1F\x7F-\x9F\u202A-\u202E\u2066-\u2069]/;

export function plainTextProblem(value: string): string | undefined {
  const found = UNSAFE_TEXT_CHARACTER.exec(value);
  if (found === null) return undefined;
  const codePoint = found[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0');
  return `must be plain text: U+${codePoint} (a control or text-direction character) is not allowed`;
}

const color = (description: string) => checked(colorProblem).optional().meta({ description });

export const brandingSchema = z.strictObject({
  logoUrl: checked(imageUrlProblem).optional().meta({
    description: 'Logo shown at the top of the sign-in pages: an https URL (http only on localhost, 127.0.0.1 and [::1]).',
  }),
  backgroundImageUrl: checked(imageUrlProblem).optional().meta({
    description: 'Background image of the sign-in pages; same rules as `logoUrl`.',
  }),
  primaryColor: color('Colour of buttons and links, as `#rrggbb`.'),
  backgroundColor: color('Page background colour, as `#rrggbb`.'),
  textColor: color('Text colour, as `#rrggbb`; pick one that contrasts with `backgroundColor`.'),
  signInText: z
    .string()
    .min(1)
    .max(SIGN_IN_TEXT_MAX)
    .superRefine((value, ctx) => {
      const message = plainTextProblem(value);
      if (message !== undefined) ctx.addIssue({ code: 'custom', message });
    })
    .optional()
    .meta({
      description: `Text shown at the top of the sign-in pages, above the form (at most ${SIGN_IN_TEXT_MAX} characters). Plain text: it is shown as written, HTML and Markdown are not interpreted; line breaks are kept.`,
    }),
});
