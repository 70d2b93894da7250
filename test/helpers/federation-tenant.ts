/**
 * A contoso tenant file wired to stand-in upstream IdPs on loopback, for integration and browser
 * tests. Secrets use `${env:…:-…}` defaults as a tenant file must (no literal secrets).
 */
export interface FederationTenantOptions {
  readonly google?: { issuer: string; clientId: string; clientSecret: string };
  readonly microsoft?: { authority: string; clientId: string; clientSecret: string; audience?: 'common' | 'organizations' | 'consumers'; allowedTenants?: string[] };
  readonly northwind?: { issuer: string; clientId: string; clientSecret: string; timeoutSeconds?: number };
  readonly facebook?: { authorizeUrl: string; tokenUrl: string; graphUrl: string; clientId: string; clientSecret: string };
  readonly saml?: { entityId: string; ssoUrl: string; certificates: readonly string[]; domains?: readonly string[] };
  /** Extra apps (YAML list items, already indented by 2). */
  readonly apps?: readonly { id: string; redirectUri: string; selfServiceSignUp?: boolean }[];
  readonly redemptionOrder?: readonly string[];
  /** Adds the daemon `contoso-daemon` (demo secret) with management API roles, for invitations. */
  readonly graphDaemon?: boolean;
}

const secret = (name: string, value: string): string => `\${env:${name}:-${value}}`;
const indent = (text: string, by: number): string => text.split('\n').map((l) => (l ? ' '.repeat(by) + l : l)).join('\n');

export function federationTenantYaml(options: FederationTenantOptions): string {
  const idps: string[] = [];
  if (options.saml) {
    idps.push(`- id: fabrikam-saml
  kind: saml
  displayName: Fabrikam
  domains: [${(options.saml.domains ?? ['fabrikam.com']).join(', ')}]
  partner: fabrikam
  entityId: ${options.saml.entityId}
  ssoUrl: ${options.saml.ssoUrl}
  signingCertificates:
${options.saml.certificates.map((pem) => `    - |\n${indent(pem.trim(), 6)}`).join('\n')}`);
  }
  if (options.northwind) {
    idps.push(`- id: northwind
  kind: oidc
  displayName: Northwind
  domains: [northwind.example]
  partner: northwind
  issuer: ${options.northwind.issuer}
  clientId: ${options.northwind.clientId}
  clientSecret: ${secret('TEST_NORTHWIND_SECRET', options.northwind.clientSecret)}
  timeoutSeconds: ${options.northwind.timeoutSeconds ?? 10}`);
  }
  if (options.google) {
    idps.push(`- id: google
  kind: google
  issuer: ${options.google.issuer}
  clientId: ${options.google.clientId}
  clientSecret: ${secret('TEST_GOOGLE_SECRET', options.google.clientSecret)}`);
  }
  if (options.microsoft) {
    idps.push(`- id: microsoft
  kind: microsoft
  audience: ${options.microsoft.audience ?? 'common'}
  authority: ${options.microsoft.authority}
  clientId: ${options.microsoft.clientId}
  clientSecret: ${secret('TEST_MICROSOFT_SECRET', options.microsoft.clientSecret)}${options.microsoft.allowedTenants ? `\n  allowedTenants: [${options.microsoft.allowedTenants.join(', ')}]` : ''}`);
  }
  if (options.facebook) {
    idps.push(`- id: facebook
  kind: facebook
  clientId: "${options.facebook.clientId}"
  clientSecret: ${secret('TEST_FACEBOOK_SECRET', options.facebook.clientSecret)}
  authorizeUrl: ${options.facebook.authorizeUrl}
  tokenUrl: ${options.facebook.tokenUrl}
  graphUrl: ${options.facebook.graphUrl}`);
  }
  const daemon = options.graphDaemon
    ? [
        `- id: contoso-daemon
  name: Contoso guest admin
  type: daemon
  secret: ${secret('CONTOSO_DAEMON_SECRET', 'demo-daemon-secret')}
  graphRoles: [User.Invite.All, User.ReadWrite.All]`,
      ]
    : [];
  const apps = (options.apps ?? []).map(
    (app) => `- id: ${app.id}
  name: ${app.id}
  type: web
  secret: ${secret('TEST_APP_SECRET', 'test-app-secret')}
  redirectUris: [${app.redirectUri}]
  selfServiceSignUp: ${app.selfServiceSignUp ?? false}`,
  );
  return `id: contoso
displayName: Contoso
domains: [contoso.example]
branding:
  primaryColor: "#0f6cbd"
  backgroundColor: "#f5f5f5"
  signInText: Contoso staff and invited guests only.
partners:
  - id: fabrikam
    displayName: Fabrikam
    domains: [fabrikam.com]
    branding:
      primaryColor: "#c2410c"
      backgroundColor: "#fff7ed"
      signInText: Fabrikam employees sign in with their Fabrikam account.
  - id: northwind
    displayName: Northwind Traders
    domains: [northwind.example]
identityProviders:
${indent(idps.join('\n'), 2)}
signIn:
  redemptionOrder: [${(options.redemptionOrder ?? ['federation', 'social', 'emailOtp']).join(', ')}]
apps:
  - id: contoso-web
    name: Contoso intranet
    type: web
    secret: ${secret('CONTOSO_WEB_SECRET', 'demo-web-secret')}
    redirectUris: [http://localhost:8080/callback]
${indent([...apps, ...daemon].join('\n'), 2)}
`;
}
