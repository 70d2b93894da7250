/**
 * Every response in test/fixtures/saml/ (made by generate.ts) through the connector, at the
 * manifest's instant on the injected clock, with the outcome the manifest pairs it with. Adding
 * a case needs no code here.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { createSamlConnector } from '../../../../src/connectors/saml/connector.ts';
import { REQUEST_TTL_SECONDS, requestNamespace } from '../../../../src/connectors/saml/request-ids.ts';
import { createValidationPool } from '../../../../src/connectors/saml/validation-pool.ts';
import { FIXTURE_DIR, type FixtureManifest } from '../../../fixtures/saml/generate.ts';
import { refused, samlConfig, testDeps } from './helpers.ts';

const manifest = JSON.parse(readFileSync(join(FIXTURE_DIR, 'manifest.json'), 'utf8')) as FixtureManifest;
const read = (file: string) => readFileSync(join(FIXTURE_DIR, file), 'utf8');
const pool = createValidationPool({ size: 1 });
after(() => pool.close());

test('the fixture set covers the required cases', () => {
  const names = manifest.cases.map((fixture) => fixture.name);
  for (const required of [
    'ok-signed-assertion',
    'ok-signed-response',
    'ok-signed-both',
    'ok-encrypted-assertion',
    'ok-rollover-second-key',
    'replayed',
    'tampered-attribute',
    'wrong-issuer',
    'wrong-destination',
    'wrong-recipient',
    'wrong-audience',
    'expired',
    'not-yet-valid',
    'sha1',
    'doctype',
    'trailing-junk',
    'deep-nesting',
    'unsigned',
    'unknown-key',
    'no-in-response-to',
    'status-authn-failed',
  ]) {
    assert.ok(names.includes(required), `fixture ${required} is missing`);
  }
  assert.equal(new Set(names).size, names.length);
});

for (const fixture of manifest.cases) {
  test(`fixture ${fixture.name}: ${fixture.description} → ${fixture.expect}`, async () => {
    const deps = testDeps({ now: manifest.now, configDir: FIXTURE_DIR, tenantBaseUrl: manifest.spEntityId.replace(/\/saml\/[^/]+$/, '') });
    const { decrypt, ...config } = fixture.config;
    const connector = await createSamlConnector(
      samlConfig({
        id: manifest.connectorId,
        entityId: manifest.idpEntityId,
        metadataFile: manifest.metadataFile,
        domains: manifest.domains,
        ...(decrypt ? { decryptionKey: read(manifest.decryptionKeyFile), decryptionCertificate: read(manifest.decryptionCertificateFile) } : {}),
        ...config,
      }),
      deps,
      { pool },
    );
    // The AuthnRequest this response answers, as `start` would have recorded it.
    assert.ok(await deps.oneTimeIds.remember(requestNamespace(manifest.connectorId), fixture.requestId, REQUEST_TTL_SECONDS));
    const context = { flowId: fixture.flowId, callbackUrl: manifest.acsUrl };
    const post = () =>
      connector.handlePost({ SAMLResponse: Buffer.from(read(fixture.file), 'utf8').toString('base64'), RelayState: fixture.flowId }, { requestId: fixture.requestId }, context);

    if (fixture.expect === 'ok') {
      const identity = await post();
      assert.equal(identity.issuer, manifest.idpEntityId);
      assert.equal(identity.subject, 'f3a9c2e1-7b4d-4e0a-9c1f-fabrikam0001');
      assert.equal(identity.email, 'alice@fabrikam.example');
      assert.equal(identity.emailVerified, true);
      return;
    }
    if (fixture.postTwice) assert.ok(await post());
    await refused(post(), fixture.expect, fixture.messagePattern ? new RegExp(fixture.messagePattern) : undefined);
  });
}

test("the injected clock, not the machine's, decides: the same valid fixture is expired 10 minutes later", async () => {
  const fixture = manifest.cases.find((each) => each.name === 'ok-signed-assertion') ?? assert.fail('fixture missing');
  const deps = testDeps({ now: manifest.now + 600_000, configDir: FIXTURE_DIR });
  const connector = await createSamlConnector(samlConfig({ id: manifest.connectorId, entityId: manifest.idpEntityId, metadataFile: manifest.metadataFile }), deps, { pool });
  await deps.oneTimeIds.remember(requestNamespace(manifest.connectorId), fixture.requestId, REQUEST_TTL_SECONDS);
  await refused(
    connector.handlePost(
      { SAMLResponse: Buffer.from(read(fixture.file)).toString('base64'), RelayState: fixture.flowId },
      { requestId: fixture.requestId },
      { flowId: fixture.flowId, callbackUrl: manifest.acsUrl },
    ),
    'invalid_response',
    /expired/,
  );
});
