/**
 * Portico carries a patch to xml-crypto (patches/xml-crypto+*.patch, applied by patch-package on
 * install): where xml-crypto evaluated XPath queries over the whole document (the element a
 * signature references, once per ID attribute spelling and once more for its namespaces; every
 * Signature element; the first SignedInfo), it walks the tree once. That was most of the XPath
 * time in validating a SAML response. These tests hold the patched library to the unpatched one,
 * installed beside it as `xml-crypto-original`: on generated documents full of decoys both must
 * reach the same verdict, so the patch changes speed and nothing else.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DOMParser } from '@xmldom/xmldom';
import fc from 'fast-check';
import { SignedXml } from 'xml-crypto';
import { SignedXml as OriginalSignedXml } from 'xml-crypto-original';
import { assertPatchedDependency } from '../../../helpers/patched-dependency.ts';
import { generateKeyPair } from '../../../helpers/saml-idp.ts';

const EXC_C14N = 'http://www.w3.org/2001/10/xml-exc-c14n#';
const C14N = 'http://www.w3.org/TR/2001/REC-xml-c14n-20010315';
const ENVELOPED = 'http://www.w3.org/2000/09/xmldsig#enveloped-signature';
const DSIG_NS = 'http://www.w3.org/2000/09/xmldsig#';
const key = generateKeyPair('xml-crypto-patch');

test('the installed xml-crypto is the version the patch was made for, and carries it; the original beside it does not', () => {
  assertPatchedDependency({ name: 'xml-crypto', original: 'xml-crypto-original', file: 'lib/signed-xml.js', marker: /function descendantElements\(/ });
});

interface Shape {
  /** A second ID-like attribute on the signed element (signed with it). */
  readonly targetSecond: { readonly name: string; readonly sameValue: boolean } | null;
  readonly decoys: ReadonlyArray<{ readonly kind: 'ids' | 'signature-copy' | 'signed-info'; readonly attributes: ReadonlyArray<{ readonly name: string; readonly sameValue: boolean }>; readonly nested: boolean; readonly before: boolean }>;
  readonly signedInfoC14n: string;
  readonly referenceC14n: string;
}

const idLikeName = fc.constantFrom('ID', 'Id', 'id', 'iD', 'wsu:Id', 'o:ID', 'xmlns:ID', 'xmlns:id', 'Ref');
const shape: fc.Arbitrary<Shape> = fc.record({
  targetSecond: fc.option(fc.record({ name: idLikeName.filter((name) => name !== 'ID'), sameValue: fc.boolean() })),
  decoys: fc.array(
    fc.record({
      kind: fc.constantFrom('ids', 'ids', 'signature-copy', 'signed-info'),
      attributes: fc.uniqueArray(fc.record({ name: idLikeName, sameValue: fc.boolean() }), { minLength: 1, maxLength: 2, selector: (attribute) => attribute.name }),
      nested: fc.boolean(),
      before: fc.boolean(),
    }),
    { maxLength: 4 },
  ),
  signedInfoC14n: fc.constantFrom(EXC_C14N, C14N),
  referenceC14n: fc.constantFrom(EXC_C14N, C14N),
});

/** A signed document shaped by `shape`, with its decoys added after signing, outside the signed element. */
function documentFor(shape: Shape): string {
  const second = shape.targetSecond === null ? '' : ` ${shape.targetSecond.name}="${shape.targetSecond.sameValue ? '_target' : '_elsewhere'}"`;
  // The target sits under ancestors declaring namespaces, which inclusive c14n must pull in.
  const unsigned = `<r xmlns="urn:root" xmlns:wsu="urn:wsu" xmlns:o="urn:o"><a xmlns:x="urn:x"><t ID="_target"${second}><x:v>value</x:v></t></a></r>`;
  const signer = new SignedXml({ privateKey: key.privateKey, signatureAlgorithm: 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256', canonicalizationAlgorithm: shape.signedInfoC14n });
  signer.addReference({ xpath: "//*[@ID='_target']", transforms: [ENVELOPED, shape.referenceC14n], digestAlgorithm: 'http://www.w3.org/2001/04/xmlenc#sha256' });
  signer.computeSignature(unsigned, { location: { reference: "//*[@ID='_target']", action: 'append' } });
  let xml = signer.getSignedXml();
  const signature = /<Signature[\s\S]*<\/Signature>/.exec(xml)?.[0];
  assert.ok(signature);
  for (const { kind, attributes, nested, before } of shape.decoys) {
    const attributeText = attributes.map(({ name, sameValue }) => `${name}="${sameValue ? '_target' : '_elsewhere'}"`).join(' ');
    const element =
      kind === 'signature-copy'
        ? signature
        : kind === 'signed-info'
          ? // Another SignedInfo first in document order, under other namespaces: inclusive c14n reads its ancestors.
            `<d xmlns:extra="urn:extra" ${attributeText}><SignedInfo xmlns="${DSIG_NS}"/></d>`
          : `<d ${attributeText}/>`;
    const placed = nested ? `<w>${element}</w>` : element;
    xml = before ? xml.replace('<a ', `${placed}<a `) : xml.replace('</r>', `${placed}</r>`);
  }
  return xml;
}

type Verdict = boolean | string;

/** checkSignature's verdict with a given SignedXml class: true, false, or the message it threw. */
function verdict(Signed: typeof SignedXml, xml: string): Verdict {
  const document = new DOMParser().parseFromString(xml, 'text/xml');
  // The signature on the signed element (a decoy copy may come first in the document).
  const signature = Array.from(document.getElementsByTagNameNS(DSIG_NS, 'Signature')).find((element) => (element.parentNode as Element | null)?.localName === 't');
  assert.ok(signature);
  const verifier = new Signed({ publicCert: key.certificate });
  verifier.loadSignature(signature);
  try {
    return verifier.checkSignature(xml);
  } catch (error) {
    return (error as Error).message;
  }
}

test('patched and unpatched xml-crypto reach the same verdict on signed documents full of decoys', () => {
  const seen = new Set<string>();
  fc.assert(
    fc.property(shape, (generated) => {
      const xml = documentFor(generated);
      const patched = verdict(SignedXml, xml);
      assert.deepEqual(patched, verdict(OriginalSignedXml as unknown as typeof SignedXml, xml));
      seen.add(typeof patched === 'string' ? patched.replace(/[:,].*/, '') : String(patched));
    }),
    { numRuns: 200, seed: 20261128 },
  );
  // The generator reaches every outcome, so agreement means something.
  assert.ok(seen.has('true'), [...seen].join(' | '));
  assert.ok(seen.has('false') || [...seen].some((outcome) => /^invalid signature/.test(outcome)), [...seen].join(' | '));
  assert.ok([...seen].some((outcome) => /multiple elements with the same value/.test(outcome)), [...seen].join(' | '));
  assert.ok([...seen].some((outcome) => /multiple Signature elements/.test(outcome)), [...seen].join(' | '));
});

test('with the patch, a changed signed element still fails its digest, under either canonicalisation', () => {
  for (const canonicalization of [EXC_C14N, C14N]) {
    const xml = documentFor({ targetSecond: null, decoys: [], signedInfoC14n: canonicalization, referenceC14n: canonicalization });
    assert.equal(verdict(SignedXml, xml), true);
    assert.equal(verdict(SignedXml, xml.replace('>value<', '>other<')), false);
    // A namespace the target inherits changes its inclusive canonical form, not its exclusive one.
    assert.equal(verdict(SignedXml, xml.replace('<r xmlns="urn:root"', '<r xmlns:y="urn:y" xmlns="urn:root"')), canonicalization === EXC_C14N);
  }
});
