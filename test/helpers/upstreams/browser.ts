/**
 * Drives a stand-in's sign-in pages with plain fetch, as a browser would: follows redirects by
 * hand, keeps cookies, and submits the stand-in's forms (found by `data-stand-in`). Works for
 * every stand-in here, including Microsoft's two steps (home realm, then tenant sign-in).
 */
import { CookieJar } from '../http.ts';

export interface UpstreamSignIn {
  /** Where the browser starts (the connector's redirect URL). */
  readonly start: string | URL;
  /** The relying party's callback: the walk stops at the first redirect to a URL starting with it. */
  readonly until: string;
  /** Sign in as this account id (default: the account the page preselects, as a person pressing Sign in would) … */
  readonly account?: string;
  /** … or type this email (an unknown one becomes a new account). */
  readonly email?: string;
  /** Press Cancel instead of signing in. */
  readonly cancel?: boolean;
  readonly browser?: CookieJar;
}

const FORM = /<form method="post" action="([^"]*)" data-stand-in="(login|abort)">([\s\S]*?)<\/form>/g;
const HIDDEN = /<input type="hidden" name="([^"]*)" value="([^"]*)">/g;
const CHECKED = /<input type="radio" [^>]*name="account" value="([^"]*)" checked>/;

const unescape = (value: string): string => value.replace(/&#(\d+);/g, (_m, code: string) => String.fromCharCode(Number(code)));

export interface StandInForm {
  readonly action: string;
  readonly kind: string;
  readonly hidden: [string, string][];
  /** The account the page preselects, if any. */
  readonly checked: string | undefined;
}

export function standInForms(html: string): StandInForm[] {
  return [...html.matchAll(FORM)].map((match) => {
    const checked = CHECKED.exec(match[3]!)?.[1];
    return {
      action: unescape(match[1]!),
      kind: match[2]!,
      hidden: [...match[3]!.matchAll(HIDDEN)].map((h) => [unescape(h[1]!), unescape(h[2]!)] as [string, string]),
      checked: checked === undefined ? undefined : unescape(checked),
    };
  });
}

/** Returns the callback URL the upstream sent the browser back to (code or error in its query). */
export async function signInUpstream(options: UpstreamSignIn): Promise<URL> {
  const browser = options.browser ?? new CookieJar();
  let url = new URL(options.start);
  let response = await browser.fetch(url);
  for (let step = 0; step < 20; step += 1) {
    if (response.status >= 300 && response.status < 400) {
      const location = new URL(response.headers.get('location') ?? '', url);
      if (location.href.startsWith(options.until)) return location;
      url = location;
      response = await browser.fetch(url);
      continue;
    }
    const text = await response.text();
    const form = standInForms(text).find((f) => f.kind === (options.cancel ? 'abort' : 'login'));
    if (response.status !== 200 || !form) throw new Error(`stand-in answered ${response.status} at ${url.pathname}: ${text.slice(0, 300)}`);
    const body = new URLSearchParams(form.hidden);
    if (!options.cancel) {
      const account = options.account ?? form.checked;
      if (options.email !== undefined) body.set('email', options.email);
      else if (account !== undefined) body.set('account', account);
    }
    url = new URL(form.action, url);
    response = await browser.fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body });
  }
  throw new Error('too many steps at the stand-in');
}
