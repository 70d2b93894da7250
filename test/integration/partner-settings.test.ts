/**
 * Per-partner cross-tenant settings that shape the sign-in itself:
 * - `automaticUserConsentSettings.inboundAllowed`: guests of that partner redeem without the
 *   consent page (the invitation is accepted as they sign in); guests of others still see it;
 * - `redemptionOrder`: what the partner's guests are offered, read live.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestPortico, type TestPortico } from '../helpers/portico.ts';
import { startSmtpSink, type SmtpSink } from '../helpers/smtp.ts';
import { editTenant, guest, passcodeSignIn, session, smtpYaml } from './policy-harness.ts';

const WEB = { id: 'contoso-web', secret: 'demo-web-secret', redirectUri: 'http://localhost:8080/callback' };

describe('per-partner sign-in settings', () => {
  let smtp: SmtpSink;
  let portico: TestPortico;

  before(async () => {
    smtp = await startSmtpSink();
    portico = await startTestPortico({ backend: 'memory', brokerYaml: smtpYaml(smtp) });
    await editTenant(portico, (doc) => {
      doc.addIn(['partners'], doc.createNode({ id: 'northwind', displayName: 'Northwind', domains: ['northwind.example'] }));
      doc.addIn(['crossTenantAccess', 'partners'], doc.createNode({ partner: 'northwind', automaticUserConsentSettings: { inboundAllowed: true } }));
    });
  });
  after(async () => {
    await portico.dispose();
    await smtp.close();
  });

  it("a partner's invited guest is accepted without the consent page", async () => {
    const nora = await guest(portico, 'nora@northwind.example', 'PendingAcceptance');
    const { session } = await passcodeSignIn(portico, smtp, WEB, 'nora@northwind.example');
    assert.equal(session.atApp, true, 'straight back at the app, no consent page');
    assert.ok((await session.tokens()).id_token);
    const stored = await portico.portico.users.get('contoso', nora.id);
    assert.equal(stored?.externalUserState, 'Accepted');
    assert.ok(portico.logs.lines.some((line) => line.includes('invitation accepted automatically')));
  });

  it('a guest of another organisation still sees the consent page', async () => {
    const ada = await guest(portico, 'ada@adatum.com', 'PendingAcceptance');
    const { session } = await passcodeSignIn(portico, smtp, WEB, 'ada@adatum.com');
    assert.match(session.page, /data-testid="consent"/);
    assert.equal((await portico.portico.users.get('contoso', ada.id))?.externalUserState, 'PendingAcceptance');
    await session.submit('consent', {});
    assert.equal(session.atApp, true);
    assert.equal((await portico.portico.users.get('contoso', ada.id))?.externalUserState, 'Accepted');
  });

  it("a partner's own redemption order replaces the tenant's, live", async () => {
    await guest(portico, 'ned@northwind.example');
    // Northwind's guests may only use federation, and no federation IdP takes their domain.
    await editTenant(portico, (doc) => doc.setIn(['crossTenantAccess', 'partners', 1, 'redemptionOrder'], doc.createNode(['federation'])));
    const northwind = await session(portico, WEB);
    await northwind.start({ login_hint: 'ned@northwind.example' });
    assert.match(northwind.page, /data-testid="no-methods"/);
    // Others keep the tenant's order, which offers passcodes.
    const adatum = await session(portico, WEB);
    await adatum.start({ login_hint: 'ed@adatum.com' });
    assert.match(adatum.page, /Enter your code/);
    await smtp.nextMessageTo('ed@adatum.com');
  });
});
