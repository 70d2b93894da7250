/**
 * Portico carries a patch to node-saml (patches/@node-saml+node-saml+*.patch, applied by
 * patch-package on install): getVerifiedXml counted the elements a signature's reference names
 * with an XPath query over the whole document (`//*[@ID="…"]`); the patch walks the tree once.
 * This test holds the patched function to the unpatched one, installed beside it as
 * `node-saml-original`: on signed documents full of decoy IDs both must reach the same verdict.
 */
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { test } from 'node:test';
import { DOMParser } from '@xmldom/xmldom';
import fc from 'fast-check';
import { SignedXml } from 'xml-crypto';
import { assertPatchedDependency } from '../../../helpers/patched-dependency.ts';
import { generateKeyPair } from '../../../helpers/saml-idp.ts';

const require = createRequire(import.meta.url);
type GetVerifiedXml = (fullXml: string, currentNode: Element, pemFiles: string[]) => string | null;
const patched = (require('@node-saml/node-saml/lib/xml.js') as { getVerifiedXml: GetVerifiedXml }).getVerifiedXml;
const original = (require('node-saml-original/lib/xml.js') as { getVerifiedXml: GetVerifiedXml }).getVerifiedXml;
const EXC_C14N = 'http://www.w3.org/2001/10/xml-exc-c14n#';
const key = generateKeyPair('node-saml-patch');

test('the installed node-saml is the version the patch was made for, and carries it; the original beside it does not', () => {
  assertPatchedDependency({ name: '@node-saml/node-saml', original: 'node-saml-original', file: 'lib/xml.js', marker: /const elementsWithId = / });
});

const decoy = fc.record({
  attributes: fc.uniqueArray(fc.record({ name: fc.constantFrom('ID', 'Id', 'id', 'iD', 'o:ID', 'xmlns:ID', 'Ref'), sameValue: fc.boolean() }), {
    minLength: 1,
    maxLength: 2,
    selector: (attribute) => attribute.name,
  }),
  nested: fc.boolean(),
  before: fc.boolean(),
});

/** The signed element may carry a second ID-like attribute, signed with it. */
function signed(second = ''): string {
  const signer = new SignedXml({ privateKey: key.privateKey, signatureAlgorithm: 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256', canonicalizationAlgorithm: EXC_C14N });
  signer.addReference({ xpath: "//*[@ID='_target']", transforms: ['http://www.w3.org/2000/09/xmldsig#enveloped-signature', EXC_C14N], digestAlgorithm: 'http://www.w3.org/2001/04/xmlenc#sha256' });
  signer.computeSignature(`<r xmlns:o="urn:o"><a><t ID="_target"${second}><v>value</v></t></a></r>`, { location: { reference: "//*[@ID='_target']", action: 'append' } });
  return signer.getSignedXml();
}

/** The verdict of one getVerifiedXml on the signed element: the verified XML, null, or the message it threw. */
function verdict(getVerifiedXml: GetVerifiedXml, xml: string): string | null {
  const target = Array.from(new DOMParser().parseFromString(xml, 'text/xml').getElementsByTagName('t')).find((element) => element.getAttribute('ID') === '_target');
  assert.ok(target);
  try {
    return getVerifiedXml(xml, target, [key.certificate]);
  } catch (error) {
    return `threw: ${(error as Error).message}`;
  }
}

test('patched and unpatched node-saml verify the same signed documents the same way, decoy IDs and all', () => {
  const bases = ['', ' id="_target"', ' Id="_elsewhere"', ' o:ID="_target"'].map(signed);
  const seen = new Set<string>();
  fc.assert(
    fc.property(fc.constantFrom(...bases), fc.array(decoy, { maxLength: 4 }), (base, decoys) => {
      let xml = base;
      for (const { attributes, nested, before } of decoys) {
        const element = `<d ${attributes.map(({ name, sameValue }) => `${name}="${sameValue ? '_target' : '_elsewhere'}"`).join(' ')}/>`;
        const placed = nested ? `<w>${element}</w>` : element;
        xml = before ? xml.replace('<a>', `${placed}<a>`) : xml.replace('</r>', `${placed}</r>`);
      }
      const outcome = verdict(patched, xml);
      assert.deepEqual(outcome, verdict(original, xml));
      seen.add(outcome === null ? 'null' : outcome.startsWith('threw: ') ? outcome.replace(/[:,].*?: /, '').slice(0, 60) : 'verified');
    }),
    { numRuns: 150, seed: 20261128 },
  );
  assert.ok(seen.has('verified'), [...seen].join(' | '));
  assert.ok([...seen].some((outcome) => /more than one element/.test(outcome)), [...seen].join(' | '));
});
