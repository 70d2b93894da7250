import { createServer } from 'node:net';

/**
 * A port for a server that must know its URL before it listens (an issuer in its own config).
 * Taken from below Linux's ephemeral range (32768–60999), which the kernel hands to outgoing
 * connections: a port from that range could be given to a connection to Redis or a browser's
 * between this check and the listen. Here only another test choosing the same random port can.
 */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt += 1) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    if (await canListen(port)) return port;
  }
  throw new Error('no free port found below the ephemeral range');
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/**
 * A minimal browser stand-in: follows no redirects by itself and keeps cookies by name, as a
 * browser does for one host (every server here is on 127.0.0.1, and browsers do not separate
 * cookies by port; paths are ignored). Stand-in IdPs prefix their cookie names for that reason.
 */
interface StoredCookie {
  readonly name: string;
  readonly value: string;
  readonly path: string;
}

/**
 * Cookies as a browser keeps them: by name and path, sent only where their path matches
 * (RFC 6265 §5.1.4), longest path first. Tenants of one Portico use the same cookie names on their
 * own paths (`/contoso/v2.0/`, `/fabrikam/v2.0/`), and a browser keeps both.
 */
export class CookieJar {
  readonly #cookies = new Map<string, StoredCookie>();

  store(response: Response, requestUrl: string | URL = response.url): void {
    for (const line of response.headers.getSetCookie()) {
      const [pair = '', ...attributes] = line.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      const pathAttribute = attributes.map((a) => a.trim()).find((a) => /^path=/i.test(a));
      const requestPath = new URL(requestUrl).pathname;
      // RFC 6265 §5.1.4 default-path: the request path up to its last '/'.
      const path = pathAttribute?.slice(5) || requestPath.slice(0, Math.max(1, requestPath.lastIndexOf('/')));
      const key = `${name}\n${path}`;
      if (/expires=Thu, 01 Jan 1970/i.test(line) || value === '') this.#cookies.delete(key);
      else this.#cookies.set(key, { name, value, path });
    }
  }

  header(url: string | URL): string {
    const requestPath = new URL(url).pathname;
    const matches = (path: string) => requestPath === path || (requestPath.startsWith(path) && (path.endsWith('/') || requestPath[path.length] === '/'));
    return [...this.#cookies.values()]
      .filter((cookie) => matches(cookie.path))
      .sort((a, b) => b.path.length - a.path.length)
      .map((cookie) => `${cookie.name}=${cookie.value}`)
      .join('; ');
  }

  async fetch(url: string | URL, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    const cookies = this.header(url);
    if (cookies) headers.set('cookie', cookies);
    const response = await fetch(url, { ...init, headers, redirect: 'manual' });
    this.store(response, url);
    return response;
  }
}

export function locationOf(response: Response, base: string): URL {
  const location = response.headers.get('location');
  if (!location) throw new Error(`expected a redirect, got ${response.status}`);
  return new URL(location, base);
}
