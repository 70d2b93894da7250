import { html, type SafeHtml } from './html.ts';

export interface PageOptions {
  readonly title: string;
  readonly body: SafeHtml;
  /** Shown so a person can quote it to support; the logs carry the detail under the same id. */
  readonly correlationId?: string | undefined;
  readonly lang?: string;
}

/** The frame of every server-rendered page: no inline script or style, so a strict CSP holds. */
export function renderPage(options: PageOptions): string {
  return html`<!doctype html>
<html lang="${options.lang ?? 'en'}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${options.title}</title>
<link rel="stylesheet" href="/assets/portico.css">
</head>
<body>
<main class="card" id="main">
${options.body}
${options.correlationId ? html`<p class="correlation">Correlation id: <code data-testid="correlation-id">${options.correlationId}</code></p>` : ''}
</main>
</body>
</html>
`.value;
}
