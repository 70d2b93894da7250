/**
 * The invitation journey of a Google guest in a browser: a daemon invites a gmail.com address
 * through the management API, the guest opens the mailed link, home-realm discovery sends her to
 * Google (the stand-in), she signs in, accepts on Contoso's consent page and lands on the
 * invitation's redirect URL; the API then shows her Accepted with her Google identity. Another
 * Google account is refused on a page naming the invited address, and declining keeps the
 * invitation open; in both cases nothing is linked.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { acceptInvitation, declineInvitation, signInAtStandIn } from './actions.ts';
import { suiteOptions, withPage } from './browser.ts';
import { startBrowserAndStack, type E2eStack } from './stack.ts';

const PRIVACY_URL = 'https://contoso.example/privacy';
const TERMS_URL = 'https://contoso.example/terms';

interface Invitation {
  readonly inviteRedeemUrl: string;
  readonly status: string;
  readonly invitedUser: { readonly id: string };
}

interface GraphUser {
  readonly externalUserState: string;
  readonly externalUserStateChangeDateTime: string | null;
  readonly identities: readonly { signInType: string; issuer: string; issuerAssignedId: string }[];
}

describe('a Google guest redeeming an invitation in a browser', { ...suiteOptions(), timeout: 60_000 }, () => {
  let browser: Browser;
  let stack: E2eStack;
  let landing: string;

  before(async () => {
    ({ browser, stack } = await startBrowserAndStack({
      google: {
        accounts: [
          { id: 'g-gwen', email: 'gwen@gmail.com', emailVerified: true, name: 'Gwen Gmail' },
          { id: 'g-gil', email: 'gil@gmail.com', emailVerified: true, name: 'Gil Gmail' },
          { id: 'g-dana', email: 'dana@gmail.com', emailVerified: true, name: 'Dana Gmail' },
        ],
      },
      smtp: true,
      graphDaemon: true,
      editTenantYaml: (yaml) => `${yaml}invitations:\n  privacyStatementUrl: ${PRIVACY_URL}\n  termsOfUseUrl: ${TERMS_URL}\n`,
    }));
    landing = new URL('/', stack.intranet.loginUrl).href;
  });
  after(async () => {
    await browser?.close();
    await stack?.stop();
  });

  async function invite(email: string, sendInvitationMessage: boolean): Promise<Invitation> {
    const response = await stack.graph('/invitations', {
      method: 'POST',
      body: { invitedUserEmailAddress: email, inviteRedirectUrl: landing, sendInvitationMessage },
    });
    assert.equal(response.status, 201, await response.clone().text());
    const invitation = (await response.json()) as Invitation;
    assert.equal(invitation.status, 'PendingAcceptance');
    return invitation;
  }

  async function graphUser(id: string): Promise<GraphUser> {
    const response = await stack.graph(`/users/${id}`);
    assert.equal(response.status, 200);
    return (await response.json()) as GraphUser;
  }

  /** Opens the redeem link: gmail.com is Google's, so the next page is the stand-in's sign-in page, with no picker. */
  async function openLinkToGoogle(page: Page, link: string): Promise<void> {
    await page.goto(link);
    await page.waitForURL((url) => url.href.startsWith(stack.google!.issuer));
    await page.locator('form[data-stand-in="login"]').waitFor();
  }

  it('redeems the mailed link with Google, accepts on the consent page, lands on the redirect URL: Accepted, federated Google identity', { timeout: 30_000 }, () =>
    withPage(browser, 'google invitation accepted', async ({ page }) => {
      const invitation = await invite('gwen@gmail.com', true);
      const mail = await stack.smtp!.nextMessageTo('gwen@gmail.com');
      assert.ok(mail.parsed.text?.includes(invitation.inviteRedeemUrl), 'the mail carries the redeem link');

      await openLinkToGoogle(page, invitation.inviteRedeemUrl);
      await signInAtStandIn(page, { account: 'g-gwen' });
      await page.getByTestId('consent').waitFor();
      assert.ok(page.url().startsWith(stack.origin), 'the consent page is Portico’s');
      assert.equal(await page.getByRole('heading', { level: 1 }).textContent(), 'Contoso invites you');
      assert.equal(await page.getByRole('link', { name: "Contoso's privacy statement" }).getAttribute('href'), PRIVACY_URL);
      assert.equal(await page.getByRole('link', { name: "Contoso's terms of use" }).getAttribute('href'), TERMS_URL);
      assert.equal((await graphUser(invitation.invitedUser.id)).externalUserState, 'PendingAcceptance', 'nothing changes before Accept');

      await acceptInvitation(page);
      await page.waitForURL(landing);

      const user = await graphUser(invitation.invitedUser.id);
      assert.equal(user.externalUserState, 'Accepted');
      assert.ok(user.externalUserStateChangeDateTime && Date.now() - Date.parse(user.externalUserStateChangeDateTime) < 60_000, 'accepted just now');
      assert.deepEqual(user.identities, [{ signInType: 'federated', issuer: stack.google!.issuer, issuerAssignedId: 'g-gwen' }]);
    }));

  it('refuses another Google account on a page naming the invited address, and links nothing', { timeout: 30_000 }, () =>
    withPage(browser, 'google invitation wrong account', async ({ page }) => {
      const invitation = await invite('hana@gmail.com', false);
      const usersBefore = (await stack.portico.portico.users.list('contoso')).length;

      await openLinkToGoogle(page, invitation.inviteRedeemUrl);
      await signInAtStandIn(page, { account: 'g-gil' });
      await page.getByTestId('wrong-identity').waitFor();
      assert.equal(await page.getByRole('heading', { level: 1 }).textContent(), 'This is not the invited account');
      assert.match(await page.locator('main').innerText(), /The invitation was sent to hana@gmail\.com\./);
      assert.ok(page.url().startsWith(stack.origin), 'still at Portico, not sent on to the redirect URL');

      const user = await graphUser(invitation.invitedUser.id);
      assert.equal(user.externalUserState, 'PendingAcceptance');
      assert.deepEqual(user.identities, []);
      assert.equal((await stack.portico.portico.users.list('contoso')).length, usersBefore, 'nobody was created for the other account');
    }));

  it('declining leaves the invitation pending, and its link still leads to Google', { timeout: 30_000 }, () =>
    withPage(browser, 'google invitation declined', async ({ page }) => {
      const invitation = await invite('dana@gmail.com', false);

      await openLinkToGoogle(page, invitation.inviteRedeemUrl);
      await signInAtStandIn(page, { account: 'g-dana' });
      await declineInvitation(page);
      await page.getByTestId('declined').waitFor();
      assert.match(await page.locator('main').innerText(), /The invitation stays open/);

      const user = await graphUser(invitation.invitedUser.id);
      assert.equal(user.externalUserState, 'PendingAcceptance');
      assert.deepEqual(user.identities, []);
      // The link was not used up: it starts a redemption at Google again.
      await openLinkToGoogle(page, invitation.inviteRedeemUrl);
    }));
});
