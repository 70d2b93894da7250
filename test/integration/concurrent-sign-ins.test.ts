/**
 * Sign-ins in several tabs of one browser: each flow keeps its own entry in the flow cookie, so
 * finishing one neither ends nor hijacks the other.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { relyingParty } from '../helpers/relying-party.ts';
import { passcodeIn, SignInSession } from '../helpers/sign-in.ts';
import { startTestPortico, type TestPortico } from '../helpers/portico.ts';
import { startSmtpSink, type SmtpSink } from '../helpers/smtp.ts';
import { guest, smtpYaml } from './policy-harness.ts';

const WEB = { id: 'contoso-web', secret: 'demo-web-secret', redirectUri: 'http://localhost:8080/callback' };
const SPA = { id: 'contoso-spa', redirectUri: 'http://localhost:5173/callback' };

describe('concurrent sign-ins in one browser', () => {
  let smtp: SmtpSink;
  let portico: TestPortico;

  before(async () => {
    smtp = await startSmtpSink();
    portico = await startTestPortico({ backend: 'memory', brokerYaml: smtpYaml(smtp) });
  });
  after(async () => {
    await portico.dispose();
    await smtp.close();
  });

  // One guest in two apps (another account in the second tab would make the provider switch
  // accounts with an auto-posted logout form, which this test browser does not submit).
  it('finishes two interleaved sign-ins, each to its own app', async () => {
    const amy = await guest(portico, 'amy@adatum.com');
    const first = new SignInSession(await relyingParty(portico.issuer, WEB.id, WEB.secret), WEB.redirectUri);
    // A second tab of the same browser: the same cookies.
    const second = new SignInSession(await relyingParty(portico.issuer, SPA.id), SPA.redirectUri, first.browser);

    await first.start({ login_hint: 'amy@adatum.com' });
    assert.match(first.page, /Enter your code/);
    const amyCode = passcodeIn((await smtp.nextMessageTo('amy@adatum.com')).parsed.text ?? '');
    await second.start({ login_hint: 'amy@adatum.com' });
    assert.match(second.page, /Enter your code/);
    const secondCode = passcodeIn((await smtp.nextMessageTo('amy@adatum.com')).parsed.text ?? '');
    assert.notEqual(secondCode, amyCode);

    await second.submit('code', { code: secondCode });
    assert.equal(second.atApp, true, 'the later sign-in finishes');
    await first.submit('code', { code: amyCode });
    assert.equal(first.atApp, true, `and the earlier one still does, after the other ended (at ${first.url.pathname})`);

    const firstClaims = (await first.tokens()).claims();
    const secondClaims = (await second.tokens()).claims();
    assert.deepEqual([firstClaims?.aud, firstClaims?.sub], [WEB.id, amy.id]);
    assert.deepEqual([secondClaims?.aud, secondClaims?.sub], [SPA.id, amy.id]);
  });
});
