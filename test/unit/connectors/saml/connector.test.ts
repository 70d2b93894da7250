/**
 * The saml connector end to end against real parts: responses signed by xml-crypto (the test
 * IdP's builder), validation in a real worker pool, single-use ids in a real memory store, time
 * on a manual clock.
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { inflateRawSync } from 'node:zlib';
import { createValidationPool } from '../../../../src/connectors/saml/validation-pool.ts';
import { ATTRIBUTE, AUTHN_CONTEXT, generateKeyPair, NAMEID_FORMAT, parseAuthnRequest, STATUS } from '../../../helpers/saml-idp.ts';
import { ACS, connectorHarness, IDP, refused, SP } from './helpers.ts';

const idpKey = generateKeyPair('fabrikam-idp');
const nextKey = generateKeyPair('fabrikam-idp-2027');
const strangerKey = generateKeyPair('stranger');
const spKey = generateKeyPair('portico-sp-encryption');
const pool = createValidationPool({ size: 1 });
after(() => pool.close());

const harness = (config: Record<string, unknown> = {}) => connectorHarness({ pool, signingKey: idpKey, config });

describe('start', () => {
  test('redirects to the SSO URL with a deflated AuthnRequest whose id is remembered and returned', async () => {
    const { connector } = await harness();
    const { redirectUrl, state } = await connector.start({ flowId: 'flow-start', callbackUrl: ACS });
    const url = new URL(redirectUrl);
    assert.equal(`${url.origin}${url.pathname}`, 'https://idp.fabrikam.example/saml/sso');
    assert.equal(url.searchParams.get('RelayState'), 'flow-start');
    assert.equal(url.searchParams.get('Signature'), null);
    const request = parseAuthnRequest(url.searchParams.get('SAMLRequest') ?? '', undefined);
    assert.equal(request.id, state['requestId']);
    assert.equal(request.acsUrl, ACS);
    assert.equal(request.spEntityId, SP);
    assert.equal(request.nameIdFormat, NAMEID_FORMAT.persistent);
    assert.doesNotMatch(request.xml, /RequestedAuthnContext/);
    assert.match(request.xml, /ProtocolBinding="urn:oasis:names:tc:SAML:2\.0:bindings:HTTP-POST"/);
  });

  test('asks for the configured authentication context and NameID format', async () => {
    const { connector } = await harness({ requestedAuthnContext: [AUTHN_CONTEXT.refedsMfa], nameIdFormat: 'emailAddress' });
    const { redirectUrl } = await connector.start({ flowId: 'flow-mfa', callbackUrl: ACS });
    const xml = inflateRawSync(Buffer.from(new URL(redirectUrl).searchParams.get('SAMLRequest') ?? '', 'base64')).toString();
    assert.match(xml, /<samlp:RequestedAuthnContext[^>]*Comparison="exact"><saml:AuthnContextClassRef[^>]*>https:\/\/refeds\.org\/profile\/mfa</);
    assert.match(xml, /Format="urn:oasis:names:tc:SAML:1\.1:nameid-format:emailAddress"/);
  });
});

describe('accepted responses', () => {
  test('signed assertion: the identity, keyed on the NameID, with the mapped claims', async () => {
    const { begin } = await harness();
    const signIn = await begin();
    const response = await signIn.response({
      authnContextClassRef: AUTHN_CONTEXT.password,
      user: {
        nameId: 'a1b2c3',
        attributes: {
          [ATTRIBUTE.mail]: ' Alice.Smith@Fabrikam.Example ',
          [ATTRIBUTE.displayName]: 'Alice Smith',
          [ATTRIBUTE.givenName]: 'Alice',
          [ATTRIBUTE.surname]: 'Smith',
          'urn:example:groups': ['g1', 'g2'],
        },
      },
    });
    assert.deepEqual(await signIn.post(response.base64), {
      connectorId: 'fabrikam',
      kind: 'saml',
      issuer: IDP,
      subject: 'a1b2c3',
      idp: IDP,
      email: 'Alice.Smith@fabrikam.example',
      emailVerified: true,
      name: 'Alice Smith',
      givenName: 'Alice',
      familyName: 'Smith',
      homeTenantId: IDP,
      amr: ['pwd'],
      acr: AUTHN_CONTEXT.password,
      rawClaims: {
        [ATTRIBUTE.mail]: ' Alice.Smith@Fabrikam.Example ',
        [ATTRIBUTE.displayName]: 'Alice Smith',
        [ATTRIBUTE.givenName]: 'Alice',
        [ATTRIBUTE.surname]: 'Smith',
        'urn:example:groups': ['g1', 'g2'],
      },
    });
  });

  test('signed Response only, when wantAssertionsSigned is off', async () => {
    const { begin } = await harness({ wantAssertionsSigned: false });
    const signIn = await begin();
    const identity = await signIn.post((await signIn.response({ sign: { response: true, assertion: false } })).base64);
    assert.equal(identity.subject, 'f3a9c2e1-fabrikam-0001');
  });

  test('Response and assertion both signed', async () => {
    const { begin } = await harness();
    const signIn = await begin();
    const identity = await signIn.post((await signIn.response({ sign: { response: true, assertion: true } })).base64);
    assert.equal(identity.email, 'alice@fabrikam.example');
  });

  test('encrypted assertion (RSA-OAEP + AES-256-GCM, and AES-256-CBC), decrypted with the configured key', async () => {
    const { begin } = await harness({ decryptionKey: spKey.privateKey, decryptionCertificate: spKey.certificate });
    for (const encryptionAlgorithm of ['http://www.w3.org/2009/xmlenc11#aes256-gcm', 'http://www.w3.org/2001/04/xmlenc#aes256-cbc'] as const) {
      const signIn = await begin();
      const response = await signIn.response({ encryptFor: spKey.certificate, encryptionAlgorithm, sign: { response: true, assertion: true } });
      assert.doesNotMatch(response.xml, /alice@fabrikam/);
      assert.equal((await signIn.post(response.base64)).email, 'alice@fabrikam.example');
    }
  });

  test('key rollover: both certificates trusted, the second one signs', async () => {
    const { begin } = await harness({ signingCertificates: [idpKey.certificate, nextKey.certificate] });
    for (const signingKey of [idpKey, nextKey]) {
      const signIn = await begin();
      assert.equal((await signIn.post((await signIn.response({ signingKey })).base64)).subject, 'f3a9c2e1-fabrikam-0001');
    }
  });

  test('a 10 KB response with many attributes', async () => {
    const { begin } = await harness();
    const signIn = await begin();
    const response = await signIn.response({ padToBytes: 10 * 1024, sign: { response: true, assertion: true } });
    assert.ok(response.xml.length >= 10 * 1024 && response.xml.length < 13 * 1024, `size ${response.xml.length}`);
    const identity = await signIn.post(response.base64);
    const filler = Object.keys(identity.rawClaims).filter((name) => name.startsWith('urn:example:entitlement:'));
    assert.ok(filler.length > 20, `${filler.length} filler attributes`);
    assert.equal(identity.rawClaims['urn:example:entitlement:0'], 'urn:example:group:00000000:member');
  });

  test('base64 wrapped in lines, as some IdPs post it', async () => {
    const { begin } = await harness();
    const signIn = await begin();
    const wrapped = (await signIn.response()).base64.replace(/.{76}/g, '$&\r\n');
    assert.equal((await signIn.post(wrapped)).subject, 'f3a9c2e1-fabrikam-0001');
  });

  test('times within the clock skew pass on the injected clock', async () => {
    const { begin, deps } = await harness({ maxClockSkewSeconds: 120 });
    const early = await begin();
    const notYet = await early.response({ now: deps.clock.now() + 100_000 });
    assert.ok(await early.post(notYet.base64));
    const late = await begin();
    const expiring = await late.response({ lifetimeSeconds: 60 });
    deps.clock.advance(170_000);
    assert.ok(await late.post(expiring.base64));
  });
});

describe('claims', () => {
  test('an email outside the connector domains is carried but not verified', async () => {
    const { begin } = await harness();
    const signIn = await begin();
    const identity = await signIn.post((await signIn.response({ user: { nameId: 'x1', attributes: { [ATTRIBUTE.mail]: 'ceo@contoso.example' } } })).base64);
    assert.equal(identity.email, 'ceo@contoso.example');
    assert.equal(identity.emailVerified, false);
  });

  test('the NameID gives the email when its format is emailAddress and no attribute does', async () => {
    const { begin } = await harness({ nameIdFormat: 'emailAddress' });
    const signIn = await begin();
    const identity = await signIn.post((await signIn.response({ user: { nameId: 'bob@fabrikam.example', nameIdFormat: NAMEID_FORMAT.emailAddress } })).base64);
    assert.equal(identity.subject, 'bob@fabrikam.example');
    assert.equal(identity.email, 'bob@fabrikam.example');
    assert.equal(identity.emailVerified, true);
  });

  test('unsafe email values are dropped, not repaired', async () => {
    const { begin } = await harness();
    for (const value of ['alice@fabrikam.example\r\nBcc: x@y.z', 'аlice@fabrikam.example', 'alice@fаbrikam.example', 'not-an-email']) {
      const signIn = await begin();
      const identity = await signIn.post((await signIn.response({ user: { nameId: 'x2', attributes: { [ATTRIBUTE.mail]: value } } })).base64);
      assert.equal(identity.email, undefined, value);
      assert.equal(identity.emailVerified, false);
    }
  });

  test('amr from REFEDS MFA and Entra authnmethodsreferences, acr as sent', async () => {
    const { begin } = await harness();
    const mfa = await begin();
    const identity = await mfa.post((await mfa.response({ authnContextClassRef: AUTHN_CONTEXT.refedsMfa })).base64);
    assert.deepEqual([identity.amr, identity.acr], [['mfa'], AUTHN_CONTEXT.refedsMfa]);
    const entra = await begin();
    const entraIdentity = await entra.post(
      (
        await entra.response({
          authnContextClassRef: 'urn:oasis:names:tc:SAML:2.0:ac:classes:Password',
          user: {
            nameId: 'x3',
            attributes: {
              'http://schemas.microsoft.com/claims/authnmethodsreferences': [
                'http://schemas.microsoft.com/ws/2008/06/identity/authenticationmethod/password',
                'http://schemas.microsoft.com/claims/multipleauthn',
              ],
            },
          },
        })
      ).base64,
    );
    assert.deepEqual(entraIdentity.amr, ['pwd', 'mfa']);
    const unknown = await begin();
    assert.deepEqual((await unknown.post((await unknown.response({ authnContextClassRef: 'urn:example:custom' })).base64)).amr, []);
  });

  test('device claims come from the configured attributes only', async () => {
    const { begin } = await harness({ attributes: { compliant: ['urn:example:compliant'], hybridJoined: ['urn:example:joined'] } });
    const signIn = await begin();
    const identity = await signIn.post(
      (await signIn.response({ user: { nameId: 'x4', attributes: { 'urn:example:compliant': 'TRUE', 'urn:example:joined': 'false' } } })).base64,
    );
    assert.deepEqual(identity.device, { compliant: true, hybridJoined: false });
    const { begin: beginPlain } = await harness();
    const plain = await beginPlain();
    const noDevice = await plain.post((await plain.response({ user: { nameId: 'x5', attributes: { 'urn:example:compliant': 'true' } } })).base64);
    assert.equal(noDevice.device, undefined);
  });
});

describe('refused responses', () => {
  test('an attribute changed after signing', async () => {
    const { begin } = await harness();
    const signIn = await begin();
    const response = await signIn.response({ alterAttributeAfterSigning: { name: ATTRIBUTE.mail, value: 'mallory@fabrikam.example' } });
    await refused(signIn.post(response.base64), 'invalid_response', /signature/i);
  });

  test('a Response signed by a trusted key under another IdP name (node-saml does not check the Issuer)', async () => {
    const { begin } = await harness();
    const both = await begin();
    await refused(both.post((await both.response({ issuer: 'https://idp.tailspin.example' })).base64), 'invalid_response', /Issuer .* not the configured IdP/);
    const assertionOnly = await begin();
    await refused(
      assertionOnly.post((await assertionOnly.response({ assertionIssuer: 'https://idp.tailspin.example' })).base64),
      'invalid_response',
      /Assertion Issuer/,
    );
    const responseOnly = await begin();
    await refused(
      responseOnly.post((await responseOnly.response({ responseIssuer: 'https://idp.tailspin.example' })).base64),
      'invalid_response',
      /Response Issuer/,
    );
  });

  test('wrong Destination, Recipient or Audience', async () => {
    const { begin } = await harness();
    const destination = await begin();
    await refused(destination.post((await destination.response({ destination: 'https://other.example/acs' })).base64), 'invalid_response', /Destination/);
    const recipient = await begin();
    await refused(recipient.post((await recipient.response({ recipient: 'https://other.example/acs' })).base64), 'invalid_response', /Recipient/);
    const audience = await begin();
    await refused(audience.post((await audience.response({ audience: 'https://other-sp.example' })).base64), 'invalid_response', /audience/i);
  });

  test('a signed Response must name its Destination', async () => {
    const { begin } = await harness();
    const signIn = await begin();
    const response = await signIn.response({ destination: null, sign: { response: true, assertion: true } });
    await refused(signIn.post(response.base64), 'invalid_response', /signed Response without Destination/);
    const unsigned = await begin();
    assert.ok(await unsigned.post((await unsigned.response({ destination: null })).base64), 'an unsigned Response may leave it out');
  });

  test('expired and not yet valid, on the injected clock', async () => {
    const { begin, deps } = await harness({ maxClockSkewSeconds: 60 });
    const expired = await begin();
    const old = await expired.response({ lifetimeSeconds: 300 });
    deps.clock.advance(361_000);
    await refused(expired.post(old.base64), 'invalid_response', /expired/);
    const future = await begin();
    await refused(future.post((await future.response({ now: deps.clock.now() + 61_000 })).base64), 'invalid_response', /not yet valid|future/);
  });

  test('SHA-1, unless allowSha1', async () => {
    const { begin } = await harness();
    const signIn = await begin();
    await refused(signIn.post((await signIn.response({ algorithm: 'sha1' })).base64), 'invalid_response', /SHA-1/);
    const legacy = await harness({ allowSha1: true });
    const allowed = await legacy.begin();
    assert.ok(await allowed.post((await allowed.response({ algorithm: 'sha1' })).base64));
  });

  test('DOCTYPE, trailing junk and deep nesting, though correctly signed', async () => {
    const { begin } = await harness();
    const doctype = await begin();
    await refused(doctype.post((await doctype.response({ doctype: true })).base64), 'invalid_response', /DOCTYPE|entity/);
    const trailing = await begin();
    await refused(trailing.post((await trailing.response({ trailing: '<junk/>' })).base64), 'invalid_response', /after the root/);
    const text = await begin();
    await refused(text.post((await text.response({ trailing: 'junk' })).base64), 'invalid_response', /after the root/);
    const deep = await begin();
    await refused(deep.post((await deep.response({ nestingDepth: 100 })).base64), 'invalid_response', /nested deeper than 64/);
  });

  test('unsigned, or signed by an unknown key', async () => {
    const { begin } = await harness();
    const unsigned = await begin();
    await refused(unsigned.post((await unsigned.response({ sign: { assertion: false } })).base64), 'invalid_response', /signature/i);
    const stranger = await begin();
    await refused(stranger.post((await stranger.response({ signingKey: strangerKey })).base64), 'invalid_response', /signature/i);
  });

  test('only the Response signed while wantAssertionsSigned is on', async () => {
    const { begin } = await harness();
    const signIn = await begin();
    await refused(signIn.post((await signIn.response({ sign: { response: true, assertion: false } })).base64), 'invalid_response', /signature/i);
  });

  test('a Response signature that does not verify, even with a good assertion signature', async () => {
    const { begin } = await harness();
    const signIn = await begin();
    const response = await signIn.response({ sign: { response: true, assertion: true } });
    // Re-point the Destination after signing: the Response signature breaks, the assertion's holds.
    const tampered = response.xml.replace(`Destination="${ACS}"`, `Destination="${ACS}" Consent="urn:oasis:names:tc:SAML:2.0:consent:obtained"`);
    await refused(signIn.post(Buffer.from(tampered).toString('base64')), 'invalid_response', /Response signature does not verify/);
  });

  test('signature wrapping: a second assertion beside the signed one, or the signed one hidden inside a forged one', async () => {
    const { begin } = await harness();
    const beside = await begin();
    const genuine = await beside.response();
    const forged = (await beside.response({ sign: { assertion: false }, user: { nameId: 'admin', attributes: { [ATTRIBUTE.mail]: 'admin@fabrikam.example' } } })).xml;
    const forgedAssertion = /<saml:Assertion[\s\S]*<\/saml:Assertion>/.exec(forged)?.[0] ?? assert.fail('no assertion');
    const twoAssertions = genuine.xml.replace('</samlp:Response>', `${forgedAssertion}</samlp:Response>`);
    await refused(beside.post(Buffer.from(twoAssertions).toString('base64')), 'invalid_response', /exactly one assertion/);

    const inside = await begin();
    const signedAssertion = /<saml:Assertion[\s\S]*<\/saml:Assertion>/.exec((await inside.response()).xml)?.[0] ?? assert.fail('no assertion');
    const outer = (await inside.response({ sign: { assertion: false }, user: { nameId: 'admin' } })).xml;
    const hidden = outer.replace('</saml:Subject>', `</saml:Subject><saml:Advice>${signedAssertion}</saml:Advice>`);
    await refused(inside.post(Buffer.from(hidden).toString('base64')), 'invalid_response', /signature/i);
  });

  test('a comment spliced into the signed NameID (exclusive c14n ignores comments)', async () => {
    const { begin } = await harness();
    const signIn = await begin();
    const response = await signIn.response({ user: { nameId: 'alice@fabrikam.example.evil.example' } });
    const spliced = response.xml.replace('alice@fabrikam.example.evil.example<', 'alice@fabrikam.example<!---->.evil.example<');
    await refused(signIn.post(Buffer.from(spliced).toString('base64')), 'invalid_response', /comment/);
  });

  test('IdP-initiated (no InResponseTo) and answers to another request', async () => {
    const { begin } = await harness();
    const unsolicited = await begin();
    await refused(unsolicited.post((await unsolicited.response({ requestId: null })).base64), 'invalid_response', /IdP-initiated/);
    const other = await begin();
    await refused(other.post((await other.response({ requestId: '_someone-elses-request' })).base64), 'invalid_response', /does not answer/);
    const subject = await begin();
    await refused(
      subject.post((await subject.response({ subjectInResponseTo: '_someone-elses-request' })).base64),
      'invalid_response',
      /InResponseTo/,
    );
  });

  test("a response to another request does not burn this sign-in's request id", async () => {
    const { begin } = await harness();
    const signIn = await begin();
    await refused(signIn.post((await signIn.response({ requestId: '_other' })).base64), 'invalid_response');
    assert.ok(await signIn.post((await signIn.response()).base64));
  });

  test('IdP status failures are upstream_denied, signed or not', async () => {
    const { begin } = await harness();
    const failed = await begin();
    await refused(
      failed.post((await failed.response({ status: { code: STATUS.responder, subCode: STATUS.authnFailed, message: 'Wrong password\r\nagain' } })).base64),
      'upstream_denied',
      /Responder\/AuthnFailed: Wrong password again$/,
    );
    const denied = await begin();
    await refused(
      denied.post((await denied.response({ status: { code: STATUS.requester, subCode: STATUS.requestDenied }, sign: { response: true } })).base64),
      'upstream_denied',
      /Requester\/RequestDenied/,
    );
    // The request is over: a success for it afterwards is refused.
    await refused(failed.post((await failed.response()).base64), 'invalid_response', /InResponseTo is not valid/);
  });

  test('NameID: transient, or another format than configured', async () => {
    const { begin } = await harness();
    const transient = await begin();
    await refused(transient.post((await transient.response({ user: { nameId: 'tmp-1', nameIdFormat: NAMEID_FORMAT.transient } })).base64), 'incomplete_identity', /transient/);
    const email = await begin();
    await refused(
      email.post((await email.response({ user: { nameId: 'alice@fabrikam.example', nameIdFormat: NAMEID_FORMAT.emailAddress } })).base64),
      'incomplete_identity',
      /format/,
    );
    const { begin: beginAny } = await harness({ nameIdFormat: 'unspecified' });
    const any = await beginAny();
    assert.ok(await any.post((await any.response({ user: { nameId: 'alice@fabrikam.example', nameIdFormat: NAMEID_FORMAT.emailAddress } })).base64));
    const anyTransient = await beginAny();
    await refused(anyTransient.post((await anyTransient.response({ user: { nameId: 'tmp-2', nameIdFormat: NAMEID_FORMAT.transient } })).base64), 'incomplete_identity');
  });

  test('encrypted assertions: no key configured, RSA 1.5 key transport, hostile plaintext', async () => {
    const { begin } = await harness();
    const noKey = await begin();
    await refused(noKey.post((await noKey.response({ encryptFor: spKey.certificate })).base64), 'invalid_response', /no decryptionKey/);
    const { begin: beginWithKey } = await harness({ decryptionKey: spKey.privateKey, decryptionCertificate: spKey.certificate });
    const rsa15 = await beginWithKey();
    await refused(
      rsa15.post((await rsa15.response({ encryptFor: spKey.certificate, keyEncryptionAlgorithm: 'http://www.w3.org/2001/04/xmlenc#rsa-1_5' })).base64),
      'invalid_response',
      /not secure/,
    );
    // Anyone holding the SP's public certificate can encrypt: the plaintext gets the same guard.
    const deep = await beginWithKey();
    await refused(deep.post((await deep.response({ encryptFor: spKey.certificate, nestingDepth: 100 })).base64), 'invalid_response', /decrypted assertion refused.*nested/);
  });

  test('bodies that are too large, not base64, not UTF-8 or not a Response', async () => {
    const { begin } = await harness({ maxResponseBytes: 8192 });
    const large = await begin();
    await refused(large.post((await large.response({ padToBytes: 12_000 })).base64), 'invalid_response', /larger than 8192/);
    await refused(large.post('A'.repeat(50_000)), 'invalid_response', /larger than 8192/);
    const garbage = await begin();
    await refused(garbage.post('PHNhbWxwOlJlc3BvbnNlPjwvc2FtbHA6UmVzcG9uc2U+*'), 'invalid_response', /not valid base64/);
    await refused(garbage.post('PHI+PC9yPh=='), 'invalid_response', /canonical/);
    await refused(garbage.post(Buffer.from([0x3c, 0x72, 0xff, 0x3e]).toString('base64')), 'invalid_response', /UTF-8/);
    await refused(garbage.post(Buffer.from('<r/>').toString('base64')), 'invalid_response', /not a SAML 2.0 Response/);
    const noStatus = (await garbage.response()).xml.replace(/<samlp:Status>.*?<\/samlp:Status>/, '');
    await refused(garbage.post(Buffer.from(noStatus).toString('base64')), 'invalid_response', /no Status/);
  });

  test('a RelayState of another sign-in, or no pending request', async () => {
    const { connector, begin } = await harness();
    const signIn = await begin();
    const response = await signIn.response();
    await refused(signIn.post(response.base64, 'another-flow'), 'invalid_response', /RelayState/);
    await refused(connector.handlePost({ SAMLResponse: response.base64, RelayState: signIn.context.flowId }, {}, signIn.context), 'invalid_response', /no SAML request/);
    assert.ok(await signIn.post(response.base64), 'neither refusal consumed the request');
  });
});

describe('replay', () => {
  test('the same response posted twice: the second is refused', async () => {
    const { begin } = await harness();
    const signIn = await begin();
    const response = await signIn.response();
    assert.ok(await signIn.post(response.base64));
    await refused(signIn.post(response.base64), 'invalid_response', /InResponseTo is not valid/);
  });

  test('two POSTs of one response at the same moment: exactly one wins', async () => {
    const { begin } = await harness();
    for (let round = 0; round < 5; round += 1) {
      const signIn = await begin();
      const response = await signIn.response({ sign: { response: true, assertion: true } });
      const results = await Promise.allSettled([signIn.post(response.base64), signIn.post(response.base64), signIn.post(response.base64)]);
      assert.equal(results.filter((result) => result.status === 'fulfilled').length, 1);
      for (const result of results) if (result.status === 'rejected') assert.equal((result.reason as { code: string }).code, 'invalid_response');
    }
  });

  test('a signed assertion without SubjectConfirmationData/@InResponseTo rewrapped for a new request', async () => {
    const { begin } = await harness();
    const victim = await begin();
    const original = await victim.response({ subjectInResponseTo: null });
    assert.ok(await victim.post(original.base64));
    // The attacker starts their own sign-in and moves the captured assertion into a fresh, unsigned envelope.
    const attacker = await begin();
    const rewrapped = original.xml.replace(`InResponseTo="${victim.requestId}"`, `InResponseTo="${attacker.requestId}"`);
    await refused(attacker.post(Buffer.from(rewrapped).toString('base64')), 'invalid_response', /assertion already used/);
  });
});

test('SP metadata: entity id, ACS with HTTP-POST, NameID format, no signed requests, the encryption certificate', async () => {
  const { connector } = await harness({ decryptionKey: spKey.privateKey, decryptionCertificate: spKey.certificate });
  const xml = connector.metadata();
  assert.match(xml, new RegExp(`entityID="${SP}"`));
  assert.match(xml, new RegExp(`<AssertionConsumerService[^>]*Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="${ACS}"`));
  assert.match(xml, /AuthnRequestsSigned="false"/);
  assert.match(xml, /WantAssertionsSigned="true"/);
  assert.match(xml, /<NameIDFormat>urn:oasis:names:tc:SAML:2.0:nameid-format:persistent<\/NameIDFormat>/);
  const body = spKey.certificate.replace(/-----(BEGIN|END) CERTIFICATE-----|\s/g, '');
  assert.ok(xml.replace(/\s/g, '').includes(body), 'the encryption certificate is published');
  assert.match(xml, /use="encryption"/);
  assert.doesNotMatch(xml, /PRIVATE KEY/);
  const { connector: plain } = await harness();
  assert.doesNotMatch(plain.metadata(), /KeyDescriptor/);
});
