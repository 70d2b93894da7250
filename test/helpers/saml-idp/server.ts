/**
 * A SAML IdP on loopback for integration and browser tests. It speaks the two bindings an
 * SP-initiated sign-in uses: the AuthnRequest arrives by HTTP-Redirect (deflated, base64, in the
 * query), the Response leaves by HTTP-POST through a page whose form the person submits with a
 * "Continue" button. No page has any script, so it works with JavaScript off and under a strict CSP.
 */
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { inflateRawSync } from 'node:zlib';
import { DOMParser } from '@xmldom/xmldom';
import { generateKeyPair, type KeyPair } from './keys.ts';
import { idpMetadataXml } from './metadata.ts';
import { ATTRIBUTE, AUTHN_CONTEXT, createResponse, newSamlId, STATUS, type CreatedResponse, type CreateResponseOptions, type SamlUser } from './response.ts';

export interface SamlIdpUser {
  readonly email: string;
  /** Default: a stable opaque id derived from the email (persistent format). */
  readonly nameId?: string;
  readonly nameIdFormat?: string;
  readonly name?: string;
  readonly givenName?: string;
  readonly surname?: string;
  /** More attributes, by name. */
  readonly attributes?: Readonly<Record<string, string | readonly string[]>>;
}

/** What the IdP read from an AuthnRequest it received. */
export interface ReceivedAuthnRequest {
  readonly id: string;
  readonly acsUrl: string;
  /** The SP entity id (the request's Issuer), used as the Audience. */
  readonly spEntityId: string;
  readonly relayState: string | undefined;
  readonly nameIdFormat: string | undefined;
  readonly xml: string;
}

/** Response options a test may set for every response the server sends (signing, encryption …). */
export type ResponseDefaults = Partial<Omit<CreateResponseOptions, 'issuer' | 'signingKey' | 'requestId' | 'acsUrl' | 'audience' | 'user'>>;

export interface SamlIdpOptions {
  /** Default: `{url}/idp`. */
  readonly entityId?: string;
  /** Published signing keys (default: one fresh key). */
  readonly keys?: readonly KeyPair[];
  /** Index into `keys` of the key that signs (default 0). */
  readonly activeKey?: number;
  readonly users?: readonly SamlIdpUser[];
  readonly responseDefaults?: ResponseDefaults;
}

export interface SamlIdp {
  readonly url: string;
  readonly entityId: string;
  readonly ssoUrl: string;
  readonly metadataUrl: string;
  readonly keys: readonly KeyPair[];
  readonly activeKey: KeyPair;
  /** The requests received so far, oldest first. */
  readonly requests: readonly ReceivedAuthnRequest[];
  /** How many times the metadata was fetched. */
  readonly metadataFetches: number;
  /** Makes the metadata endpoint answer with this HTTP status (200 serves it again). */
  setMetadataStatus(status: number): void;
  metadataXml(): string;
  /** Publishes `keys` and signs with `keys[activeKey]` from now on (rollover). */
  setKeys(keys: readonly KeyPair[], activeKey?: number): void;
  setResponseDefaults(defaults: ResponseDefaults): void;
  /** A Response from this IdP (its issuer and active key unless the options say otherwise). */
  createResponse(options: Omit<CreateResponseOptions, 'issuer' | 'signingKey'> & Partial<Pick<CreateResponseOptions, 'issuer' | 'signingKey'>>): Promise<CreatedResponse>;
  /** The SAML user this IdP asserts for a person. */
  samlUser(user: SamlIdpUser): SamlUser;
  close(): Promise<void>;
}

const escapeHtml = (value: string): string =>
  value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');

const page = (title: string, body: string): string =>
  `<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head><body><main>${body}</main></body></html>\n`;

function send(res: ServerResponse, status: number, type: string, body: string): void {
  res.writeHead(status, {
    'content-type': `${type}; charset=utf-8`,
    'cache-control': 'no-store',
    'content-security-policy': "default-src 'none'; base-uri 'none'; frame-ancestors 'none'",
    'x-content-type-options': 'nosniff',
  });
  res.end(body);
}

async function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > 64 * 1024) throw new Error('form too large');
    chunks.push(chunk as Buffer);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

export function parseAuthnRequest(samlRequest: string, relayState: string | undefined): ReceivedAuthnRequest {
  const xml = inflateRawSync(Buffer.from(samlRequest, 'base64')).toString('utf8');
  const root = new DOMParser().parseFromString(xml, 'text/xml').documentElement;
  if (!root || root.localName !== 'AuthnRequest') throw new Error('not an AuthnRequest');
  const child = (localName: string) => Array.from(root.childNodes).find((node) => (node as Element).localName === localName) as Element | undefined;
  return {
    id: root.getAttribute('ID') ?? '',
    acsUrl: root.getAttribute('AssertionConsumerServiceURL') ?? '',
    spEntityId: child('Issuer')?.textContent?.trim() ?? '',
    relayState,
    nameIdFormat: child('NameIDPolicy')?.getAttribute('Format') ?? undefined,
    xml,
  };
}

/** Only loopback ACS URLs: the harness must never post anything elsewhere. */
function loopbackUrl(value: string): boolean {
  if (!URL.canParse(value)) return false;
  const url = new URL(value);
  return (url.protocol === 'http:' || url.protocol === 'https:') && (url.hostname === '127.0.0.1' || url.hostname === 'localhost' || url.hostname === '[::1]');
}

export const opaqueNameId = (email: string): string => createHash('sha256').update(email.toLowerCase()).digest('hex').slice(0, 32);

export async function startSamlIdp(options: SamlIdpOptions = {}): Promise<SamlIdp> {
  let keys = options.keys ?? [generateKeyPair('portico-test-idp')];
  let active = options.activeKey ?? 0;
  let defaults: ResponseDefaults = options.responseDefaults ?? {};
  const users = options.users ?? [];
  const requests: ReceivedAuthnRequest[] = [];
  const pending = new Map<string, ReceivedAuthnRequest>();
  let metadataFetches = 0;
  let metadataStatus = 200;

  const server: Server = createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) send(res, 500, 'text/plain', 'test IdP error');
      else res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;
  const entityId = options.entityId ?? `${url}/idp`;
  const ssoUrl = `${url}/sso`;

  const samlUser = (user: SamlIdpUser): SamlUser => {
    const local = user.email.split('@')[0] ?? user.email;
    const givenName = user.givenName ?? local.charAt(0).toUpperCase() + local.slice(1);
    const surname = user.surname ?? 'Tester';
    return {
      nameId: user.nameId ?? opaqueNameId(user.email),
      ...(user.nameIdFormat ? { nameIdFormat: user.nameIdFormat } : {}),
      attributes: {
        [ATTRIBUTE.mail]: user.email,
        [ATTRIBUTE.displayName]: user.name ?? `${givenName} ${surname}`,
        [ATTRIBUTE.givenName]: givenName,
        [ATTRIBUTE.surname]: surname,
        ...user.attributes,
      },
    };
  };

  const idp: SamlIdp = {
    url,
    entityId,
    ssoUrl,
    metadataUrl: `${url}/metadata`,
    get keys() {
      return keys;
    },
    get activeKey() {
      const key = keys[active];
      if (!key) throw new Error('no active key');
      return key;
    },
    requests,
    get metadataFetches() {
      return metadataFetches;
    },
    setMetadataStatus(status) {
      metadataStatus = status;
    },
    metadataXml: () => idpMetadataXml({ entityId, ssoUrl, signingCertificates: keys.map((key) => key.certificate) }),
    setKeys(next, activeKey = 0) {
      keys = next;
      active = activeKey;
    },
    setResponseDefaults(next) {
      defaults = next;
    },
    createResponse: (responseOptions) => createResponse({ ...defaults, issuer: entityId, signingKey: idp.activeKey, ...responseOptions }),
    samlUser,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const requestUrl = new URL(req.url ?? '/', url);
    if (req.method === 'GET' && requestUrl.pathname === '/metadata') {
      metadataFetches += 1;
      if (metadataStatus !== 200) send(res, metadataStatus, 'text/plain', 'metadata unavailable');
      else send(res, 200, 'application/samlmetadata+xml', idp.metadataXml());
      return;
    }
    if (req.method === 'GET' && requestUrl.pathname === '/sso') {
      const samlRequest = requestUrl.searchParams.get('SAMLRequest');
      if (!samlRequest) {
        send(res, 400, 'text/plain', 'SAMLRequest missing');
        return;
      }
      const request = parseAuthnRequest(samlRequest, requestUrl.searchParams.get('RelayState') ?? undefined);
      if (!loopbackUrl(request.acsUrl)) {
        send(res, 400, 'text/plain', 'the test IdP only posts to loopback ACS URLs');
        return;
      }
      requests.push(request);
      const pendingId = newSamlId();
      pending.set(pendingId, request);
      send(res, 200, 'text/html', loginPage(pendingId, request));
      return;
    }
    if (req.method === 'POST' && requestUrl.pathname === '/sso/login') {
      const form = await readForm(req);
      const request = pending.get(form.get('pending') ?? '');
      if (!request) {
        send(res, 400, 'text/plain', 'unknown or used sign-in request');
        return;
      }
      pending.delete(form.get('pending') ?? '');
      const common = { requestId: request.id, acsUrl: request.acsUrl, audience: request.spEntityId };
      let response: CreatedResponse;
      if (form.get('action') === 'cancel') {
        response = await idp.createResponse({ ...common, user: { nameId: 'none' }, status: { code: STATUS.responder, subCode: STATUS.authnFailed, message: 'The user cancelled' } });
      } else {
        const email = (form.get('email') ?? '').trim();
        if (!/^[^\s@]+@[^\s@]+$/.test(email)) {
          send(res, 400, 'text/plain', 'an email address is required');
          return;
        }
        const known = users.find((user) => user.email.toLowerCase() === email.toLowerCase()) ?? { email };
        const authnContextClassRef = form.get('method') === 'mfa' ? AUTHN_CONTEXT.refedsMfa : AUTHN_CONTEXT.password;
        response = await idp.createResponse({ ...common, user: samlUser(known), authnContextClassRef });
      }
      send(res, 200, 'text/html', postPage(request, response.base64));
      return;
    }
    send(res, 404, 'text/plain', 'not found');
  }

  function loginPage(pendingId: string, request: ReceivedAuthnRequest): string {
    const options = users.map((user) => `<option value="${escapeHtml(user.email)}"></option>`).join('');
    return page(
      'Test IdP: sign in',
      `<h1>Sign in to the test IdP</h1>
<p>${escapeHtml(request.spEntityId)} asks you to sign in.</p>
<form method="post" action="/sso/login">
<input type="hidden" name="pending" value="${escapeHtml(pendingId)}">
<p><label for="email">Email address</label> <input id="email" name="email" type="email" list="known-users" autocomplete="username"></p>
<datalist id="known-users">${options}</datalist>
<p><label for="method">Sign-in method</label> <select id="method" name="method"><option value="pwd">Password</option><option value="mfa">Password and a second factor</option></select></p>
<p><button type="submit" name="action" value="signin">Sign in</button> <button type="submit" name="action" value="cancel">Cancel</button></p>
</form>`,
    );
  }

  function postPage(request: ReceivedAuthnRequest, samlResponse: string): string {
    const relay = request.relayState === undefined ? '' : `<input type="hidden" name="RelayState" value="${escapeHtml(request.relayState)}">`;
    return page(
      'Test IdP: continue',
      `<h1>Signed in</h1>
<p>Continue to return to the application.</p>
<form method="post" action="${escapeHtml(request.acsUrl)}">
<input type="hidden" name="SAMLResponse" value="${escapeHtml(samlResponse)}">${relay}
<button type="submit">Continue</button>
</form>`,
    );
  }

  return idp;
}
