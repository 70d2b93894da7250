import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { loadConfig } from '../../../src/config/load.ts';
import { listConfigKeys } from '../../../src/config/reference.ts';
import { brokerFileSchema, tenantFileSchema } from '../../../src/config/schema.ts';
import { connectorModules } from '../../../src/connectors/registry.ts';
import { parseIdpMetadata } from '../../../src/connectors/saml/idp-metadata.ts';
import { repoRoot } from './helpers.ts';

process.chdir(repoRoot);

const demoWarnings = [
  'config/tenants/contoso.yaml: apps[0] (contoso-daemon): secret: CONTOSO_DAEMON_SECRET is not set, so the demo-only default is used: set it in any real deployment',
  'config/tenants/contoso.yaml: apps[1] (contoso-web): secret: CONTOSO_WEB_SECRET is not set, so the demo-only default is used: set it in any real deployment',
];

test('the example config loads without any environment, warning only about demo secrets', async () => {
  const { config, warnings } = await loadConfig('config', {});
  assert.deepEqual(warnings, demoWarnings);
  assert.equal(config.sourceDir, path.join(repoRoot, 'config'));
  assert.match(config.hash, /^[0-9a-f]{64}$/);

  const { broker } = config;
  assert.equal(broker.port, 3000);
  assert.equal(broker.publicUrl, 'http://localhost:3000');
  assert.equal(broker.dataDir, path.join(repoRoot, 'data'));
  assert.deepEqual(broker.http, { trustProxy: false, shutdownGraceSeconds: 10 });
  assert.equal(broker.storage.backend, 'sqlite');
  assert.equal(broker.storage.sqlite.path, path.join(repoRoot, 'data/portico.db'));
  assert.deepEqual(broker.storage.redis, { mode: 'standalone', keyPrefix: 'portico:', commandTimeoutMs: 2000, connectTimeoutMs: 2000 });
  assert.deepEqual(broker.mail, { transport: 'outbox', from: 'Portico <no-reply@localhost>', outboxDir: path.join(repoRoot, 'data/outbox') });
  assert.deepEqual(broker.keys, { idTokenSigningAlg: 'RS256', accessTokenSigningAlg: 'ES256', rotationCheckSeconds: 30 });
  assert.deepEqual(broker.cookies, { secure: 'auto', sameSite: 'lax' });
  assert.deepEqual(broker.tokens, {
    authorizationCodeSeconds: 60,
    accessTokenSeconds: 3600,
    idTokenSeconds: 3600,
    refreshTokenSeconds: 14 * 24 * 3600,
    clientCredentialsSeconds: 3600,
    sessionSeconds: 14 * 24 * 3600,
    interactionSeconds: 600,
  });
  assert.deepEqual(broker.log, { level: 'info' });
  assert.deepEqual(broker.audit, { retentionDays: 30 });

  assert.equal(config.tenants.length, 1);
  const [contoso] = config.tenants;
  assert.ok(contoso);
  assert.equal(contoso.id, 'contoso');
  assert.equal(contoso.file, 'config/tenants/contoso.yaml');
  assert.equal(contoso.displayName, 'Contoso');
  assert.deepEqual(contoso.domains, ['contoso.example']);
  assert.deepEqual(contoso.apis, [
    { id: 'payroll-api', identifier: 'api://contoso/payroll', name: 'Contoso Payroll', scopes: ['payroll.read', 'payroll.write'] },
  ]);

  const apps = Object.fromEntries(contoso.apps.map((app) => [app.id, app]));
  assert.deepEqual(Object.keys(apps), ['contoso-daemon', 'contoso-web', 'contoso-spa']);
  assert.equal(apps['contoso-daemon']?.type, 'daemon');
  assert.equal(apps['contoso-daemon']?.secret, 'demo-daemon-secret');
  assert.equal(apps['contoso-daemon']?.secretIsDemoDefault, true);
  assert.deepEqual(apps['contoso-daemon']?.grantTypes, ['client_credentials']);
  assert.deepEqual(apps['contoso-daemon']?.apis, ['payroll-api']);
  assert.deepEqual(apps['contoso-daemon']?.redirectUris, []);
  assert.deepEqual(apps['contoso-daemon']?.graphRoles, ['User.Invite.All', 'User.ReadWrite.All', 'AuditLog.Read.All', 'Policy.Read.All']);
  assert.deepEqual(apps['contoso-web']?.graphRoles, []);
  assert.deepEqual(contoso.invitations, { ticketDays: 30, templates: {} });
  assert.deepEqual(contoso.audit, {});

  assert.equal(apps['contoso-web']?.secret, 'demo-web-secret');
  assert.equal(apps['contoso-web']?.secretIsDemoDefault, true);
  assert.deepEqual(apps['contoso-web']?.redirectUris, ['http://localhost:8080/callback']);
  assert.deepEqual(apps['contoso-web']?.postLogoutRedirectUris, ['http://localhost:8080/']);
  assert.deepEqual(apps['contoso-web']?.grantTypes, ['authorization_code', 'refresh_token']);
  assert.deepEqual(apps['contoso-web']?.corsOrigins, []);

  assert.equal(apps['contoso-spa']?.secret, undefined);
  assert.equal(apps['contoso-spa']?.secretIsDemoDefault, false);
  assert.deepEqual(apps['contoso-spa']?.grantTypes, ['authorization_code', 'refresh_token']);
  assert.deepEqual(apps['contoso-spa']?.corsOrigins, ['http://localhost:5173']);
  assert.deepEqual(contoso.apps.map((app) => app.selfServiceSignUp), [false, false, false]);
});

test('the example signs Fabrikam guests in through their SAML IdP, and everyone else by email passcode', async () => {
  const { config } = await loadConfig('config', {});
  const contoso = config.tenants[0];
  assert.ok(contoso);
  assert.deepEqual(contoso.branding, {
    primaryColor: '#0f6cbd',
    backgroundColor: '#f5f5f5',
    textColor: '#242424',
    signInText: 'Contoso staff and invited guests only.',
  });
  assert.deepEqual(contoso.partners, [
    {
      id: 'fabrikam',
      displayName: 'Fabrikam',
      domains: ['fabrikam.com'],
      entraTenantIds: [],
      samlEntityIds: ['https://idp.fabrikam.example/saml'],
      oidcIssuers: [],
      branding: {
        primaryColor: '#c2410c',
        backgroundColor: '#fff7ed',
        textColor: '#431407',
        signInText: 'Fabrikam employees sign in with their Fabrikam account.',
      },
    },
  ]);
  assert.deepEqual(contoso.signIn, { redemptionOrder: ['federation', 'social', 'emailOtp'] });
  assert.deepEqual(contoso.emailOneTimePasscode, { enabled: true });

  const [saml, email, ...rest] = contoso.identityProviders;
  assert.deepEqual(rest, []);
  assert.ok(saml?.kind === 'saml');
  assert.equal(saml.id, 'fabrikam-saml');
  assert.equal(saml.partner, 'fabrikam');
  assert.deepEqual(saml.domains, ['fabrikam.com']);
  assert.equal(saml.entityId, 'https://idp.fabrikam.example/saml');
  assert.equal(saml.metadataFile, 'saml/fabrikam-idp-metadata.xml');
  // The implicit email passcode connector: the kind's own defaults.
  assert.deepEqual(email, connectorModules['email-otp'].schema.parse({ id: 'email', kind: 'email-otp' }));
});

test('the metadata the example ships is a usable DEMO IdP descriptor without any private key', () => {
  const xml = readFileSync(path.join(repoRoot, 'config/saml/fabrikam-idp-metadata.xml'), 'utf8');
  assert.match(xml, /DEMO ONLY/);
  assert.doesNotMatch(xml, /PRIVATE KEY/);
  const descriptor = parseIdpMetadata(xml, 'https://idp.fabrikam.example/saml');
  assert.equal(descriptor.ssoUrl, 'http://localhost:4000/saml/sso');
  assert.equal(descriptor.signingCertificates.length, 1);
  const certificate = new X509Certificate(descriptor.signingCertificates[0]!);
  assert.equal(certificate.subject, 'CN=fabrikam-demo-idp');
  assert.ok(new Date(certificate.validTo).getTime() > Date.now(), 'the demo certificate has expired: generate a new one');
});

test('with the secrets set, the example uses them and does not warn', async () => {
  const { config, warnings } = await loadConfig('config', { CONTOSO_DAEMON_SECRET: 'real-daemon-secret', CONTOSO_WEB_SECRET: 'real-web-secret' });
  assert.deepEqual(warnings, []);
  const apps = config.tenants[0]?.apps ?? [];
  assert.deepEqual(
    apps.map((app) => [app.id, app.secret, app.secretIsDemoDefault]),
    [
      ['contoso-daemon', 'real-daemon-secret', false],
      ['contoso-web', 'real-web-secret', false],
      ['contoso-spa', undefined, false],
    ],
  );
});

test('the example files show every key of the schema', () => {
  const broker = readFileSync(path.join(repoRoot, 'config/portico.yaml'), 'utf8');
  const tenant = readFileSync(path.join(repoRoot, 'config/tenants/contoso.yaml'), 'utf8');
  // Identity provider keys differ by kind: every key of each kind the example uses.
  const usedKinds = [...tenant.matchAll(/^\s*(?:-\s+)?kind:\s*([a-z-]+)/gm)].map((match) => match[1]);
  assert.ok(usedKinds.includes('saml'));
  const shown = (text: string) => (key: string) => text.includes(`${key.split('.').at(-1)?.replace('[]', '')}:`);
  const tenantKeys = listConfigKeys(tenantFileSchema).filter((key) => {
    const kind = /\[kind=([^\]]+)\]/.exec(key)?.[1];
    return kind === undefined || usedKinds.includes(kind);
  });
  const missing = [...listConfigKeys(brokerFileSchema).filter((key) => !shown(broker)(key)), ...tenantKeys.filter((key) => !shown(tenant)(key))];
  assert.deepEqual(missing, [], 'add these keys (commented out if need be) to the example config');
});
