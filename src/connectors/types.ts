/**
 * The contract between Portico and its upstream connectors. A connector turns an upstream
 * response into one normalised UpstreamIdentity; it never touches storage or the directory (what
 * it must remember between steps it returns as ConnectorState, which the sign-in flow persists;
 * what it must share across instances, such as single-use ids or rate limits, it gets as the
 * narrow ports below). Connectors come in three capabilities, after Dex: redirect (OIDC and
 * OAuth 2.0 IdPs), SAML POST, and code (email one-time passcodes).
 */

export type ConnectorKind = 'oidc' | 'google' | 'microsoft' | 'facebook' | 'saml' | 'email-otp';

/** Which group of the redemption order a connector belongs to. */
export type ConnectorGroup = 'federation' | 'social' | 'emailOtp';

export interface UpstreamIdentity {
  readonly connectorId: string;
  readonly kind: ConnectorKind;
  /**
   * The key of the identity, never the email: (issuer, issuerTenantId, subject). For OIDC the
   * token's `iss` (for Microsoft's multi-tenant endpoint the tenant-specific issuer), for SAML the
   * IdP entity id, for email passcodes `mail`.
   */
  readonly issuer: string;
  /** The upstream tenant the subject belongs to, where the issuer hosts several (Entra `tid`). */
  readonly issuerTenantId?: string;
  readonly subject: string;
  /** The `idp` claim: `google.com`, `live.com`, `facebook.com`, `mail`, or the issuer / entity id. */
  readonly idp: string;
  /** Normalised (trimmed, lowercased domain); absent when the upstream gave none or it was unsafe. */
  readonly email?: string;
  /** True only when the upstream asserts it; an unverified email never links to an existing user. */
  readonly emailVerified: boolean;
  readonly name?: string;
  readonly givenName?: string;
  readonly familyName?: string;
  /** The guest's home organisation as the upstream tells it (Entra tenant id, SAML entity id …). */
  readonly homeTenantId?: string;
  /**
   * Authentication methods and context as the upstream stated them (RFC 8176 values where the
   * upstream uses them). Not yet trusted: policy decides what reaches tokens.
   */
  readonly amr: readonly string[];
  readonly acr?: string;
  /** Device claims as the upstream stated them; untrusted until policy says otherwise. */
  readonly device?: { readonly compliant?: boolean; readonly hybridJoined?: boolean };
  /** The upstream's claims or attributes, for claim mapping and the sign-in log. No tokens. */
  readonly rawClaims: Readonly<Record<string, unknown>>;
}

/** What a connector remembers between start and completion; JSON, persisted in the sign-in flow. */
export type ConnectorState = Readonly<Record<string, string | number | boolean | null>>;

export interface StartContext {
  /** The sign-in flow this attempt belongs to; state must be bound to it. */
  readonly flowId: string;
  /** This connector's own callback (redirect) or assertion consumer service (SAML) URL. */
  readonly callbackUrl: string;
  readonly loginHint?: string;
  /** The guest's locale, for upstreams that take one. */
  readonly locale?: string;
}

interface ConnectorBase<K extends ConnectorKind> {
  readonly id: string;
  readonly kind: K;
  /** Shown on the IdP picker ("Sign in with Google"). */
  readonly displayName: string;
  readonly group: ConnectorGroup;
  /** Email domains whose users this connector signs in (home-realm discovery). */
  readonly domains: readonly string[];
}

/** OIDC and OAuth 2.0 IdPs: a browser redirect out, a redirect back with a code. */
export interface RedirectConnector<K extends ConnectorKind = ConnectorKind> extends ConnectorBase<K> {
  readonly capability: 'redirect';
  start(context: StartContext): Promise<{ readonly redirectUrl: string; readonly state: ConnectorState }>;
  /**
   * `callbackUrl` is the full URL the browser came back on (query included). Throws
   * UpstreamError on anything wrong, including the IdP's own error response.
   */
  handleCallback(callbackUrl: URL, state: ConnectorState, context: StartContext): Promise<UpstreamIdentity>;
}

/** SAML 2.0 SP-initiated: an AuthnRequest by redirect, a signed Response by POST. */
export interface SamlConnector<K extends ConnectorKind = ConnectorKind> extends ConnectorBase<K> {
  readonly capability: 'saml-post';
  start(context: StartContext): Promise<{ readonly redirectUrl: string; readonly state: ConnectorState }>;
  /** `body` is the raw urlencoded POST body (size already capped by the route). */
  handlePost(body: { readonly SAMLResponse: string; readonly RelayState?: string }, state: ConnectorState, context: StartContext): Promise<UpstreamIdentity>;
  /** The SP metadata XML for this connector. */
  metadata(): string;
}

export type SendCodeResult =
  | { readonly status: 'sent' }
  /** Too many codes asked for this address or from this client: try again after the delay. */
  | { readonly status: 'throttled'; readonly retryAfterSeconds: number };

/** Email one-time passcodes. */
export interface CodeConnector<K extends ConnectorKind = ConnectorKind> extends ConnectorBase<K> {
  readonly capability: 'code';
  /** Sends a code to `email`, bound to the flow; the same answer whether or not the address is known. */
  send(input: { readonly flowId: string; readonly email: string; readonly clientIp: string; readonly locale?: string; readonly tenantDisplayName: string }): Promise<SendCodeResult>;
  /** Throws UpstreamError (`invalid_code`, `code_expired`, `too_many_attempts`, `throttled`) unless the code is right. */
  verify(input: { readonly flowId: string; readonly email: string; readonly code: string; readonly clientIp: string }): Promise<UpstreamIdentity>;
}

export type Connector = RedirectConnector | SamlConnector | CodeConnector;

/**
 * Failures of an upstream or of what it sent. `code` is stable and shown to the person
 * (translated), `message` is for the log only and must not contain tokens, codes or assertions.
 */
export class UpstreamError extends Error {
  readonly code: UpstreamErrorCode;
  readonly connectorId: string;
  constructor(code: UpstreamErrorCode, connectorId: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'UpstreamError';
    this.code = code;
    this.connectorId = connectorId;
  }
}

export type UpstreamErrorCode =
  /** The IdP answered with an error (user cancelled, access_denied …). */
  | 'upstream_denied'
  /** The IdP did not answer in time or could not be reached. */
  | 'upstream_unavailable'
  /** What came back failed validation (signature, issuer, audience, state, nonce, replay …). */
  | 'invalid_response'
  /** The identity lacks something Portico needs (no subject, no email where required …). */
  | 'incomplete_identity'
  | 'invalid_code'
  | 'code_expired'
  | 'too_many_attempts'
  | 'throttled';

// ---------------------------------------------------------------------------------------------
// Ports a connector may need, implemented on the store by the composition root.

/** Single-use values shared by all instances: SAML request ids and assertion ids. */
export interface OneTimeIdStore {
  /** Remembers `id` until `ttlSeconds`; false when it is already there. */
  remember(namespace: string, id: string, ttlSeconds: number): Promise<boolean>;
  /** Atomically removes `id`; true for exactly one caller when it was there. */
  take(namespace: string, id: string): Promise<boolean>;
}

export interface PasscodeChallenge {
  readonly hash: string;
  readonly email: string;
  readonly flowId: string;
  readonly expiresAt: number;
  readonly attempts: number;
  readonly sentAt: number;
}

/** Email passcode challenges, one per (flow, address), and the counters rate limits need. */
export interface PasscodeStore {
  save(key: string, challenge: PasscodeChallenge, ttlSeconds: number): Promise<void>;
  get(key: string): Promise<PasscodeChallenge | undefined>;
  /** Atomically adds one failed attempt; returns the new count (undefined when gone). */
  recordFailure(key: string): Promise<number | undefined>;
  /** Atomically deletes the challenge; true for exactly one caller. */
  consume(key: string): Promise<boolean>;
  /** Fixed-window counter for rate limits; returns the count including this hit. */
  hit(counter: string, windowSeconds: number): Promise<number>;
}

/** Sends mail (SMTP or the file outbox); the connector builds the message. */
export interface Mailer {
  send(message: { readonly to: string; readonly subject: string; readonly text: string; readonly html?: string }): Promise<void>;
}

/** Fetch with a bound: every upstream call goes through it so a slow IdP cannot hold a sign-in. */
export type UpstreamFetch = typeof fetch;
