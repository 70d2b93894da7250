/**
 * The invitation journey in a browser: a daemon invites a guest through the management API, the
 * invitation mail arrives, the guest opens its link, signs in with a passcode, accepts, lands on
 * the invitation's redirect URL, and the API then shows the guest Accepted.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as client from 'openid-client';
import type { Browser } from 'playwright-core';
import { passcodeIn } from '../test/helpers/sign-in.ts';
import { acceptInvitation, enterCode } from './actions.ts';
import { suiteOptions, withPage } from './browser.ts';
import { startBrowserAndStack, type E2eStack } from './stack.ts';

describe('inviting a guest and redeeming the invitation in a browser', { ...suiteOptions(), timeout: 60_000 }, () => {
  let browser: Browser;
  let stack: E2eStack;

  before(async () => {
    ({ browser, stack } = await startBrowserAndStack({ google: { accounts: [] }, smtp: true, graphDaemon: true }));
  });
  after(async () => {
    await browser?.close();
    await stack?.stop();
  });

  async function graphToken(): Promise<string> {
    const daemon = await client.discovery(new URL(stack.portico.issuer), 'contoso-daemon', 'demo-daemon-secret', client.ClientSecretBasic('demo-daemon-secret'), {
      execute: [client.allowInsecureRequests],
    });
    return (await client.clientCredentialsGrant(daemon, { resource: `${stack.origin}/graph` })).access_token;
  }

  it('invites through the API, redeems from the mail, accepts, lands on the redirect URL, shows Accepted', { timeout: 40_000 }, () =>
    withPage(browser, 'invitation redemption', async ({ page }) => {
      const token = await graphToken();
      const landing = new URL('/', stack.intranet.loginUrl).href;
      const invited = await fetch(`${stack.origin}/graph/v1.0/invitations`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ invitedUserEmailAddress: 'kim@adatum.com', inviteRedirectUrl: landing, sendInvitationMessage: true }),
      });
      assert.equal(invited.status, 201);
      const invitation = (await invited.json()) as { inviteRedeemUrl: string; invitedUser: { id: string }; status: string };
      assert.equal(invitation.status, 'PendingAcceptance');

      const mail = await stack.smtp!.nextMessageTo('kim@adatum.com');
      const link = /https?:\/\/\S+\/redeem\?ticket=[A-Za-z0-9_-]+/.exec(mail.parsed.text ?? '')?.[0];
      assert.equal(link, invitation.inviteRedeemUrl, 'the mail carries the redeem link');

      await page.goto(link!);
      // The invited address is the login hint: adatum.com has no IdP, so a passcode is mailed.
      await page.getByRole('heading', { name: 'Enter your code' }).waitFor();
      await enterCode(page, passcodeIn((await stack.smtp!.nextMessageTo('kim@adatum.com')).parsed.text ?? ''));
      assert.match(await page.locator('main').innerText(), /Contoso invites you/);
      await acceptInvitation(page);
      await page.waitForURL(landing);

      const user = await fetch(`${stack.origin}/graph/v1.0/users/${invitation.invitedUser.id}`, { headers: { authorization: `Bearer ${token}` } });
      const body = (await user.json()) as { externalUserState: string; identities: { issuer: string }[] };
      assert.equal(body.externalUserState, 'Accepted');
      assert.deepEqual(body.identities.map((i) => i.issuer), ['mail']);

      // The link is single use.
      await page.goto(link!);
      await page.getByTestId('ticket-used').waitFor();
    }));
});
