/**
 * The loopback SAML IdP as a browser meets it (fetch stands in for the browser: these pages have
 * no script, so following their forms by hand is exactly what a browser does): the redirect from
 * `start`, the login form, the page that posts the Response back, and the connector accepting it.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { deflateRawSync } from 'node:zlib';
import { createValidationPool } from '../../../../src/connectors/saml/validation-pool.ts';
import { AUTHN_CONTEXT, startSamlIdp, type SamlIdp } from '../../../helpers/saml-idp.ts';
import { ACS, connectorHarness, refused } from './helpers.ts';

const pool = createValidationPool({ size: 1 });
let idp: SamlIdp;
before(async () => {
  idp = await startSamlIdp({ users: [{ email: 'alice@fabrikam.example', name: 'Alice Smith', attributes: { 'urn:example:department': 'Sales' } }] });
});
after(async () => {
  await idp.close();
  await pool.close();
});

/** The named inputs of the page's (single) form, its action and its submit buttons. */
function readForm(html: string): { action: string; fields: Record<string, string>; buttons: string[] } {
  const form = /<form method="post" action="([^"]*)">([\s\S]*?)<\/form>/.exec(html);
  assert.ok(form, 'the page has a POST form');
  const unescape = (value: string) => value.replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
  const fields: Record<string, string> = {};
  for (const match of (form[2] ?? '').matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)) fields[match[1] ?? ''] = unescape(match[2] ?? '');
  const buttons = [...(form[2] ?? '').matchAll(/<button[^>]*>([^<]*)<\/button>/g)].map((match) => match[1] ?? '');
  return { action: unescape(form[1] ?? ''), fields, buttons };
}

async function loginPage(redirectUrl: string): Promise<{ html: string; response: Response }> {
  const response = await fetch(redirectUrl);
  return { html: await response.text(), response };
}

async function submitLogin(html: string, values: Record<string, string>): Promise<string> {
  const form = readForm(html);
  const response = await fetch(new URL(form.action, idp.url), { method: 'POST', body: new URLSearchParams({ ...form.fields, ...values }) });
  assert.equal(response.status, 200);
  return response.text();
}

test('publishes its metadata with its signing certificates', async () => {
  const response = await fetch(idp.metadataUrl);
  assert.equal(response.status, 200);
  const xml = await response.text();
  assert.match(xml, new RegExp(`entityID="${idp.entityId}"`));
  assert.match(xml, new RegExp(`Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="${idp.ssoUrl}"`));
  assert.equal(xml.match(/use="signing"/g)?.length, 1);
});

test('SP-initiated sign-in: redirect, script-free login form, a "Continue" form back to the ACS, an identity', async () => {
  const { begin } = await connectorHarness({ pool, signingKey: idp.activeKey, config: { entityId: idp.entityId, ssoUrl: idp.ssoUrl } });
  const signIn = await begin('flow-browser');

  const { html, response } = await loginPage(signIn.redirectUrl);
  assert.equal(response.status, 200);
  assert.match(response.headers.get('content-security-policy') ?? '', /default-src 'none'/);
  assert.doesNotMatch(html, /<script|onload=|javascript:/i);
  assert.match(html, /<label for="email">Email address<\/label> <input id="email" name="email"/);
  assert.match(html, /<label for="method">Sign-in method<\/label>/);
  assert.equal(idp.requests.at(-1)?.id, signIn.requestId);
  assert.equal(idp.requests.at(-1)?.acsUrl, ACS);

  const posting = await submitLogin(html, { email: 'alice@fabrikam.example', method: 'mfa', action: 'signin' });
  assert.doesNotMatch(posting, /<script|onload=/i);
  const form = readForm(posting);
  assert.equal(form.action, ACS);
  assert.deepEqual(form.buttons, ['Continue']);
  assert.equal(form.fields['RelayState'], 'flow-browser');

  const identity = await signIn.post(form.fields['SAMLResponse'] ?? '', form.fields['RelayState']);
  assert.equal(identity.issuer, idp.entityId);
  assert.equal(identity.email, 'alice@fabrikam.example');
  assert.equal(identity.name, 'Alice Smith');
  assert.deepEqual(identity.amr, ['mfa']);
  assert.equal(identity.acr, AUTHN_CONTEXT.refedsMfa);
  assert.equal(identity.rawClaims['urn:example:department'], 'Sales');
});

test('a typed-in unknown user gets a stable opaque NameID; Cancel posts an AuthnFailed status', async () => {
  const { begin } = await connectorHarness({ pool, signingKey: idp.activeKey, config: { entityId: idp.entityId, ssoUrl: idp.ssoUrl } });
  const subjects: string[] = [];
  for (let round = 0; round < 2; round += 1) {
    const signIn = await begin();
    const form = readForm(await submitLogin((await loginPage(signIn.redirectUrl)).html, { email: 'newcomer@fabrikam.example', action: 'signin' }));
    subjects.push((await signIn.post(form.fields['SAMLResponse'] ?? '', form.fields['RelayState'])).subject);
  }
  assert.equal(subjects[0], subjects[1]);
  assert.match(subjects[0] ?? '', /^[0-9a-f]{32}$/);

  const cancelled = await begin();
  const form = readForm(await submitLogin((await loginPage(cancelled.redirectUrl)).html, { action: 'cancel' }));
  await refused(cancelled.post(form.fields['SAMLResponse'] ?? '', form.fields['RelayState']), 'upstream_denied', /AuthnFailed: The user cancelled/);
});

test('refuses to post anywhere but loopback, and a login form used twice', async () => {
  const { begin } = await connectorHarness({ pool, signingKey: idp.activeKey, config: { entityId: idp.entityId, ssoUrl: idp.ssoUrl } });
  const { html } = await loginPage((await begin()).redirectUrl);
  await submitLogin(html, { email: 'alice@fabrikam.example', action: 'signin' });
  const again = await fetch(new URL('/sso/login', idp.url), { method: 'POST', body: new URLSearchParams({ ...readForm(html).fields, email: 'alice@fabrikam.example' }) });
  assert.equal(again.status, 400);

  const foreign = `<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" ID="_x" AssertionConsumerServiceURL="https://evil.example/acs"><saml:Issuer xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion">sp</saml:Issuer></samlp:AuthnRequest>`;
  const url = new URL(idp.ssoUrl);
  url.searchParams.set('SAMLRequest', deflateRawSync(foreign).toString('base64'));
  assert.equal((await fetch(url)).status, 400);
});
