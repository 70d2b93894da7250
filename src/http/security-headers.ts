import type { ServerResponse } from 'node:http';

/**
 * The Content-Security-Policy of Portico's own pages: nothing inline, nothing from elsewhere.
 * `form-action` lists the tenant's app origins because browsers apply it to the redirect that
 * follows a form post (sign-in and sign-out forms end on the app).
 */
export function contentSecurityPolicy(origins: { formAction?: readonly string[]; images?: readonly string[] } = {}): string {
  const formActionOrigins = [...new Set(origins.formAction ?? [])];
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    `img-src 'self' data:${(origins.images ?? []).map((o) => ` ${o}`).join('')}`,
    "font-src 'self'",
    "connect-src 'self'",
    `form-action 'self'${formActionOrigins.map((o) => ` ${o}`).join('')}`,
    "frame-ancestors 'none'",
    "base-uri 'none'",
    "object-src 'none'",
  ].join('; ');
}

/**
 * Headers for responses of the provider endpoints, which bypass express (and so helmet). The
 * provider adds hashes of its own inline scripts (form_post) to script-src when a CSP is present.
 */
export function setProviderSecurityHeaders(res: ServerResponse, csp: string, https: boolean): void {
  res.setHeader('Content-Security-Policy', csp);
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Referrer-Policy', 'no-referrer');
  res.setHeader('X-Frame-Options', 'DENY');
  res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
  if (https) res.setHeader('Strict-Transport-Security', 'max-age=31536000; includeSubDomains');
}
