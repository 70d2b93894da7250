import assert from 'node:assert/strict';
import { test } from 'node:test';
import { z } from 'zod';
import { DEFAULT_ATTRIBUTES, samlConfigSchema } from '../../../../src/connectors/saml/config.ts';
import { samlConnector } from '../../../../src/connectors/saml/index.ts';
import { generateKeyPair } from '../../../helpers/saml-idp.ts';

const certificate = generateKeyPair('config-test').certificate;
const base = { id: 'fabrikam', kind: 'saml', entityId: 'https://idp.fabrikam.example/saml' } as const;
const problems = (entry: Record<string, unknown>): string[] => {
  const result = samlConfigSchema.safeParse({ ...base, ...entry });
  return result.success ? [] : result.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
};

test('the module registers the saml kind with this schema', () => {
  assert.equal(samlConnector.kind, 'saml');
  assert.equal(samlConnector.schema, samlConfigSchema);
});

test('defaults: persistent NameIDs, signed assertions, no SHA-1, 120 s skew, 256 KiB, the usual attribute names', () => {
  const config = samlConfigSchema.parse({ ...base, metadataFile: 'saml/fabrikam.xml' });
  assert.equal(config.nameIdFormat, 'persistent');
  assert.equal(config.wantAssertionsSigned, true);
  assert.equal(config.allowSha1, false);
  assert.equal(config.maxClockSkewSeconds, 120);
  assert.equal(config.maxResponseBytes, 262_144);
  assert.equal(config.metadataRefreshSeconds, 86_400);
  assert.deepEqual(config.domains, []);
  assert.deepEqual(config.attributes, {
    email: [...DEFAULT_ATTRIBUTES.email],
    name: [...DEFAULT_ATTRIBUTES.name],
    givenName: [...DEFAULT_ATTRIBUTES.givenName],
    surname: [...DEFAULT_ATTRIBUTES.surname],
  });
});

test('exactly one source of IdP metadata', () => {
  assert.deepEqual(problems({ metadataUrl: 'https://idp.fabrikam.example/metadata' }), []);
  assert.deepEqual(problems({ ssoUrl: 'https://idp.fabrikam.example/sso', signingCertificates: [certificate, certificate] }), []);
  assert.deepEqual(problems({}), ['metadataFile: give exactly one of metadataFile, metadataUrl, or ssoUrl with signingCertificates']);
  assert.deepEqual(problems({ metadataFile: 'a.xml', metadataUrl: 'https://idp.fabrikam.example/metadata' }), [
    'metadataFile: give exactly one of metadataFile, metadataUrl, or ssoUrl with signingCertificates',
  ]);
  assert.deepEqual(problems({ ssoUrl: 'https://idp.fabrikam.example/sso' }), ['signingCertificates: ssoUrl and signingCertificates go together']);
  assert.deepEqual(problems({ signingCertificates: [certificate] }), ['ssoUrl: ssoUrl and signingCertificates go together']);
});

test('URLs must be https except on loopback; certificates must be PEM', () => {
  assert.match(problems({ metadataUrl: 'http://idp.fabrikam.example/metadata' }).join(), /metadataUrl: must use https/);
  assert.deepEqual(problems({ metadataUrl: 'http://127.0.0.1:4000/metadata?appid=1' }), []);
  assert.match(problems({ ssoUrl: 'https://user:pw@idp.example/sso', signingCertificates: [certificate] }).join(), /user name or password/);
  assert.match(problems({ ssoUrl: 'https://idp.example/sso', signingCertificates: ['MIIB...'] }).join(), /signingCertificates\.0: must be one PEM certificate/);
});

test('decryptionKey and decryptionCertificate go together; the key is a secret', () => {
  const key = generateKeyPair('config-test-sp');
  assert.deepEqual(problems({ metadataFile: 'a.xml', decryptionKey: key.privateKey, decryptionCertificate: key.certificate }), []);
  assert.deepEqual(problems({ metadataFile: 'a.xml', decryptionKey: key.privateKey }), ['decryptionCertificate: decryptionKey and decryptionCertificate go together']);
  assert.match(problems({ metadataFile: 'a.xml', decryptionKey: 'secret', decryptionCertificate: key.certificate }).join(), /decryptionKey: must be a PEM private key/);
  const meta = z.globalRegistry.get(samlConfigSchema.shape.decryptionKey) as { secret?: boolean } | undefined;
  assert.equal(meta?.secret, true);
});

test('bounds and unknown keys', () => {
  assert.match(problems({ metadataFile: 'a.xml', maxClockSkewSeconds: 301 }).join(), /maxClockSkewSeconds/);
  assert.match(problems({ metadataFile: 'a.xml', nameIdFormat: 'transient' }).join(), /nameIdFormat/);
  assert.match(problems({ metadataFile: 'a.xml', entityID: 'x' }).join(), /entityID/);
  assert.match(problems({ metadataFile: 'a.xml', attributes: { mail: ['x'] } }).join(), /attributes/);
});

test('every key is described', () => {
  const undocumented = Object.entries(samlConfigSchema.shape).filter(([, schema]) => !(z.globalRegistry.get(schema) as { description?: string } | undefined)?.description);
  assert.deepEqual(
    undocumented.map(([key]) => key),
    [],
  );
});
