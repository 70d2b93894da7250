import assert from 'node:assert/strict';
import { test } from 'node:test';
import { colorProblem, imageUrlProblem, plainTextProblem } from '../../../src/config/branding.ts';
import { loadConfig } from '../../../src/config/load.ts';
import { findSecretPaths, schemaAt, shapeOf } from '../../../src/config/schema-walk.ts';
import { tenantFileSchema } from '../../../src/config/schema.ts';
import { guidProblem, identityProviderSchema } from '../../../src/config/sign-in.ts';
import { connectorModules } from '../../../src/connectors/registry.ts';
import { configFolder, minimalTenant, problemsOf } from './helpers.ts';

const oidcEntry = (id: string, extra = '') => `  - id: ${id}
    kind: oidc
    issuer: https://login.${id}.example
    clientId: portico
    clientSecret: \${env:${id.toUpperCase().replaceAll('-', '_')}_SECRET}
${extra}`;

async function loadTenant(body: string, env: NodeJS.ProcessEnv = {}) {
  const dir = await configFolder({ 'tenants/contoso.yaml': minimalTenant('contoso', body) });
  const { config } = await loadConfig(dir, env);
  const tenant = config.tenants[0];
  assert.ok(tenant);
  return tenant;
}

const defaultEmailOtp = () => connectorModules['email-otp'].schema.parse({ id: 'email', kind: 'email-otp' });

test('a tenant without sign-in keys gets the defaults, email passcodes included', async () => {
  const tenant = await loadTenant('apps:\n  - id: web\n    name: Web\n    type: web\n    secret: ${env:WEB_SECRET}\n    redirectUris: [https://app.contoso.example/cb]\n', { WEB_SECRET: 's' });
  assert.deepEqual(tenant.signIn, { redemptionOrder: ['federation', 'social', 'emailOtp'] });
  assert.deepEqual(tenant.emailOneTimePasscode, { enabled: true });
  assert.deepEqual(tenant.partners, []);
  assert.equal(tenant.branding, undefined);
  assert.deepEqual(tenant.identityProviders, [defaultEmailOtp()]);
  assert.equal(tenant.apps[0]?.selfServiceSignUp, false);
});

test('the implicit email-otp entry comes after the written ones; an explicit one replaces it', async () => {
  const env = { FABRIKAM_SECRET: 'f' };
  const implicit = await loadTenant(`identityProviders:\n${oidcEntry('fabrikam', '    domains: [fabrikam.com]\n')}`, env);
  assert.deepEqual(
    implicit.identityProviders.map((entry) => [entry.id, entry.kind]),
    [
      ['fabrikam', 'oidc'],
      ['email', 'email-otp'],
    ],
  );
  assert.deepEqual(implicit.identityProviders[1], defaultEmailOtp());

  const explicit = await loadTenant(
    `identityProviders:\n  - id: passcode\n    kind: email-otp\n    displayName: Email me a code\n${oidcEntry('fabrikam')}`,
    env,
  );
  assert.deepEqual(
    explicit.identityProviders.map((entry) => [entry.id, entry.kind, entry.displayName]),
    [
      ['passcode', 'email-otp', 'Email me a code'],
      ['fabrikam', 'oidc', undefined],
    ],
  );
});

test('switching email passcodes off leaves only the written identity providers', async () => {
  const off = await loadTenant(`emailOneTimePasscode:\n  enabled: false\nidentityProviders:\n${oidcEntry('fabrikam')}`, { FABRIKAM_SECRET: 'f' });
  assert.deepEqual(off.emailOneTimePasscode, { enabled: false });
  assert.deepEqual(off.identityProviders.map((entry) => entry.id), ['fabrikam']);

  const none = await loadTenant('emailOneTimePasscode:\n  enabled: false\n');
  assert.deepEqual(none.identityProviders, []);
});

test('partners, branding, redemption order and self-service sign-up come through as written', async () => {
  const tenant = await loadTenant(`branding:
  primaryColor: "#0078D4"
  signInText: "Contoso staff: use your work account.\\nGuests: use the account you were invited with."
partners:
  - id: fabrikam
    displayName: Fabrikam
    domains: [fabrikam.com]
    entraTenantIds: [72f988bf-86f1-41af-91ab-2d7cd011db47]
    branding:
      logoUrl: https://cdn.fabrikam.com/logo.svg
      backgroundImageUrl: http://localhost:4000/bg.png
signIn:
  redemptionOrder: [emailOtp, federation]
apps:
  - id: spa
    name: SPA
    type: spa
    redirectUris: [https://spa.contoso.example/cb]
    selfServiceSignUp: true
`);
  assert.deepEqual(tenant.branding, {
    primaryColor: '#0078D4',
    signInText: 'Contoso staff: use your work account.\nGuests: use the account you were invited with.',
  });
  assert.deepEqual(tenant.partners, [
    {
      id: 'fabrikam',
      displayName: 'Fabrikam',
      domains: ['fabrikam.com'],
      entraTenantIds: ['72f988bf-86f1-41af-91ab-2d7cd011db47'],
      samlEntityIds: [],
      oidcIssuers: [],
      branding: { logoUrl: 'https://cdn.fabrikam.com/logo.svg', backgroundImageUrl: 'http://localhost:4000/bg.png' },
    },
  ]);
  assert.deepEqual(tenant.signIn.redemptionOrder, ['emailOtp', 'federation']);
  assert.equal(tenant.apps[0]?.selfServiceSignUp, true);
});

test('a secret of an identity provider is substituted from the environment, and must be set', async () => {
  const tenant = await loadTenant(`identityProviders:\n${oidcEntry('fabrikam')}`, { FABRIKAM_SECRET: 'from-env' });
  const entry = tenant.identityProviders[0];
  assert.equal(entry?.kind, 'oidc');
  assert.equal(entry.kind === 'oidc' ? entry.clientSecret : undefined, 'from-env');

  const dir = await configFolder({ 'tenants/contoso.yaml': minimalTenant('contoso', `identityProviders:\n${oidcEntry('fabrikam')}`) });
  assert.deepEqual(await problemsOf(dir), [
    'tenants/contoso.yaml: identityProviders[0] (fabrikam): clientSecret: environment variable FABRIKAM_SECRET is not set and has no default',
  ]);
});

test('a demo default of an identity provider secret warns like an app secret does', async () => {
  const dir = await configFolder({
    'tenants/contoso.yaml': minimalTenant('contoso', `identityProviders:\n${oidcEntry('fabrikam').replace('_SECRET}', '_SECRET:-demo}')}`),
  });
  const { config, warnings } = await loadConfig(dir, {});
  assert.deepEqual(warnings, [
    `${dir}/tenants/contoso.yaml: identityProviders[0] (fabrikam): clientSecret: FABRIKAM_SECRET is not set, so the demo-only default is used: set it in any real deployment`,
  ]);
  const entry = config.tenants[0]?.identityProviders[0];
  assert.equal(entry?.kind === 'oidc' ? entry.clientSecret : undefined, 'demo');
});

test('sign-in text is limited to 1000 characters', async () => {
  const text = (length: number) => `branding:\n  signInText: "${'x'.repeat(length)}"\n`;
  const tenant = await loadTenant(text(1000));
  assert.equal(tenant.branding?.signInText?.length, 1000);
  const dir = await configFolder({ 'tenants/contoso.yaml': minimalTenant('contoso', text(1001)) });
  assert.deepEqual(await problemsOf(dir), ['tenants/contoso.yaml: branding.signInText: must be at most 1000 characters long']);
});

test('every kind of the connector registry is an accepted identity provider kind', async () => {
  const kinds = Object.keys(connectorModules);
  assert.ok(kinds.length >= 6);
  for (const kind of kinds) {
    const result = identityProviderSchema.safeParse({ id: 'x', kind });
    // The entry may lack its kind's required keys, but the kind itself is never the problem.
    const kindIssues = result.error?.issues.filter((issue) => issue.path.join('.') === 'kind') ?? [];
    assert.deepEqual(kindIssues, [], `kind ${kind} is not accepted`);
  }
  const unknown = identityProviderSchema.safeParse({ id: 'x', kind: 'ldap' });
  assert.deepEqual(unknown.error?.issues.map((issue) => issue.path), [['kind']]);
});

test('the schema walker steps into the union member the entry names', () => {
  const data = { identityProviders: [{ id: 'a', kind: 'oidc' }, { id: 'b', kind: 'nope' }] };
  const oidcKeys = Object.keys(shapeOf(schemaAt(tenantFileSchema, ['identityProviders', 0], data)!) ?? {});
  assert.deepEqual(oidcKeys, Object.keys(shapeOf(connectorModules.oidc.schema) ?? {}));
  assert.ok(oidcKeys.includes('issuer'));
  assert.equal(schemaAt(tenantFileSchema, ['identityProviders', 1], data), undefined);
  assert.equal(schemaAt(tenantFileSchema, ['identityProviders', 0, 'issuer'], data), shapeOf(connectorModules.oidc.schema)?.['issuer']);

  const secrets = findSecretPaths(tenantFileSchema, {
    identityProviders: [
      { id: 'a', kind: 'oidc', clientSecret: 'x' },
      { id: 'b', kind: 'nope', clientSecret: 'x' },
      { id: 'c', kind: 'oidc' },
    ],
  });
  assert.deepEqual(secrets, [['identityProviders', 0, 'clientSecret']]);
});

test('colours are exactly # and six hex digits', () => {
  for (const good of ['#0078d4', '#FFFFFF', '#000000']) assert.equal(colorProblem(good), undefined, good);
  for (const bad of ['#fff', 'red', '0078d4', '#0078d4 ', '#0078d4;}', '#12345g', 'rgb(0,0,0)', '#0078d40']) {
    assert.ok(colorProblem(bad), bad);
  }
});

test('image URLs are https (or loopback http) and cannot escape CSS or HTML', () => {
  for (const good of ['https://cdn.example.com/logo.png', 'http://localhost:4000/a.png', 'http://127.0.0.1/x.svg', 'https://cdn.example.com/a%20b.png?v=2']) {
    assert.equal(imageUrlProblem(good), undefined, good);
  }
  assert.equal(imageUrlProblem('http://cdn.example.com/a.png'), 'must use https (http is allowed only for localhost, 127.0.0.1 and [::1])');
  assert.equal(imageUrlProblem('data:image/png;base64,AAAA'), 'must be an http or https URL');
  assert.equal(imageUrlProblem('/logo.png'), 'must be an absolute URL (like https://cdn.example.com/logo.png)');
  for (const escape of ["https://x.example/a.png');}", 'https://x.example/a.png")', 'https://x.example/a b.png', 'https://x.example/\\a', 'https://x.example/<svg>']) {
    assert.equal(imageUrlProblem(escape), 'must not contain whitespace, quotes, parentheses, backslashes or angle brackets (percent-encode them)', escape);
  }
});

test('sign-in text is plain text without control or direction characters', () => {
  assert.equal(plainTextProblem('Hello,\n\tguests <3 & friends'), undefined);
  assert.match(plainTextProblem('evil\u202Etxt.exe') ?? '', /U\+202E/);
  assert.match(plainTextProblem('bell\u0007') ?? '', /U\+0007/);
  assert.match(plainTextProblem('isolate\u2067') ?? '', /U\+2067/);
  assert.match(plainTextProblem('c1\u0085') ?? '', /U\+0085/);
});

test('Entra tenant ids are lowercase GUIDs', () => {
  assert.equal(guidProblem('72f988bf-86f1-41af-91ab-2d7cd011db47'), undefined);
  assert.equal(guidProblem('72F988BF-86F1-41AF-91AB-2D7CD011DB47'), 'must be lowercase');
  assert.equal(guidProblem('contoso.onmicrosoft.com'), 'must be a GUID like 72f988bf-86f1-41af-91ab-2d7cd011db47');
});
