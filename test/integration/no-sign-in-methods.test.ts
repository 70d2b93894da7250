import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as client from 'openid-client';
import { CookieJar, locationOf } from '../helpers/http.ts';
import { startTestPortico } from '../helpers/portico.ts';
import { relyingParty } from '../helpers/relying-party.ts';

describe('a tenant with no sign-in method', () => {
  it('ends the login step on a clear page with a correlation id', async () => {
    const portico = await startTestPortico({
      backend: 'memory',
      tenantFiles: {
        contoso: `id: contoso
displayName: Contoso
domains: [contoso.example]
emailOneTimePasscode:
  enabled: false
apps:
  - id: contoso-web
    name: Contoso intranet
    type: web
    secret: \${env:CONTOSO_WEB_SECRET:-demo-web-secret}
    redirectUris: [http://localhost:8080/callback]
`,
      },
    });
    try {
      const config = await relyingParty(portico.issuer, 'contoso-web', 'demo-web-secret');
      const browser = new CookieJar();
      const url = client.buildAuthorizationUrl(config, {
        redirect_uri: 'http://localhost:8080/callback',
        scope: 'openid',
        code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()),
        code_challenge_method: 'S256',
      });
      const page = await browser.fetch(locationOf(await browser.fetch(url), url.href));
      assert.equal(page.status, 200);
      const body = await page.text();
      assert.match(body, /No sign-in method is configured for Contoso yet/);
      assert.match(body, /data-testid="correlation-id"/);
    } finally {
      await portico.dispose();
    }
  });
});
