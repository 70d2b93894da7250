/**
 * Reading an IdP's SAML metadata: every signing certificate it publishes (several during a key
 * rollover) and its HTTP-Redirect single sign-on URL. Metadata is treated as hostile input like
 * any response: guarded before parsing, then read by namespace, never by prefix.
 */
import { X509Certificate } from 'node:crypto';
import { DOMParser } from '@xmldom/xmldom';
import { isLoopbackHost } from '../../config/primitives.ts';
import { guardXml } from './xml-guard.ts';

export const MD_NS = 'urn:oasis:names:tc:SAML:2.0:metadata';
const DSIG_NS = 'http://www.w3.org/2000/09/xmldsig#';
const PROTOCOL_NS = 'urn:oasis:names:tc:SAML:2.0:protocol';
export const HTTP_REDIRECT = 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect';

/** What Portico needs to know about an IdP, whichever way the config gave it. */
export interface IdpDescriptor {
  readonly ssoUrl: string;
  /** PEM certificates whose keys may sign responses. */
  readonly signingCertificates: readonly string[];
}

/** Metadata that cannot be used; the message says why and is safe to log. */
export class MetadataError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'MetadataError';
  }
}

/** A parser whose every complaint is fatal: xmldom otherwise recovers and carries on. */
export function strictDomParser(): DOMParser {
  const fail = (message: string): never => {
    throw new MetadataError(`XML not well-formed: ${message.split('\n')[0]?.slice(0, 200) ?? ''}`);
  };
  return new DOMParser({ locator: {}, errorHandler: { warning: fail, error: fail, fatalError: fail } });
}

const childElements = (parent: Element, namespace: string, localName: string): Element[] =>
  Array.from(parent.childNodes).filter(
    (node): node is Element => node.nodeType === 1 && (node as Element).namespaceURI === namespace && (node as Element).localName === localName,
  );

/** Normalises a certificate (PEM or bare base64) to PEM, and proves it parses. */
export function toPemCertificate(value: string, label: string): string {
  const body = value.replace(/-----(?:BEGIN|END) CERTIFICATE-----/g, '').replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(body)) throw new MetadataError(`${label}: not a base64 certificate`);
  const pem = `-----BEGIN CERTIFICATE-----\n${body.match(/.{1,64}/g)?.join('\n') ?? ''}\n-----END CERTIFICATE-----\n`;
  try {
    new X509Certificate(pem);
  } catch (error) {
    throw new MetadataError(`${label}: not a valid X.509 certificate`, { cause: error });
  }
  return pem;
}

export function ssoUrlProblem(value: string): string | undefined {
  if (!URL.canParse(value)) return 'is not an absolute URL';
  const url = new URL(value);
  if (url.protocol === 'https:' || (url.protocol === 'http:' && isLoopbackHost(url.hostname))) return undefined;
  return 'must use https';
}

function findEntity(root: Element, entityId: string): Element | undefined {
  if (root.namespaceURI === MD_NS && root.localName === 'EntityDescriptor') return root.getAttribute('entityID') === entityId ? root : undefined;
  if (root.namespaceURI !== MD_NS || root.localName !== 'EntitiesDescriptor') return undefined;
  for (const child of Array.from(root.childNodes)) {
    if (child.nodeType !== 1) continue;
    const found = findEntity(child as Element, entityId);
    if (found) return found;
  }
  return undefined;
}

/** Parses IdP metadata (an EntityDescriptor, or an EntitiesDescriptor holding it) for `entityId`. */
export function parseIdpMetadata(xml: string, entityId: string): IdpDescriptor {
  try {
    // Metadata signatures are not relied on (it comes from the admin or over https), so SHA-1 there is no reason to refuse.
    guardXml(xml, { maxDepth: 64, maxElements: 200_000, allowSha1: true });
  } catch (error) {
    throw new MetadataError(`metadata refused: ${(error as Error).message}`, { cause: error });
  }
  const root = strictDomParser().parseFromString(xml, 'text/xml').documentElement;
  if (!root) throw new MetadataError('metadata has no root element');
  const entity = findEntity(root, entityId);
  if (!entity) throw new MetadataError(`metadata has no EntityDescriptor with entityID ${entityId}`);
  const idp = childElements(entity, MD_NS, 'IDPSSODescriptor').find((element) =>
    (element.getAttribute('protocolSupportEnumeration') ?? '').split(/\s+/).includes(PROTOCOL_NS),
  );
  if (!idp) throw new MetadataError('metadata has no SAML 2.0 IDPSSODescriptor');

  const signingCertificates: string[] = [];
  for (const descriptor of childElements(idp, MD_NS, 'KeyDescriptor')) {
    const use = descriptor.getAttribute('use');
    // No `use` means the key serves both purposes; an encryption-only key must never verify a signature.
    if (use !== null && use !== '' && use !== 'signing') continue;
    for (const keyInfo of childElements(descriptor, DSIG_NS, 'KeyInfo')) {
      for (const data of childElements(keyInfo, DSIG_NS, 'X509Data')) {
        for (const cert of childElements(data, DSIG_NS, 'X509Certificate')) {
          const pem = toPemCertificate(cert.textContent ?? '', `certificate ${signingCertificates.length + 1}`);
          if (!signingCertificates.includes(pem)) signingCertificates.push(pem);
        }
      }
    }
  }
  if (signingCertificates.length === 0) throw new MetadataError('metadata has no signing certificate');

  const redirect = childElements(idp, MD_NS, 'SingleSignOnService').find((service) => service.getAttribute('Binding') === HTTP_REDIRECT);
  const ssoUrl = redirect?.getAttribute('Location') ?? '';
  if (!redirect || ssoUrl === '') throw new MetadataError('metadata has no HTTP-Redirect SingleSignOnService');
  const problem = ssoUrlProblem(ssoUrl);
  if (problem) throw new MetadataError(`SingleSignOnService Location ${problem}`);
  return { ssoUrl, signingCertificates };
}
