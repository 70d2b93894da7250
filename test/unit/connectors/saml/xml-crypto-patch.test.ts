/**
 * Portico carries a patch to xml-crypto (patches/xml-crypto+*.patch, applied by patch-package on
 * install): validateReference finds the element a signature references in one walk of the
 * document instead of one XPath evaluation per ID attribute name, and reuses that element for the
 * ancestor namespaces instead of evaluating the XPath once more. That was about 45 % of a SAML
 * response's validation. These tests hold the patched library to what its own XPath engine would
 * decide, so the patch changes speed and nothing else.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { test } from 'node:test';
import { DOMParser } from '@xmldom/xmldom';
import fc from 'fast-check';
import { SignedXml } from 'xml-crypto';
import { generateKeyPair } from '../../../helpers/saml-idp.ts';

const requireFromXmlCrypto = createRequire(createRequire(import.meta.url).resolve('xml-crypto'));
/** The XPath engine xml-crypto itself depends on: the unpatched lookup is evaluated with it. */
const xpath = requireFromXmlCrypto('xpath') as { select(expression: string, node: Node): Node[] };

const EXC_C14N = 'http://www.w3.org/2001/10/xml-exc-c14n#';
const C14N = 'http://www.w3.org/TR/2001/REC-xml-c14n-20010315';
const ENVELOPED = 'http://www.w3.org/2000/09/xmldsig#enveloped-signature';
const DSIG_NS = 'http://www.w3.org/2000/09/xmldsig#';
const ID_ATTRIBUTES = ['Id', 'ID', 'id'];
const key = generateKeyPair('xml-crypto-patch');

test('the installed xml-crypto is the version the patch was made for, and carries it', () => {
  const patches = readdirSync(new URL('../../../../patches/', import.meta.url)).filter((name) => name.startsWith('xml-crypto+'));
  assert.equal(patches.length, 1, 'exactly one xml-crypto patch');
  const installed = (requireFromXmlCrypto('../package.json') as { version: string }).version;
  assert.equal(patches[0], `xml-crypto+${installed}.patch`, 'upgrading xml-crypto needs the patch remade (npx patch-package xml-crypto)');
  const source = readFileSync(requireFromXmlCrypto.resolve('./signed-xml.js'), 'utf8');
  assert.match(source, /function elementsWithIdValue\(/);
});

function sign(xml: string, canonicalization: string): string {
  const signer = new SignedXml({ privateKey: key.privateKey, signatureAlgorithm: 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256', canonicalizationAlgorithm: EXC_C14N });
  signer.addReference({ xpath: "//*[@ID='_target']", transforms: [ENVELOPED, canonicalization], digestAlgorithm: 'http://www.w3.org/2001/04/xmlenc#sha256' });
  signer.computeSignature(xml, { location: { reference: "//*[@ID='_target']", action: 'append' } });
  return signer.getSignedXml();
}

/** checkSignature's verdict: true, false, or the error it threw. */
function verify(xml: string): boolean | Error {
  const document = new DOMParser().parseFromString(xml, 'text/xml');
  const signature = document.getElementsByTagNameNS(DSIG_NS, 'Signature')[0];
  assert.ok(signature);
  const verifier = new SignedXml({ publicCert: key.certificate });
  verifier.loadSignature(signature);
  try {
    return verifier.checkSignature(xml);
  } catch (error) {
    return error as Error;
  }
}

/** How many elements xml-crypto's unpatched lookup counts for the signature's reference. */
function xpathMatches(xml: string): number {
  // The signer picks the ID attribute it references (wsu:Id before ID, say): read which it was.
  const id = /<Reference URI="#([^"]+)"/.exec(xml)?.[1];
  assert.ok(id);
  const document = new DOMParser().parseFromString(xml, 'text/xml') as unknown as Node;
  return ID_ATTRIBUTES.reduce((sum, name) => sum + xpath.select(`//*[@*[local-name(.)='${name}']='${id}']`, document).length, 0);
}

const decoyAttribute = fc.constantFrom('ID', 'Id', 'id', 'iD', 'wsu:Id', 'o:ID', 'xmlns:ID', 'xmlns:id', 'Ref');
/** An element outside the signed one, with one or two attributes that may or may not look like its ID. */
const decoy = fc.record({
  attributes: fc.uniqueArray(fc.record({ name: decoyAttribute, sameValue: fc.boolean() }), { minLength: 1, maxLength: 2, selector: (attribute) => attribute.name }),
  nested: fc.boolean(),
  before: fc.boolean(),
});
/** The signed element may carry a second ID-like attribute (signed with it), which makes its reference ambiguous when it holds the same value. */
const targetSecondAttribute = fc.record({ name: decoyAttribute.filter((name) => name !== 'ID'), sameValue: fc.boolean() });

test('with the patch, a reference resolves exactly as xml-crypto’s XPath lookup would (found once, or refused as ambiguous)', () => {
  fc.assert(
    fc.property(fc.array(decoy, { maxLength: 4 }), fc.option(targetSecondAttribute), fc.constantFrom(EXC_C14N, C14N), (decoys, second, canonicalization) => {
      // The target sits under ancestors declaring namespaces, which inclusive c14n must pull in.
      const secondAttribute = second === null ? '' : ` ${second.name}="${second.sameValue ? '_target' : '_elsewhere'}"`;
      const unsigned = `<r xmlns="urn:root" xmlns:wsu="urn:wsu" xmlns:o="urn:o"><a xmlns:x="urn:x"><t ID="_target"${secondAttribute}><x:v>value</x:v></t></a></r>`;
      let xml = sign(unsigned, canonicalization);
      // Decoys go outside the signed element, so the digest still holds and only the lookup differs.
      for (const { attributes, nested, before } of decoys) {
        const element = `<d ${attributes.map(({ name, sameValue }) => `${name}="${sameValue ? '_target' : '_elsewhere'}"`).join(' ')}/>`;
        const placed = nested ? `<w>${element}</w>` : element;
        xml = before ? xml.replace('<a ', `${placed}<a `) : xml.replace('</r>', `${placed}</r>`);
      }
      const matches = xpathMatches(xml);
      const verdict = verify(xml);
      if (matches > 1) {
        assert.ok(verdict instanceof Error && /multiple elements with the same value/.test(verdict.message), `expected refusal, got ${String(verdict)}`);
      } else {
        assert.equal(matches, 1);
        assert.equal(verdict, true);
      }
    }),
    { numRuns: 150 },
  );
});

test('with the patch, a changed signed element still fails its digest, under either canonicalisation', () => {
  for (const canonicalization of [EXC_C14N, C14N]) {
    const xml = sign(`<r xmlns:x="urn:x"><t ID="_target"><x:v>value</x:v></t></r>`, canonicalization);
    assert.equal(verify(xml), true);
    assert.equal(verify(xml.replace('>value<', '>other<')), false);
    // Moving a namespace the target uses changes its inclusive canonical form, not its exclusive one.
    const moved = verify(xml.replace('<r xmlns:x="urn:x">', '<r xmlns:x="urn:x" xmlns:y="urn:y">'));
    assert.equal(moved, canonicalization === EXC_C14N);
  }
});
