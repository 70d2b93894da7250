import assert from 'node:assert/strict';
import { test } from 'node:test';
import { keyInfoFirst } from '../../../../src/connectors/saml/validate.ts';
import { generateKeyPair, pemBody } from '../../../helpers/saml-idp.ts';

const [a, b, c] = [generateKeyPair('a'), generateKeyPair('b'), generateKeyPair('c')];
const keyInfo = (pem: string) => `<ds:KeyInfo><ds:X509Data><ds:X509Certificate>${pemBody(pem).replace(/.{64}/g, '$&\n')}</ds:X509Certificate></ds:X509Data></ds:KeyInfo>`;

test('the certificate a signature names goes first; order is all that changes', () => {
  const trusted = [a.certificate, b.certificate];
  assert.deepEqual(keyInfoFirst(trusted, `<r>${keyInfo(b.certificate)}</r>`), [b.certificate, a.certificate]);
  assert.deepEqual(keyInfoFirst(trusted, `<r>${keyInfo(a.certificate)}</r>`), [a.certificate, b.certificate]);
  assert.deepEqual(keyInfoFirst(trusted, '<r/>'), trusted);
  // A KeyInfo certificate nobody configured is never added.
  assert.deepEqual(keyInfoFirst(trusted, `<r>${keyInfo(c.certificate)}</r>`), trusted);
  assert.deepEqual(keyInfoFirst([a.certificate], `<r>${keyInfo(c.certificate)}</r>`), [a.certificate]);
});
