/**
 * IdP metadata: parsing (rollover certificates, binding, hostile documents) and the three
 * sources: inline, a file in the config folder, and a URL served by the loopback test IdP,
 * refreshed on the injected clock.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { createSamlConnector } from '../../../../src/connectors/saml/connector.ts';
import { MetadataError, parseIdpMetadata } from '../../../../src/connectors/saml/idp-metadata.ts';
import { createValidationPool } from '../../../../src/connectors/saml/validation-pool.ts';
import { ConfigError } from '../../../../src/shared/errors.ts';
import { generateKeyPair, idpMetadataXml, startSamlIdp } from '../../../helpers/saml-idp.ts';
import { ACS, connectorHarness, IDP, refused, samlConfig, testDeps } from './helpers.ts';

const first = generateKeyPair('idp-2026');
const second = generateKeyPair('idp-2027');
const encryption = generateKeyPair('idp-encryption');
const pool = createValidationPool({ size: 1 });
after(() => pool.close());

const pemOf = (pem: string) => pem.replace(/\r\n/g, '\n');

describe('parseIdpMetadata', () => {
  test('takes every signing certificate (rollover), unqualified ones too, never encryption-only ones', () => {
    const third = generateKeyPair('idp-both-uses');
    const xml = idpMetadataXml({
      entityId: IDP,
      ssoUrl: 'https://idp.fabrikam.example/sso',
      signingCertificates: [first.certificate, second.certificate],
      unqualifiedCertificate: third.certificate,
      encryptionCertificate: encryption.certificate,
    });
    const descriptor = parseIdpMetadata(xml, IDP);
    assert.equal(descriptor.ssoUrl, 'https://idp.fabrikam.example/sso');
    assert.deepEqual(descriptor.signingCertificates, [first.certificate, second.certificate, third.certificate].map(pemOf));
  });

  test('finds the entity inside an EntitiesDescriptor, by entityID', () => {
    const one = idpMetadataXml({ entityId: 'https://other.example', ssoUrl: 'https://other.example/sso', signingCertificates: [second.certificate] });
    const two = idpMetadataXml({ entityId: IDP, ssoUrl: 'https://idp.fabrikam.example/sso', signingCertificates: [first.certificate] });
    const strip = (xml: string) => xml.replace(/<\?xml[^>]*\?>\s*/, '').trim();
    const aggregate = `<md:EntitiesDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata">${strip(one)}${strip(two)}</md:EntitiesDescriptor>`;
    assert.deepEqual(parseIdpMetadata(aggregate, IDP).signingCertificates, [pemOf(first.certificate)]);
    assert.throws(() => parseIdpMetadata(aggregate, 'https://missing.example'), /no EntityDescriptor with entityID https:\/\/missing\.example/);
  });

  test('refuses metadata without a redirect binding, with an http SSO URL, without signing keys, or hostile', () => {
    const good = idpMetadataXml({ entityId: IDP, ssoUrl: 'https://idp.fabrikam.example/sso', signingCertificates: [first.certificate] });
    assert.throws(() => parseIdpMetadata(good.replace(/<md:SingleSignOnService[^>]*HTTP-Redirect[^>]*\/>/, ''), IDP), /no HTTP-Redirect/);
    assert.throws(() => parseIdpMetadata(good.replaceAll('https://idp.fabrikam.example/sso', 'http://idp.fabrikam.example/sso'), IDP), /must use https/);
    assert.throws(() => parseIdpMetadata(good.replace('use="signing"', 'use="encryption"'), IDP), /no signing certificate/);
    assert.throws(() => parseIdpMetadata(good.replace(/<ds:X509Certificate>[^<]+/, '<ds:X509Certificate>AAAA'), IDP), /not a valid X\.509/);
    assert.throws(() => parseIdpMetadata(`<!DOCTYPE x [<!ENTITY a "b">]>${good.replace(/<\?xml[^>]*\?>/, '')}`, IDP), (error: unknown) => error instanceof MetadataError && /DOCTYPE/.test(error.message));
    assert.throws(() => parseIdpMetadata(`${good}<junk/>`, IDP), /after the root/);
    assert.throws(() => parseIdpMetadata(good.replace('entityID', 'entityId'), IDP), /no EntityDescriptor/);
  });
});

describe('metadata sources', () => {
  test('a metadata file inside the config folder; outside it or missing is a config error', async () => {
    const configDir = mkdtempSync(join(tmpdir(), 'portico-saml-config-'));
    try {
      mkdirSync(join(configDir, 'saml'));
      writeFileSync(join(configDir, 'saml', 'fabrikam.xml'), idpMetadataXml({ entityId: IDP, ssoUrl: 'https://idp.fabrikam.example/sso', signingCertificates: [first.certificate] }));
      const deps = testDeps({ configDir });
      const { connector, begin } = await connectorHarness({ pool, signingKey: first, deps, config: { ssoUrl: undefined, signingCertificates: undefined, metadataFile: 'saml/fabrikam.xml' } });
      assert.match((await connector.start({ flowId: 'f', callbackUrl: ACS })).redirectUrl, /^https:\/\/idp\.fabrikam\.example\/sso\?SAMLRequest=/);
      const signIn = await begin();
      assert.ok(await signIn.post((await signIn.response()).base64));

      for (const [file, pattern] of [
        ['../outside.xml', /outside the config folder/],
        ['saml/missing.xml', /cannot be read: ENOENT/],
      ] as const) {
        await assert.rejects(
          createSamlConnector(samlConfig({ entityId: IDP, metadataFile: file }), deps, { pool }),
          (error: unknown) => error instanceof ConfigError && pattern.test(error.message) && error.message.includes('connector fabrikam (saml)'),
        );
      }
    } finally {
      rmSync(configDir, { recursive: true, force: true });
    }
  });

  test('a metadata URL: fetched at start, refreshed after metadataRefreshSeconds, a failed refresh keeps the last good copy', async () => {
    const idp = await startSamlIdp({ entityId: IDP, keys: [first] });
    try {
      const deps = testDeps();
      const { begin } = await connectorHarness({
        pool,
        signingKey: first,
        deps,
        config: { ssoUrl: undefined, signingCertificates: undefined, metadataUrl: idp.metadataUrl, metadataRefreshSeconds: 3600 },
      });
      assert.equal(idp.metadataFetches, 1);
      const before = await begin();
      assert.ok(new URL(before.redirectUrl).href.startsWith(idp.ssoUrl));
      assert.ok(await before.post((await before.response()).base64));

      // The IdP publishes its next key; until a refresh, responses signed with it are refused.
      idp.setKeys([first, second], 1);
      const early = await begin();
      await refused(early.post((await early.response({ signingKey: second })).base64), 'invalid_response', /signature/i);
      assert.equal(idp.metadataFetches, 1, 'a signature failure right after a fetch does not fetch again');

      deps.clock.advance(3600_000);
      const after = await begin();
      assert.equal(idp.metadataFetches, 2);
      assert.ok(await after.post((await after.response({ signingKey: second })).base64));

      idp.setMetadataStatus(503);
      deps.clock.advance(3600_000);
      const outage = await begin();
      assert.equal(idp.metadataFetches, 3);
      assert.ok(await outage.post((await outage.response({ signingKey: second })).base64), 'the last good metadata stays in use');
    } finally {
      await idp.close();
    }
  });

  test('a signature failure refetches metadata (at most once a minute), so a rollover takes effect', async () => {
    const idp = await startSamlIdp({ entityId: IDP, keys: [first] });
    try {
      const deps = testDeps();
      const { begin } = await connectorHarness({ pool, signingKey: first, deps, config: { ssoUrl: undefined, signingCertificates: undefined, metadataUrl: idp.metadataUrl } });
      idp.setKeys([second], 0);
      deps.clock.advance(61_000);
      const failed = await begin();
      await refused(failed.post((await failed.response({ signingKey: second })).base64), 'invalid_response', /signature/i);
      const retried = await begin();
      assert.equal(idp.metadataFetches, 2);
      assert.ok(await retried.post((await retried.response({ signingKey: second })).base64));
    } finally {
      await idp.close();
    }
  });

  test('metadata unreachable at start: the connector exists, sign-ins are upstream_unavailable until it loads', async () => {
    const idp = await startSamlIdp({ entityId: IDP, keys: [first] });
    try {
      idp.setMetadataStatus(500);
      const deps = testDeps();
      const connector = await createSamlConnector(samlConfig({ entityId: IDP, metadataUrl: idp.metadataUrl }), deps, { pool });
      await refused(connector.start({ flowId: 'f1', callbackUrl: ACS }), 'upstream_unavailable', /retrying shortly/);
      assert.equal(idp.metadataFetches, 1);
      idp.setMetadataStatus(200);
      deps.clock.advance(60_000);
      assert.ok((await connector.start({ flowId: 'f2', callbackUrl: ACS })).redirectUrl.startsWith(idp.ssoUrl));
    } finally {
      await idp.close();
    }
  });
});
