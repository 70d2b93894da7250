import { BUILTIN_TEMPLATES, type InvitationTemplate } from './builtin.ts';
import { renderTemplate, type TemplateValues } from './placeholders.ts';

export type { InvitationTemplate } from './builtin.ts';

export interface InvitationMailInput {
  /** The tenant's display name. */
  readonly organisation: string;
  /** `#rrggbb` from the tenant's validated branding; Portico's blue otherwise. */
  readonly primaryColor?: string;
  /** The app's name or the inviting user's display name. */
  readonly inviter: string;
  readonly guestName: string;
  readonly redeemUrl: string;
  readonly expiresInDays: number;
  /** The inviter's customised message: untrusted text from the API caller. */
  readonly message?: string;
  /** BCP 47 (`de`, `de-CH`, `fr-FR`); English when absent or unknown. */
  readonly language?: string;
  /** The tenant's `invitations.templates`, by language tag. */
  readonly overrides?: Readonly<Record<string, InvitationTemplate>>;
}

export interface ComposedMail {
  readonly subject: string;
  readonly text: string;
  readonly html?: string;
  /** The template language used (`en` when nothing matched). */
  readonly language: string;
}

const DEFAULT_COLOR = '#0f6cbd';
const COLOR = /^#[0-9a-fA-F]{6}$/;
export const MESSAGE_MAX_LENGTH = 5000;

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
export const escapeHtml = (text: string): string => text.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]!);

/** One line, no controls or direction overrides, bounded: for names that end up in a subject. */
const oneLine = (text: string, max: number): string =>
  text.replace(/[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/gu, ' ').replace(/\s+/g, ' ').trim().slice(0, max);

/** Keeps line breaks (and tabs), drops other controls and bidirectional overrides. */
const multiLine = (text: string, max: number): string =>
  text
    .replace(/\r\n?/g, '\n')
    .replace(/[^\P{Cc}\n\t]|\p{Cf}|[\p{Zl}\p{Zp}]/gu, '')
    .trim()
    .slice(0, max);

/**
 * The template for `language`: an exact override, Portico's own for the exact tag, then the same
 * for the primary subtag (`de` for `de-CH`), then English (override first).
 */
export function pickTemplate(
  language: string | undefined,
  overrides: Readonly<Record<string, InvitationTemplate>> = {},
): { template: InvitationTemplate; language: string } {
  const byTag = new Map(Object.entries(overrides).map(([tag, template]) => [tag.toLowerCase(), template]));
  const requested = (language ?? '').trim().toLowerCase();
  const candidates = [requested, requested.split('-')[0] ?? '', 'en'].filter((tag, index, all) => tag !== '' && all.indexOf(tag) === index);
  for (const tag of candidates) {
    const template = byTag.get(tag) ?? BUILTIN_TEMPLATES[tag];
    if (template) return { template, language: tag };
  }
  return { template: BUILTIN_TEMPLATES['en']!, language: 'en' };
}

/** The invitation mail: subject, text and (when the template has one) HTML with every value escaped. */
export function composeInvitationMail(input: InvitationMailInput): ComposedMail {
  const { template, language } = pickTemplate(input.language, input.overrides);
  const values: TemplateValues = {
    inviter: oneLine(input.inviter, 200) || input.organisation,
    organisation: oneLine(input.organisation, 200) || 'Portico',
    guestName: oneLine(input.guestName, 200),
    redeemUrl: input.redeemUrl,
    expiresInDays: String(input.expiresInDays),
    message: multiLine(input.message ?? '', MESSAGE_MAX_LENGTH),
    primaryColor: input.primaryColor && COLOR.test(input.primaryColor) ? input.primaryColor : DEFAULT_COLOR,
  };
  return {
    subject: oneLine(renderTemplate(template.subject, values), 250),
    text: renderTemplate(template.text, values),
    ...(template.html === undefined ? {} : { html: renderTemplate(template.html, values, escapeHtml) }),
    language,
  };
}
