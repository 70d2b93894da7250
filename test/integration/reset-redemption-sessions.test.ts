/**
 * Resetting a guest's redemption unlinks the identity they signed in with; what that identity
 * signed in to must end with it: the guest's sessions, grants and refresh tokens, in every app.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as client from 'openid-client';
import { startTestPortico, type TestPortico } from '../helpers/portico.ts';
import { startSmtpSink, type SmtpSink } from '../helpers/smtp.ts';
import { DAEMON, appToken } from './graph-harness.ts';
import { guest, passcodeSignIn, smtpYaml } from './policy-harness.ts';

const WEB = { id: 'contoso-web', secret: 'demo-web-secret', redirectUri: 'http://localhost:8080/callback' };

describe('reset redemption ends the old identity\'s sessions', () => {
  let smtp: SmtpSink;
  let portico: TestPortico;

  before(async () => {
    smtp = await startSmtpSink();
    portico = await startTestPortico({ backend: 'sqlite', brokerYaml: smtpYaml(smtp) });
  });
  after(async () => {
    await portico.dispose();
    await smtp.close();
  });

  it('revokes refresh tokens and the browser session; other guests keep theirs', async () => {
    const rita = await guest(portico, 'rita@adatum.com');
    const ritaSignIn = await passcodeSignIn(portico, smtp, WEB, 'rita@adatum.com');
    const ritaTokens = await ritaSignIn.session.tokens();
    assert.ok(ritaTokens.refresh_token);
    await guest(portico, 'otto@adatum.com');
    const ottoSignIn = await passcodeSignIn(portico, smtp, WEB, 'otto@adatum.com');
    const ottoTokens = await ottoSignIn.session.tokens();

    const response = await fetch(`http://127.0.0.1:${portico.port}/graph/v1.0/invitations`, {
      method: 'POST',
      headers: { authorization: `Bearer ${await appToken(portico, DAEMON)}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        invitedUserEmailAddress: 'rita@fabrikam-new.example',
        inviteRedirectUrl: 'http://localhost:8080/',
        sendInvitationMessage: false,
        resetRedemption: true,
        invitedUser: { id: rita.id },
      }),
    });
    assert.equal(response.status, 201, await response.clone().text());

    await assert.rejects(client.refreshTokenGrant(ritaSignIn.session.config, ritaTokens.refresh_token), (error: unknown) => {
      assert.equal((error as { error?: string }).error, 'invalid_grant');
      return true;
    });
    await ritaSignIn.session.start();
    assert.equal(ritaSignIn.session.atApp, false, 'the browser session ended: a new sign-in is asked for');

    // Another guest is not touched.
    assert.ok((await client.refreshTokenGrant(ottoSignIn.session.config, ottoTokens.refresh_token!)).access_token);
    await ottoSignIn.session.start();
    assert.equal(ottoSignIn.session.atApp, true);

    const audits = await fetch(`http://127.0.0.1:${portico.port}/graph/v1.0/auditLogs/directoryAudits`, {
      headers: { authorization: `Bearer ${await appToken(portico, DAEMON)}` },
    });
    const reset = ((await audits.json()) as { value: { activityDisplayName: string; additionalDetails: { key: string; value: string }[] }[] }).value.find(
      (entry) => entry.activityDisplayName === 'Reset redemption status of external user',
    );
    assert.deepEqual(reset?.additionalDetails.find((d) => d.key === 'sessionsEnded'), { key: 'sessionsEnded', value: 'true' });
  });
});
