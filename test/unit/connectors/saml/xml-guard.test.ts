import assert from 'node:assert/strict';
import { test } from 'node:test';
import { guardXml, XmlRefusedError } from '../../../../src/connectors/saml/xml-guard.ts';

const limits = { maxDepth: 64, maxElements: 5000, allowSha1: false };
const SHA256 = 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256';
const DIGEST256 = 'http://www.w3.org/2001/04/xmlenc#sha256';

const signed = (signatureAlgorithm: string, digestAlgorithm: string): string =>
  `<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" ID="_1"><ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:SignedInfo>` +
  `<ds:SignatureMethod Algorithm="${signatureAlgorithm}"/><ds:Reference URI="#_1"><ds:DigestMethod Algorithm="${digestAlgorithm}"/>` +
  `<ds:DigestValue>AAAA</ds:DigestValue></ds:Reference></ds:SignedInfo></ds:Signature></samlp:Response>`;

const refusal = (xml: string, pattern: RegExp, options = limits) => {
  assert.throws(() => guardXml(xml, options), (error: unknown) => error instanceof XmlRefusedError && pattern.test(error.message));
};

test('accepts a response with a declaration, a leading comment, a BOM, CDATA and entities', () => {
  const xml = `\uFEFF<?xml version="1.0" encoding="UTF-8"?>\n<!-- from the IdP -->\n<r:Response xmlns:r="urn:x" a='1' b = "&amp;&#x41;&#65;"><v><![CDATA[<not-an-element>]]></v><e/>text &lt; more</r:Response>\n`;
  assert.deepEqual(guardXml(xml, limits), { rootLocalName: 'Response', elements: 3, depth: 2 });
  assert.deepEqual(guardXml('<a/>', limits), { rootLocalName: 'a', elements: 1, depth: 1 });
});

test('accepts SHA-256 and SHA-512 signatures', () => {
  guardXml(signed(SHA256, DIGEST256), limits);
  guardXml(signed('http://www.w3.org/2001/04/xmldsig-more#rsa-sha512', 'http://www.w3.org/2001/04/xmlenc#sha512'), limits);
});

test('refuses SHA-1 signatures and digests unless allowSha1, even entity-encoded', () => {
  refusal(signed('http://www.w3.org/2000/09/xmldsig#rsa-sha1', DIGEST256), /SHA-1 signature/);
  refusal(signed(SHA256, 'http://www.w3.org/2000/09/xmldsig#sha1'), /SHA-1 digest/);
  refusal(signed('http://www.w3.org/2000/09/xmldsig&#x23;rsa-sha1', DIGEST256), /SHA-1 signature/);
  guardXml(signed('http://www.w3.org/2000/09/xmldsig#rsa-sha1', 'http://www.w3.org/2000/09/xmldsig#sha1'), { ...limits, allowSha1: true });
});

test('refuses HMAC and unknown signature algorithms, and a SignatureMethod without one', () => {
  refusal(signed('http://www.w3.org/2000/09/xmldsig#hmac-sha1', DIGEST256), /not allowed/);
  refusal(signed('urn:made-up', DIGEST256), /not allowed/);
  refusal('<r><SignatureMethod/></r>', /without an Algorithm/);
});

test('leaves the OAEP digest of an encrypted key alone (SHA-1 there is not a signature)', () => {
  const encrypted =
    '<xenc:EncryptedKey xmlns:xenc="http://www.w3.org/2001/04/xmlenc#"><xenc:EncryptionMethod Algorithm="http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p">' +
    '<ds:DigestMethod xmlns:ds="http://www.w3.org/2000/09/xmldsig#" Algorithm="http://www.w3.org/2000/09/xmldsig#sha1"/></xenc:EncryptionMethod></xenc:EncryptedKey>';
  guardXml(encrypted, limits);
});

test('refuses DOCTYPE, ENTITY and undeclared entity references', () => {
  refusal('<!DOCTYPE r [<!ENTITY x "y">]><r>&x;</r>', /entity reference|DOCTYPE/);
  refusal('<!DOCTYPE r><r/>', /DOCTYPE/);
  refusal('<?xml version="1.0"?><!DOCTYPE r SYSTEM "file:///etc/passwd"><r/>', /DOCTYPE/);
  refusal('<r><!ENTITY x "y"></r>', /declaration/);
  refusal('<r>&lol9;</r>', /entity reference/);
  refusal('<r a="&x;"/>', /entity reference/);
});

test('refuses content after the root element (which xmldom would silently drop)', () => {
  refusal('<r/>junk', /after the root/);
  refusal('<r></r><r></r>', /after the root/);
  refusal('<r></r><!-- c -->', /after the root/);
  refusal('<r></r>\n<?pi x?>', /after the root/);
  guardXml('<r></r>\n \t\r\n', limits);
});

test('refuses nesting deeper than the limit, and 20,000 levels at the 65th', () => {
  const nested = (depth: number) => `${'<a>'.repeat(depth)}${'</a>'.repeat(depth)}`;
  assert.equal(guardXml(nested(64), limits).depth, 64);
  refusal(nested(65), /nested deeper than 64/);
  refusal(`${'<a>'.repeat(64)}<b/>${'</a>'.repeat(64)}`, /nested deeper than 64/);
  // The scan stops at the first violation: the broken end of this document is never reached.
  refusal(`${'<a>'.repeat(20_000)}${'</a>'.repeat(19_999)}<unterminated`, /nested deeper than 64/);
});

test('refuses more elements than the limit', () => {
  refusal(`<r>${'<e/>'.repeat(10)}</r>`, /more than 10 elements/, { ...limits, maxElements: 10 });
  guardXml(`<r>${'<e/>'.repeat(9)}</r>`, { ...limits, maxElements: 10 });
});

test('refuses markup xmldom would recover from, so no parser can read it differently', () => {
  refusal('text<r/>', /text before the root/);
  refusal('', /no root/);
  refusal('<r a=1/>', /unquoted/);
  refusal('<r a/>', /without a value/);
  refusal('<r a="1"b="2"/>', /separated by whitespace/);
  refusal('<r a="1" a="2"/>', /duplicate attribute/);
  refusal('<r a="<"/>', /'<' in an attribute/);
  refusal('<r><a></b></r>', /mismatched end tag/);
  refusal('<r><a>', /unterminated/);
  refusal('<r><!-- c --></r>', /comment/);
  refusal('<r><?pi x?></r>', /processing instruction/);
  refusal('<?pi x?><r/>', /processing instruction/);
  refusal('<r><1a/></r>', /invalid element name/);
  refusal('<r><![CDATA[x</r>', /unterminated CDATA/);
  refusal('<r/ >', /malformed start tag/);
});
