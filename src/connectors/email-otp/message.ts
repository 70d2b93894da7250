const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
const escapeHtml = (text: string): string => text.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c] as string);

/** Tenant names come from config; still, nothing that could break a header line or run on forever. */
const cleanName = (name: string): string => name.replace(/[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/gu, ' ').replace(/\s+/g, ' ').trim().slice(0, 100) || 'Portico';

/**
 * The passcode mail: the code, how long it lives, and what to do if it was not them. No links,
 * so there is nothing to phish with and nothing a mail scanner could "click".
 */
export function passcodeMessage(input: { readonly tenantDisplayName: string; readonly code: string; readonly lifetimeMinutes: number }): {
  subject: string;
  text: string;
  html: string;
} {
  const tenant = cleanName(input.tenantDisplayName);
  const lifetime = `${input.lifetimeMinutes} minute${input.lifetimeMinutes === 1 ? '' : 's'}`;
  const ignore = `If you did not try to sign in to ${tenant}, ignore this email: nobody can sign in with your address without this code. Do not share it with anyone.`;
  const text = [
    `Your verification code for ${tenant} is:`,
    '',
    `    ${input.code}`,
    '',
    `Enter it on the sign-in page. It expires in ${lifetime} and works only once.`,
    '',
    ignore,
    '',
  ].join('\n');
  const html = [
    '<!doctype html>',
    '<html><body style="font-family: sans-serif">',
    `<p>Your verification code for ${escapeHtml(tenant)} is:</p>`,
    `<p style="font-size: 1.6em; font-weight: bold; letter-spacing: 0.15em">${input.code}</p>`,
    `<p>Enter it on the sign-in page. It expires in ${lifetime} and works only once.</p>`,
    `<p>${escapeHtml(ignore)}</p>`,
    '</body></html>',
  ].join('\n');
  return { subject: `Your ${tenant} verification code`, text, html };
}
