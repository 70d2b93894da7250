import assert from 'node:assert/strict';
import * as client from 'openid-client';
import { CookieJar, locationOf } from './http.ts';

/** The hidden CSRF token of a sign-in page. */
export function csrfOf(page: string): string {
  const match = /name="csrf" value="([^"]+)"/.exec(page);
  assert.ok(match, 'the page has a CSRF token');
  return match[1]!;
}

/** A browser stand-in walking Portico's sign-in pages over HTTP (no JavaScript needed, by design). */
export class SignInSession {
  readonly browser: CookieJar;
  #page = '';
  #url!: URL;
  #verifier = '';
  #state = '';
  #nonce = '';

  readonly config: client.Configuration;
  readonly redirectUri: string;

  /** `browser`: share another session's cookies, as a second app in the same browser would. */
  constructor(config: client.Configuration, redirectUri: string, browser = new CookieJar()) {
    this.config = config;
    this.redirectUri = redirectUri;
    this.browser = browser;
  }

  get page(): string {
    return this.#page;
  }

  get url(): URL {
    return this.#url;
  }

  /** Starts at the app: authorization request, then follows redirects to the first page. */
  async start(extra: Record<string, string> = {}): Promise<Response> {
    this.#verifier = client.randomPKCECodeVerifier();
    this.#state = client.randomState();
    this.#nonce = client.randomNonce();
    const url = client.buildAuthorizationUrl(this.config, {
      redirect_uri: this.redirectUri,
      scope: 'openid profile email',
      code_challenge: await client.calculatePKCECodeChallenge(this.#verifier),
      code_challenge_method: 'S256',
      state: this.#state,
      nonce: this.#nonce,
      ...extra,
    });
    return this.follow(url);
  }

  /** GETs `url` and follows redirects until a page is shown or the app's redirect URI is reached. */
  async follow(url: URL): Promise<Response> {
    let current = url;
    for (let hops = 0; hops < 15; hops++) {
      if (current.href.startsWith(this.redirectUri)) {
        this.#url = current;
        return new Response(null, { status: 200 });
      }
      const response = await this.browser.fetch(current);
      if (response.status >= 300 && response.status < 400) {
        current = locationOf(response, current.href);
        continue;
      }
      this.#url = current;
      this.#page = await response.text();
      const refresh = metaRefreshOf(this.#page);
      if (refresh) {
        current = new URL(refresh, current);
        continue;
      }
      return response;
    }
    throw new Error('too many redirects');
  }

  /** Posts a form of the current page (`action` relative to the interaction) with its CSRF token. */
  async submit(action: string, fields: Record<string, string>, options: { csrf?: string } = {}): Promise<Response> {
    // The form's own action, as a browser would use it (error pages live on callback URLs).
    const action_ = new RegExp(`action="([^"]*/interaction/[^"/]+/${action})"`).exec(this.#page)?.[1];
    assert.ok(action_, `the page has no '${action}' form (at ${this.#url.pathname})`);
    const target = new URL(action_, this.#url);
    const response = await this.browser.fetch(target, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ csrf: options.csrf ?? csrfOf(this.#page), ...fields }),
    });
    if (response.status >= 300 && response.status < 400) return this.follow(locationOf(response, target.href));
    this.#url = target;
    this.#page = await response.text();
    const refresh = metaRefreshOf(this.#page);
    if (refresh) return this.follow(new URL(refresh, target));
    return response;
  }

  /** True once the browser is back at the app with a code. */
  get atApp(): boolean {
    return this.#url.href.startsWith(this.redirectUri);
  }

  async tokens() {
    assert.ok(this.atApp, `expected to be back at the app, but at ${this.#url.href}`);
    return client.authorizationCodeGrant(this.config, this.#url, {
      pkceCodeVerifier: this.#verifier,
      expectedState: this.#state,
      expectedNonce: this.#nonce,
      idTokenExpected: true,
    });
  }
}

/** The target of a `<meta http-equiv="refresh" content="0;url=…">`, as a browser reads it. */
function metaRefreshOf(page: string): string | undefined {
  const match = /<meta http-equiv="refresh" content="0;url=([^"]+)">/.exec(page);
  return match ? match[1]!.replace(/&#(\d+);/g, (_, code: string) => String.fromCharCode(Number(code))) : undefined;
}

export const passcodeIn = (text: string): string => {
  const match = /\b(\d{8})\b/.exec(text);
  assert.ok(match, 'the mail holds an 8-digit code');
  return match[1]!;
};
