import { html, type SafeHtml } from './html.ts';

export interface PageBranding {
  /** Name of the organisation whose look the page takes (the guest's home organisation or the tenant). */
  readonly organisation: string;
  /** A stylesheet with the organisation's colours, served by Portico from validated config. */
  readonly stylesheet?: string;
  readonly logoUrl?: string;
  readonly signInText?: string;
}

export interface PageOptions {
  readonly title: string;
  readonly body: SafeHtml;
  /** Shown so a person can quote it to support; the logs carry the detail under the same id. */
  readonly correlationId?: string | undefined;
  readonly lang?: string;
  readonly branding?: PageBranding | undefined;
  /** Extra head elements (a meta refresh). */
  readonly head?: SafeHtml;
}

/** The frame of every server-rendered page: no inline script or style, so a strict CSP holds. */
export function renderPage(options: PageOptions): string {
  const branding = options.branding;
  return html`<!doctype html>
<html lang="${options.lang ?? 'en'}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${options.title}</title>
<link rel="stylesheet" href="/assets/portico.css">
${options.head ?? ''}
${branding?.stylesheet ? html`<link rel="stylesheet" href="${branding.stylesheet}">` : ''}
</head>
<body>
<main class="card" id="main">
${branding?.logoUrl ? html`<img class="logo" src="${branding.logoUrl}" alt="${branding.organisation}" data-testid="brand-logo">` : ''}
${branding?.signInText ? html`<p class="sign-in-text" data-testid="brand-text">${branding.signInText}</p>` : ''}
${options.body}
${options.correlationId ? html`<p class="correlation">Correlation id: <code data-testid="correlation-id">${options.correlationId}</code></p>` : ''}
</main>
</body>
</html>
`.value;
}
