/**
 * Sign-in pages take the look of the organisation the guest comes from, once Portico knows it:
 * the tenant's own look before the email is typed, a partner's after, Portico's default for a
 * partner without branding. Checked in computed styles and in the screenshot's pixels.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { computedStyle, enterEmail } from './actions.ts';
import { suiteOptions, withPage } from './browser.ts';
import { BACKGROUND_CLIP, centreClipOf, coloursIn, fillClipOf } from './pixels.ts';
import { encodeSolidPng, hexToRgb, type Rgba } from './png.ts';
import { startBrowserAndStack, type E2eStack } from './stack.ts';

// The colours of test/helpers/federation-tenant.ts, and Portico's defaults (src/ui/assets/portico.css).
const CONTOSO = { background: hexToRgb('#f5f5f5'), primary: hexToRgb('#0f6cbd'), text: 'Contoso staff and invited guests only.' };
const FABRIKAM = { background: hexToRgb('#fff7ed'), primary: hexToRgb('#c2410c'), text: 'Fabrikam employees sign in with their Fabrikam account.' };
const DEFAULT = { background: hexToRgb('#f3f4f6'), primary: hexToRgb('#0b5cad') };
const LOGO_COLOUR: Rgba = [29, 78, 216, 255];

describe('branding of the sign-in pages', { ...suiteOptions(), timeout: 60_000 }, () => {
  let browser: Browser;
  let stack: E2eStack;
  let logoServer: Server;
  let logoUrl: string;
  let logoRequests = 0;

  before(async () => {
    const logo = encodeSolidPng(120, 40, LOGO_COLOUR);
    logoServer = createServer((req, res) => {
      if (req.url !== '/fabrikam-logo.png') return void res.writeHead(404).end();
      logoRequests += 1;
      res.writeHead(200, { 'content-type': 'image/png', 'cache-control': 'no-store' }).end(logo);
    });
    await new Promise<void>((resolve) => logoServer.listen(0, '127.0.0.1', resolve));
    logoUrl = `http://127.0.0.1:${(logoServer.address() as AddressInfo).port}/fabrikam-logo.png`;
    // Microsoft takes any domain, so a fabrikam.com or northwind.example address (claimed by no
    // IdP here) gets the picker (Microsoft or a passcode), a page that stays put to look at.
    ({ browser, stack } = await startBrowserAndStack({
      microsoft: { tenants: [], accounts: [] },
      editTenantYaml: (yaml) => {
        const anchor = '      primaryColor: "#c2410c"\n';
        assert.ok(yaml.includes(anchor), "the tenant file has Fabrikam's branding");
        return yaml.replace(anchor, `      logoUrl: ${logoUrl}\n${anchor}`);
      },
    }));
  });
  after(async () => {
    await browser?.close();
    await stack?.stop();
    await new Promise((resolve) => logoServer?.close(resolve));
  });

  async function expectLook(page: Page, look: { background: string; primary: string }, button: ReturnType<Page['locator']>): Promise<void> {
    assert.equal(await computedStyle(page.locator('body'), 'background-color'), look.background, 'computed page background');
    assert.equal(await computedStyle(button, 'background-color'), look.primary, 'computed button colour');
    assert.deepEqual(await coloursIn(page, BACKGROUND_CLIP), [look.background], 'page background pixels');
    assert.deepEqual(await coloursIn(page, await fillClipOf(button)), [look.primary], 'button pixels');
  }

  it("shows the tenant's own look before the guest is known", { timeout: 20_000 }, () =>
    withPage(browser, 'branding tenant', async ({ page }) => {
      await page.goto(stack.portal.loginUrl);
      await page.getByLabel('Email address').waitFor();
      await expectLook(page, CONTOSO, page.getByRole('button', { name: 'Next' }));
      assert.equal(await page.getByTestId('brand-text').textContent(), CONTOSO.text);
      assert.equal(await page.getByTestId('brand-logo').count(), 0, 'Contoso has no logo');
    }));

  it("switches to Fabrikam's colours, text and logo once a fabrikam.com address is typed", { timeout: 20_000 }, () =>
    withPage(browser, 'branding fabrikam', async ({ page }) => {
      await page.goto(stack.portal.loginUrl);
      await enterEmail(page, 'gina@fabrikam.com');
      await page.getByRole('heading', { name: 'Choose how to sign in' }).waitFor();
      await expectLook(page, FABRIKAM, page.getByTestId('idp-microsoft'));
      assert.equal(await page.getByTestId('brand-text').textContent(), FABRIKAM.text);
      assert.doesNotMatch(await page.locator('main').innerText(), /Contoso staff/);

      const logo = page.getByTestId('brand-logo');
      assert.equal(await logo.getAttribute('src'), logoUrl);
      assert.equal(await logo.getAttribute('alt'), 'Fabrikam');
      // complete + naturalWidth: the image loaded (CSP img-src allowed its origin) and decoded.
      await page.waitForFunction((element) => (element as unknown as { complete: boolean }).complete, await logo.elementHandle());
      assert.equal(await logo.evaluate((element) => (element as unknown as { naturalWidth: number }).naturalWidth), 120);
      assert.ok(logoRequests > 0, 'the browser fetched the logo from its server');
      assert.deepEqual(await coloursIn(page, await centreClipOf(logo)), [`rgb(${LOGO_COLOUR.slice(0, 3).join(', ')})`], 'the logo is drawn');
    }));

  it("shows Portico's default look for a partner without branding", { timeout: 20_000 }, () =>
    withPage(browser, 'branding default', async ({ page }) => {
      await page.goto(stack.portal.loginUrl);
      await enterEmail(page, 'nils@northwind.example');
      await page.getByRole('heading', { name: 'Choose how to sign in' }).waitFor();
      await expectLook(page, DEFAULT, page.getByTestId('idp-microsoft'));
      assert.equal(await page.getByTestId('brand-text').count(), 0, "no one else's sign-in text");
      assert.equal(await page.getByTestId('brand-logo').count(), 0, "no one else's logo");
    }));
});
