/**
 * Everything a browser journey talks to, on loopback: Portico in-process with a contoso tenant
 * wired to the stand-in IdPs a suite asks for, and two real relying-party web apps registered in
 * that tenant — `portal` (self-service sign-up) and `intranet` (invited guests only).
 */
import type { Browser } from 'playwright-core';
import { guestUserPrincipalName, type User } from '../src/directory/users.ts';
import { federationTenantYaml, type FederationTenantOptions } from '../test/helpers/federation-tenant.ts';
import { freePort } from '../test/helpers/http.ts';
import { startTestPortico, type TestPortico } from '../test/helpers/portico.ts';
import { appToken, DAEMON } from '../test/integration/graph-harness.ts';
import { startRelyingPartyApp, type RelyingPartyApp } from '../test/helpers/relying-party-app.ts';
import { startSamlIdp, type SamlIdp, type SamlIdpUser } from '../test/helpers/saml-idp.ts';
import { startSmtpSink, type SmtpSink } from '../test/helpers/smtp.ts';
import {
  startFacebookStandIn,
  startGoogleStandIn,
  startMicrosoftStandIn,
  startOidcStandIn,
  type FacebookStandIn,
  type OidcStandIn,
  type StandInAccount,
  type GoogleAccount,
  type GoogleStandIn,
  type MicrosoftAccount,
  type MicrosoftStandIn,
  type MicrosoftTenant,
} from '../test/helpers/upstreams/index.ts';
import { launchBrowser } from './browser.ts';

const APP_SECRET = 'test-app-secret';

export interface E2eStackOptions {
  readonly google?: { readonly accounts: readonly GoogleAccount[] };
  readonly microsoft?: { readonly tenants: readonly MicrosoftTenant[]; readonly accounts: readonly MicrosoftAccount[] };
  readonly saml?: { readonly users: readonly SamlIdpUser[] };
  /** A partner's own OpenID Connect IdP for northwind.example (the `oidc` kind). */
  readonly northwind?: { readonly accounts: readonly StandInAccount[] };
  readonly facebook?: { readonly accounts: readonly StandInAccount[] };
  /** Add the daemon `contoso-daemon` with management API roles (invitations). */
  readonly graphDaemon?: boolean;
  /** Send mail to a real SMTP sink (otherwise mail goes to the outbox folder). */
  readonly smtp?: boolean;
  /** A last edit of the tenant file (a logo URL, say) before Portico reads it. */
  readonly editTenantYaml?: (yaml: string) => string;
  /**
   * Portico's host name in PUBLIC_URL: `localhost` for passkeys, whose RP ID must be a domain
   * (an IP address is refused by browsers). The default, 127.0.0.1, keeps Portico on another
   * site than the apps and IdPs (which are on localhost).
   */
  readonly publicHost?: '127.0.0.1' | 'localhost';
}

export interface E2eStack {
  readonly portico: TestPortico;
  /** Self-service sign-up: the first sign-in of someone unknown creates the guest. */
  readonly portal: RelyingPartyApp;
  /** Only invited guests may sign in. */
  readonly intranet: RelyingPartyApp;
  readonly google: GoogleStandIn | undefined;
  readonly microsoft: MicrosoftStandIn | undefined;
  readonly saml: SamlIdp | undefined;
  readonly northwind: OidcStandIn | undefined;
  readonly facebook: FacebookStandIn | undefined;
  /** Where Portico sends the browser to the SAML IdP: on another site than Portico (see below). */
  readonly samlSsoUrl: string | undefined;
  readonly smtp: SmtpSink | undefined;
  /** Portico's origin (`http://127.0.0.1:<port>`, or `localhost` with `publicHost`). */
  readonly origin: string;
  /** Creates an invited guest who has not signed in yet, as an invitation does. */
  invite(email: string, displayName: string): Promise<User>;
  /**
   * A call to the management API (`/graph/v1.0` + `path`) as the daemon of `graphDaemon`, with a
   * token it got by client credentials, as an admin's script would.
   */
  graph(path: string, init?: { method?: string; body?: unknown }): Promise<Response>;
  stop(): Promise<void>;
}

export async function startE2eStack(options: E2eStackOptions): Promise<E2eStack> {
  const stoppers: (() => Promise<unknown>)[] = [];
  try {
    const port = await freePort();
    const origin = `http://${options.publicHost ?? '127.0.0.1'}:${port}`;
    const federation = `${origin}/contoso/v2.0/federation`;
    const tenant: { -readonly [K in keyof FederationTenantOptions]: FederationTenantOptions[K] } = {};

    let google: GoogleStandIn | undefined;
    if (options.google) {
      google = await startGoogleStandIn({
        accounts: options.google.accounts,
        clients: [{ clientId: 'portico-google', clientSecret: 'google-secret', redirectUris: [`${federation}/google/callback`] }],
      });
      stoppers.push(() => google!.stop());
      tenant.google = { issuer: google.issuer, clientId: 'portico-google', clientSecret: 'google-secret' };
    }
    let microsoft: MicrosoftStandIn | undefined;
    if (options.microsoft) {
      microsoft = await startMicrosoftStandIn({
        tenants: options.microsoft.tenants,
        accounts: options.microsoft.accounts,
        clients: [{ clientId: 'portico-microsoft', clientSecret: 'microsoft-secret', redirectUris: [`${federation}/microsoft/callback`] }],
      });
      stoppers.push(() => microsoft!.stop());
      tenant.microsoft = { authority: microsoft.authority, clientId: 'portico-microsoft', clientSecret: 'microsoft-secret' };
    }
    let northwind: OidcStandIn | undefined;
    if (options.northwind) {
      northwind = await startOidcStandIn({
        accounts: options.northwind.accounts,
        clients: [{ clientId: 'portico-northwind', clientSecret: 'northwind-secret', redirectUris: [`${federation}/northwind/callback`] }],
        claimsInIdToken: true,
      });
      stoppers.push(() => northwind!.stop());
      tenant.northwind = { issuer: northwind.issuer, clientId: 'portico-northwind', clientSecret: 'northwind-secret' };
    }
    let facebook: FacebookStandIn | undefined;
    if (options.facebook) {
      facebook = await startFacebookStandIn({
        accounts: options.facebook.accounts,
        apps: [{ appId: '123456', appSecret: 'facebook-secret', redirectUris: [`${federation}/facebook/callback`] }],
      });
      stoppers.push(() => facebook!.stop());
      tenant.facebook = { authorizeUrl: facebook.urls.authorize, tokenUrl: facebook.urls.token, graphUrl: facebook.urls.graph, clientId: '123456', clientSecret: 'facebook-secret' };
    }
    let saml: SamlIdp | undefined;
    let samlSsoUrl: string | undefined;
    if (options.saml) {
      saml = await startSamlIdp({ users: options.saml.users });
      stoppers.push(() => saml!.close());
      // The same listener under the name `localhost`: its pages are then on another site than
      // Portico (127.0.0.1), so the Response is posted cross-site as from a real IdP, where
      // SameSite=Lax cookies are not sent with the POST.
      samlSsoUrl = saml.ssoUrl.replace('//127.0.0.1:', '//localhost:');
      tenant.saml = { entityId: saml.entityId, ssoUrl: samlSsoUrl, certificates: saml.keys.map((key) => key.certificate) };
    }
    let smtp: SmtpSink | undefined;
    if (options.smtp) {
      smtp = await startSmtpSink();
      stoppers.push(() => smtp!.close());
    }

    const [portalPort, intranetPort] = [await freePort(), await freePort()];
    tenant.apps = [
      { id: 'portal', redirectUri: `http://localhost:${portalPort}/callback`, selfServiceSignUp: true },
      { id: 'intranet', redirectUri: `http://localhost:${intranetPort}/callback`, selfServiceSignUp: false },
    ];
    const yaml = federationTenantYaml({ ...tenant, ...(options.graphDaemon ? { graphDaemon: true } : {}) });
    const portico = await startTestPortico({
      backend: 'sqlite',
      port,
      tenantFiles: { contoso: options.editTenantYaml ? options.editTenantYaml(yaml) : yaml },
      ...(options.publicHost ? { env: { PUBLIC_URL: origin } } : {}),
      ...(smtp
        ? { brokerYaml: `mail:\n  transport: smtp\n  from: Contoso <no-reply@contoso.example>\n  smtp:\n    host: 127.0.0.1\n    port: ${smtp.port}\n    secure: false\n` }
        : {}),
    });
    stoppers.push(() => portico.dispose());
    const issuer = `${origin}/contoso/v2.0`;
    const portal = await startRelyingPartyApp({ issuer, clientId: 'portal', clientSecret: APP_SECRET, port: portalPort });
    stoppers.push(() => portal.stop());
    const intranet = await startRelyingPartyApp({ issuer, clientId: 'intranet', clientSecret: APP_SECRET, port: intranetPort });
    stoppers.push(() => intranet.stop());

    return {
      portico,
      portal,
      intranet,
      google,
      microsoft,
      saml,
      northwind,
      facebook,
      samlSsoUrl,
      smtp,
      origin,
      invite: (email, displayName) =>
        portico.portico.users.create({
          tenantId: 'contoso',
          userType: 'Guest',
          userPrincipalName: guestUserPrincipalName(email, 'contoso.example'),
          displayName,
          mail: email,
          creationType: 'Invitation',
          externalUserState: 'PendingAcceptance',
        }),
      graph: async (path, init = {}) =>
        fetch(`${origin}/graph/v1.0${path}`, {
          method: init.method ?? 'GET',
          headers: {
            authorization: `Bearer ${await appToken(portico, DAEMON)}`,
            ...(init.body === undefined ? {} : { 'content-type': 'application/json' }),
          },
          ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
        }),
      stop: () => stopAll(stoppers),
    };
  } catch (error) {
    await stopAll(stoppers);
    throw error;
  }
}

/**
 * The browser and the stack, started side by side; when either fails the other is stopped, so a
 * failed start (no Chromium in CI, say) ends the run instead of leaving servers behind.
 */
export async function startBrowserAndStack(options: E2eStackOptions): Promise<{ browser: Browser; stack: E2eStack }> {
  const [browser, stack] = await Promise.allSettled([launchBrowser(), startE2eStack(options)]);
  if (browser.status === 'fulfilled' && stack.status === 'fulfilled') return { browser: browser.value, stack: stack.value };
  if (browser.status === 'fulfilled') await browser.value.close();
  if (stack.status === 'fulfilled') await stack.value.stop();
  throw browser.status === 'rejected' ? browser.reason : (stack as PromiseRejectedResult).reason;
}

/** Stops in reverse order of start; every part is stopped even when one fails. */
async function stopAll(stoppers: readonly (() => Promise<unknown>)[]): Promise<void> {
  const failures: unknown[] = [];
  for (const stop of [...stoppers].reverse()) await stop().catch((error: unknown) => failures.push(error));
  if (failures.length) throw new AggregateError(failures, 'stopping the e2e stack failed');
}
