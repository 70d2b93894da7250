/**
 * A cheap, single-pass look at hostile XML before any DOM parser sees it. xmldom (which node-saml
 * and xml-crypto parse with) accepts a DOCTYPE, ignores text after the root element, tolerates
 * unquoted attributes, and spends time superlinear in the nesting depth (20,000 nested elements
 * block the event loop for ~0.6 s). This scan refuses all of that in linear time with no
 * allocation per character, so a flood of crafted responses costs little more than reading them.
 *
 * It is deliberately stricter than XML: it accepts only what a SAML IdP sends (ASCII names,
 * quoted attributes, no DTD, no comments or processing instructions inside the document) so that
 * nothing it accepts can be read differently by the parser of record.
 */

export interface XmlGuardLimits {
  /** Deepest element nesting accepted; the root element is depth 1. */
  readonly maxDepth: number;
  /** Most elements accepted in one document. */
  readonly maxElements: number;
  /** Accept RSA-SHA1 signatures and SHA-1 digests (legacy IdPs only). */
  readonly allowSha1: boolean;
}

export interface XmlGuardResult {
  readonly rootLocalName: string;
  readonly elements: number;
  readonly depth: number;
}

/** The document was refused; `message` says why (safe to log: it never quotes the document). */
export class XmlRefusedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'XmlRefusedError';
  }
}

const RSA_SHA1 = 'http://www.w3.org/2000/09/xmldsig#rsa-sha1';
const SHA1 = 'http://www.w3.org/2000/09/xmldsig#sha1';

/** What xml-crypto verifies, minus SHA-1 and HMAC (key confusion). */
const SIGNATURE_ALGORITHMS = new Set([
  'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256',
  'http://www.w3.org/2001/04/xmldsig-more#rsa-sha512',
  'http://www.w3.org/2007/05/xmldsig-more#sha256-rsa-MGF1',
]);
const DIGEST_ALGORITHMS = new Set(['http://www.w3.org/2001/04/xmlenc#sha256', 'http://www.w3.org/2001/04/xmlenc#sha512']);

const NAME = /^[A-Za-z_][A-Za-z0-9_.-]*(?::[A-Za-z_][A-Za-z0-9_.-]*)?$/;
/** Any `&` that is not one of the five predefined entities or a character reference. */
const UNDECLARED_ENTITY = /&(?!(?:amp|lt|gt|quot|apos|#[0-9]{1,7}|#x[0-9A-Fa-f]{1,6});)/;

const LT = 0x3c;
const GT = 0x3e;
const SLASH = 0x2f;
const EQUALS = 0x3d;
const QUOTE = 0x22;
const APOS = 0x27;

const isSpace = (code: number): boolean => code === 0x20 || code === 0x0a || code === 0x0d || code === 0x09;

const localNameOf = (qname: string): string => {
  const colon = qname.indexOf(':');
  return colon === -1 ? qname : qname.slice(colon + 1);
};

/** Decodes the character references and predefined entities an attribute value may hold. */
function decodeAttribute(raw: string): string {
  if (!raw.includes('&')) return raw;
  return raw.replace(/&(amp|lt|gt|quot|apos|#[0-9]+|#x[0-9A-Fa-f]+);/g, (_, entity: string) => {
    switch (entity) {
      case 'amp':
        return '&';
      case 'lt':
        return '<';
      case 'gt':
        return '>';
      case 'quot':
        return '"';
      case 'apos':
        return "'";
      default: {
        const code = entity.startsWith('#x') ? Number.parseInt(entity.slice(2), 16) : Number.parseInt(entity.slice(1), 10);
        if (code > 0x10ffff) throw new XmlRefusedError('character reference out of range');
        return String.fromCodePoint(code);
      }
    }
  });
}

/**
 * Throws XmlRefusedError unless `xml` is one well-formed-looking element tree within the limits,
 * with no DTD, nothing but whitespace after the root, and only the allowed signature and digest
 * algorithms.
 */
export function guardXml(xml: string, limits: XmlGuardLimits): XmlGuardResult {
  if (UNDECLARED_ENTITY.test(xml)) throw new XmlRefusedError('entity reference other than the predefined ones');
  const length = xml.length;
  let pos = xml.charCodeAt(0) === 0xfeff ? 1 : 0;

  // Prolog: an optional XML declaration, whitespace and comments; never a DOCTYPE.
  for (;;) {
    while (pos < length && isSpace(xml.charCodeAt(pos))) pos += 1;
    if (pos >= length) throw new XmlRefusedError('no root element');
    if (xml.charCodeAt(pos) !== LT) throw new XmlRefusedError('text before the root element');
    if (xml.startsWith('<?', pos)) {
      const end = xml.indexOf('?>', pos + 2);
      if (end === -1) throw new XmlRefusedError('unterminated processing instruction');
      if (!/^<\?xml[\s?]/.test(xml.slice(pos, pos + 6))) throw new XmlRefusedError('processing instruction');
      pos = end + 2;
    } else if (xml.startsWith('<!--', pos)) {
      const end = xml.indexOf('-->', pos + 4);
      if (end === -1) throw new XmlRefusedError('unterminated comment');
      pos = end + 3;
    } else if (xml.startsWith('<!', pos)) {
      throw new XmlRefusedError('DOCTYPE or other markup declaration');
    } else {
      break;
    }
  }

  const stack: string[] = [];
  let elements = 0;
  let deepest = 0;
  let rootLocalName = '';

  for (;;) {
    if (xml.charCodeAt(pos) !== LT) throw new XmlRefusedError('expected markup');
    const next = xml.charCodeAt(pos + 1);
    if (next === SLASH) {
      // End tag.
      const close = xml.indexOf('>', pos + 2);
      if (close === -1) throw new XmlRefusedError('unterminated end tag');
      const name = xml.slice(pos + 2, close).trimEnd();
      const open = stack.pop();
      if (open === undefined || open !== name) throw new XmlRefusedError('mismatched end tag');
      pos = close + 1;
    } else if (next === 0x21 /* ! */) {
      if (!xml.startsWith('<![CDATA[', pos)) throw new XmlRefusedError('comment, DOCTYPE or declaration inside the document');
      if (stack.length === 0) throw new XmlRefusedError('CDATA outside the root element');
      const end = xml.indexOf(']]>', pos + 9);
      if (end === -1) throw new XmlRefusedError('unterminated CDATA section');
      pos = end + 3;
    } else if (next === 0x3f /* ? */) {
      throw new XmlRefusedError('processing instruction inside the document');
    } else {
      const tag = startTag(xml, pos, stack, limits);
      pos = tag.end;
      elements += 1;
      if (elements > limits.maxElements) throw new XmlRefusedError(`more than ${limits.maxElements} elements`);
      if (stack.length > deepest) deepest = stack.length;
      if (elements === 1) rootLocalName = localNameOf(tag.name);
    }

    if (stack.length === 0) break;
    const lt = xml.indexOf('<', pos);
    if (lt === -1) throw new XmlRefusedError('unterminated element');
    pos = lt;
  }

  // Anything after the root element: xmldom would silently drop it, so its signature would verify.
  for (; pos < length; pos += 1) {
    if (!isSpace(xml.charCodeAt(pos))) throw new XmlRefusedError('content after the root element');
  }
  return { rootLocalName, elements, depth: Math.max(deepest, 1) };
}

/**
 * Reads the start tag at `pos`, pushes its name unless it closes itself, checks the depth and
 * the algorithm attributes; returns the tag's name and the position after it.
 */
function startTag(xml: string, pos: number, stack: string[], limits: XmlGuardLimits): { end: number; name: string } {
  const length = xml.length;
  let cursor = pos + 1;
  while (cursor < length) {
    const code = xml.charCodeAt(cursor);
    if (isSpace(code) || code === GT || code === SLASH) break;
    cursor += 1;
  }
  const name = xml.slice(pos + 1, cursor);
  if (!NAME.test(name)) throw new XmlRefusedError('invalid element name');
  const localName = localNameOf(name);
  const checkAlgorithm = localName === 'SignatureMethod' || (localName === 'DigestMethod' && localNameOf(stack.at(-1) ?? '') === 'Reference');
  let algorithm: string | undefined;
  const seen: string[] = [];

  for (;;) {
    const before = cursor;
    while (cursor < length && isSpace(xml.charCodeAt(cursor))) cursor += 1;
    if (cursor >= length) throw new XmlRefusedError('unterminated start tag');
    const code = xml.charCodeAt(cursor);
    if (code === GT || code === SLASH) {
      const selfClosing = code === SLASH;
      if (selfClosing && xml.charCodeAt(cursor + 1) !== GT) throw new XmlRefusedError('malformed start tag');
      if (stack.length + 1 > limits.maxDepth) throw new XmlRefusedError(`elements nested deeper than ${limits.maxDepth}`);
      if (checkAlgorithm) checkSignatureAlgorithm(localName, algorithm, limits.allowSha1);
      if (selfClosing) return { end: cursor + 2, name };
      stack.push(name);
      return { end: cursor + 1, name };
    }
    if (cursor === before) throw new XmlRefusedError('attributes must be separated by whitespace');
    const nameStart = cursor;
    while (cursor < length) {
      const c = xml.charCodeAt(cursor);
      if (c === EQUALS || isSpace(c) || c === GT || c === SLASH) break;
      cursor += 1;
    }
    const attribute = xml.slice(nameStart, cursor);
    if (!NAME.test(attribute)) throw new XmlRefusedError('invalid attribute name');
    if (seen.includes(attribute)) throw new XmlRefusedError('duplicate attribute');
    seen.push(attribute);
    while (cursor < length && isSpace(xml.charCodeAt(cursor))) cursor += 1;
    if (xml.charCodeAt(cursor) !== EQUALS) throw new XmlRefusedError('attribute without a value');
    cursor += 1;
    while (cursor < length && isSpace(xml.charCodeAt(cursor))) cursor += 1;
    const quote = xml.charCodeAt(cursor);
    if (quote !== QUOTE && quote !== APOS) throw new XmlRefusedError('unquoted attribute value');
    const end = xml.indexOf(quote === QUOTE ? '"' : "'", cursor + 1);
    if (end === -1) throw new XmlRefusedError('unterminated attribute value');
    const raw = xml.slice(cursor + 1, end);
    if (raw.includes('<')) throw new XmlRefusedError("'<' in an attribute value");
    if (checkAlgorithm && attribute === 'Algorithm') algorithm = decodeAttribute(raw);
    cursor = end + 1;
  }
}

function checkSignatureAlgorithm(localName: string, algorithm: string | undefined, allowSha1: boolean): void {
  if (algorithm === undefined) throw new XmlRefusedError(`${localName} without an Algorithm`);
  const allowed = localName === 'SignatureMethod' ? SIGNATURE_ALGORITHMS : DIGEST_ALGORITHMS;
  if (allowed.has(algorithm)) return;
  if (algorithm === RSA_SHA1 || algorithm === SHA1) {
    if (allowSha1) return;
    throw new XmlRefusedError(`SHA-1 ${localName === 'SignatureMethod' ? 'signature' : 'digest'} refused (allowSha1 is off)`);
  }
  throw new XmlRefusedError(`${localName} algorithm not allowed: ${algorithm.slice(0, 100)}`);
}
