/**
 * A minimal browser for the load generator: node:http over keep-alive connections (cheaper per
 * request than fetch, and the load generator shares its core with the upstream stand-in), no
 * automatic redirects, and one cookie jar per virtual user and host. Cookie paths are ignored:
 * sending a cookie to more paths than a browser would changes nothing on either server.
 */
import { Agent, request } from 'node:http';

export interface Answer {
  readonly status: number;
  readonly location: string | undefined;
  readonly body: string;
}

/** One pool of keep-alive connections for all virtual users (a browser each, sharing sockets). */
export const agent = new Agent({ keepAlive: true, maxSockets: Infinity, maxFreeSockets: 512, scheduling: 'lifo' });

export class Browser {
  readonly #jar = new Map<string, Map<string, string>>();

  cookieHeader(host: string): string | undefined {
    const cookies = this.#jar.get(host);
    if (!cookies || cookies.size === 0) return undefined;
    let header = '';
    for (const [name, value] of cookies) header += header ? `; ${name}=${value}` : `${name}=${value}`;
    return header;
  }

  #store(host: string, lines: readonly string[] | undefined): void {
    if (!lines) return;
    let cookies = this.#jar.get(host);
    if (!cookies) this.#jar.set(host, (cookies = new Map()));
    for (const line of lines) {
      const end = line.indexOf(';');
      const pair = end < 0 ? line : line.slice(0, end);
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      if (value === '' || /expires=Thu, 01 Jan 1970/i.test(line) || /max-age=0(?:;|$)/i.test(line)) cookies.delete(name);
      else cookies.set(name, value);
    }
  }

  send(url: URL, options: { method?: 'GET' | 'POST'; headers?: Record<string, string>; body?: string } = {}): Promise<Answer> {
    const headers: Record<string, string> = { ...options.headers };
    const cookie = this.cookieHeader(url.host);
    if (cookie) headers['cookie'] = cookie;
    if (options.body !== undefined) headers['content-length'] = String(Buffer.byteLength(options.body));
    return new Promise<Answer>((resolve, reject) => {
      const req = request(url, { method: options.method ?? 'GET', headers, agent }, (res) => {
        this.#store(url.host, res.headers['set-cookie']);
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, location: res.headers.location, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      });
      req.setTimeout(30_000, () => req.destroy(new Error(`no answer from ${url.host}${url.pathname} within 30 s`)));
      req.on('error', reject);
      req.end(options.body);
    });
  }
}
