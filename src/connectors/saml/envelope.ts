/**
 * Everything done to a posted SAMLResponse before node-saml sees it: size cap, strict base64 and
 * UTF-8, the hostile-XML guard (also over the plaintext of an encrypted assertion, which the
 * guard cannot see from outside and anyone holding the SP's public certificate can craft), and a
 * read of the Response envelope (root attributes, Issuer, Status) with the parser node-saml uses,
 * so that both read the same document.
 */
import * as xmlenc from 'xml-encryption';
import { strictDomParser } from './idp-metadata.ts';
import { Refusal } from './refusal.ts';
import { guardXml, XmlRefusedError, type XmlGuardLimits } from './xml-guard.ts';

export const PROTOCOL_NS = 'urn:oasis:names:tc:SAML:2.0:protocol';
export const ASSERTION_NS = 'urn:oasis:names:tc:SAML:2.0:assertion';
const DSIG_NS = 'http://www.w3.org/2000/09/xmldsig#';
export const STATUS_SUCCESS = 'urn:oasis:names:tc:SAML:2.0:status:Success';

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

export interface DecodedResponse {
  readonly xml: string;
  /** Without line breaks, as node-saml decodes it again. */
  readonly base64: string;
}

/** Strict base64 (line breaks tolerated, nothing else), capped, valid UTF-8. */
export function decodeSamlResponse(value: string, maxBytes: number): DecodedResponse {
  // Base64 grows data by 4/3; allow for line breaks before paying for anything else.
  if (value.length > Math.ceil(maxBytes / 3) * 4 * 1.05 + 64) throw new Refusal('invalid_response', `SAMLResponse larger than ${maxBytes} bytes`);
  const base64 = value.replace(/[\r\n]/g, '');
  if (base64.length === 0 || base64.length % 4 !== 0 || !BASE64.test(base64)) throw new Refusal('invalid_response', 'SAMLResponse is not valid base64');
  const bytes = Buffer.from(base64, 'base64');
  // Node ignores non-zero padding bits; a canonical encoding has none, so one that differs was tampered with or made by hand.
  if (bytes.toString('base64') !== base64) throw new Refusal('invalid_response', 'SAMLResponse is not canonical base64');
  if (bytes.length > maxBytes) throw new Refusal('invalid_response', `SAMLResponse larger than ${maxBytes} bytes`);
  let xml: string;
  try {
    xml = utf8.decode(bytes);
  } catch {
    throw new Refusal('invalid_response', 'SAMLResponse is not UTF-8');
  }
  return { xml, base64 };
}

export function guard(xml: string, limits: XmlGuardLimits, what: string): string {
  try {
    return guardXml(xml, limits).rootLocalName;
  } catch (error) {
    if (error instanceof XmlRefusedError) throw new Refusal('invalid_response', `${what} refused before parsing: ${error.message}`);
    throw error;
  }
}

export interface ResponseEnvelope {
  readonly id: string | undefined;
  readonly version: string | undefined;
  readonly destination: string | undefined;
  readonly inResponseTo: string | undefined;
  readonly issuer: string | undefined;
  readonly statusCode: string | undefined;
  readonly subStatusCode: string | undefined;
  readonly statusMessage: string | undefined;
  /** The Response carries a signature of its own (whether it verifies is node-saml's to say). */
  readonly hasSignature: boolean;
  readonly assertions: number;
  /** The EncryptedAssertion serialised exactly as node-saml serialises it before decrypting. */
  readonly encryptedAssertion: string | undefined;
}

const elementChildren = (parent: Element): Element[] => Array.from(parent.childNodes).filter((node): node is Element => node.nodeType === 1);
const isElement = (element: Element, namespace: string, localName: string): boolean =>
  element.namespaceURI === namespace && element.localName === localName;
const attribute = (element: Element, name: string): string | undefined => (element.hasAttribute(name) ? (element.getAttribute(name) ?? undefined) : undefined);

/** Text an IdP wrote: control characters out and a length bound, so it can go to a log line. */
export const loggable = (value: string, max = 200): string =>
  Array.from(value.replace(/\p{Cc}/gu, ' ').trim())
    .slice(0, max)
    .join('');

export function readEnvelope(xml: string): ResponseEnvelope {
  let root: Element | null;
  try {
    root = strictDomParser().parseFromString(xml, 'text/xml').documentElement;
  } catch (error) {
    throw new Refusal('invalid_response', (error as Error).message, error);
  }
  if (!root || !isElement(root, PROTOCOL_NS, 'Response')) throw new Refusal('invalid_response', 'not a SAML 2.0 Response');
  const children = elementChildren(root);
  const issuers = children.filter((child) => isElement(child, ASSERTION_NS, 'Issuer'));
  const status = children.find((child) => isElement(child, PROTOCOL_NS, 'Status'));
  const statusCode = status && elementChildren(status).find((child) => isElement(child, PROTOCOL_NS, 'StatusCode'));
  const subStatusCode = statusCode && elementChildren(statusCode).find((child) => isElement(child, PROTOCOL_NS, 'StatusCode'));
  const statusMessage = status && elementChildren(status).find((child) => isElement(child, PROTOCOL_NS, 'StatusMessage'));
  const encrypted = children.filter((child) => child.localName === 'EncryptedAssertion');
  if (issuers.length > 1) throw new Refusal('invalid_response', 'Response has more than one Issuer');
  return {
    id: attribute(root, 'ID'),
    version: attribute(root, 'Version'),
    destination: attribute(root, 'Destination'),
    inResponseTo: attribute(root, 'InResponseTo'),
    issuer: issuers[0]?.textContent?.trim(),
    statusCode: statusCode && attribute(statusCode, 'Value'),
    subStatusCode: subStatusCode && attribute(subStatusCode, 'Value'),
    statusMessage: statusMessage?.textContent ? loggable(statusMessage.textContent) : undefined,
    hasSignature: children.some((child) => isElement(child, DSIG_NS, 'Signature')),
    assertions: children.filter((child) => child.localName === 'Assertion').length + encrypted.length,
    encryptedAssertion: encrypted.length === 1 ? encrypted[0]?.toString() : undefined,
  };
}

/** Decrypts as node-saml will (same input), refusing RSA 1.5 and 3DES, and guards the plaintext. */
export async function checkEncryptedAssertion(encryptedAssertion: string, decryptionKey: string | undefined, limits: XmlGuardLimits): Promise<void> {
  if (decryptionKey === undefined) throw new Refusal('invalid_response', 'encrypted assertion, but no decryptionKey is configured');
  const plaintext = await new Promise<string>((resolve, reject) => {
    xmlenc.decrypt(encryptedAssertion, { key: decryptionKey, disallowDecryptionWithInsecureAlgorithm: true, warnInsecureAlgorithm: false }, (error, result) =>
      error ? reject(new Refusal('invalid_response', `cannot decrypt the assertion: ${loggable(error.message)}`, error)) : resolve(result),
    );
  });
  const root = guard(plaintext, limits, 'decrypted assertion');
  if (root !== 'Assertion') throw new Refusal('invalid_response', 'EncryptedAssertion does not hold an Assertion');
  try {
    // Whatever xmldom would only warn about (and print) is refused here, as for the Response itself.
    strictDomParser().parseFromString(plaintext, 'text/xml');
  } catch (error) {
    throw new Refusal('invalid_response', `decrypted assertion: ${(error as Error).message}`, error);
  }
}
