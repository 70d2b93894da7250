/**
 * Passkeys (WebAuthn) as a second factor beside the authenticator app: registration and
 * authentication ceremonies through @simplewebauthn/server, and the user's credentials per tenant
 * and user on the document store.
 *
 * The relying party is Portico itself: the RP ID is the host of PUBLIC_URL and the expected origin
 * is PUBLIC_URL's origin, the same for every tenant (they share the origin). Each ceremony's
 * challenge is stored for its sign-in flow with a short time to live and consumed on first use, so
 * a response is accepted once at most, and only by the flow that asked for it. User verification
 * (a PIN or biometric on the authenticator) is required, so a passkey alone is two factors.
 *
 * The first method a user enrols brings the recovery codes: when that is a passkey, they are made
 * through AuthenticatorStore, which keeps them for either method; deleting the last passkey drops
 * them again when no app is left.
 */
import {
  generateAuthenticationOptions,
  generateRegistrationOptions,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
  type AuthenticationResponseJSON,
  type PublicKeyCredentialCreationOptionsJSON,
  type PublicKeyCredentialRequestOptionsJSON,
  type RegistrationResponseJSON,
} from '@simplewebauthn/server';
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { Clock } from '../shared/clock.ts';
import { AlreadyExistsError, NotFoundError } from '../storage/errors.ts';
import type { DocumentStore } from '../storage/ports.ts';
import type { AuthenticatorStore } from './authenticator-store.ts';

const PASSKEYS = 'mfa-passkeys';
const CHALLENGES = 'mfa-passkey-challenges';

/** Long enough to find a security key and touch it; the browser's own timeout is the same. */
export const CHALLENGE_TTL_SECONDS = 300;

/** Ed25519, P-256 and RSA: what platform authenticators and security keys create. */
const SUPPORTED_ALGORITHMS = [-8, -7, -257];

/** A passkey as the management API lists it: never the public key or counter. */
export interface PasskeyMethod {
  readonly kind: 'fido2';
  readonly id: string;
  readonly displayName: string;
  readonly createdDateTime: string;
}

/** RFC 8176: a key that cannot leave its device (`hwk`) or one synced between devices (`swk`). */
export type PasskeyAmr = 'hwk' | 'swk';

export type RegisterResult =
  | { readonly status: 'registered'; readonly passkey: PasskeyMethod; readonly amr: PasskeyAmr; readonly recoveryCodes: readonly string[] | undefined }
  /** No challenge pending for this flow: never asked, expired, or already answered. */
  | { readonly status: 'expired' }
  /** The response does not verify (wrong origin, challenge, RP, no user verification, malformed). */
  | { readonly status: 'invalid'; readonly detail: string }
  /** The same authenticator is registered for this user already. */
  | { readonly status: 'already_registered' };

export type AuthenticateResult =
  | { readonly status: 'ok'; readonly passkey: PasskeyMethod; readonly amr: PasskeyAmr }
  | { readonly status: 'expired' }
  | { readonly status: 'invalid'; readonly detail: string }
  /** The response names a credential this user does not have (deleted, or someone else's). */
  | { readonly status: 'unknown_credential' }
  | { readonly status: 'no_method' };

interface StoredCredential {
  /** Portico's id for the method (what the API lists and deletes). */
  readonly id: string;
  /** The WebAuthn credential id, base64url. */
  readonly credentialId: string;
  /** COSE public key, base64url. */
  readonly publicKey: string;
  /** The signature counter last seen; 0 for authenticators that do not count. */
  readonly counter: number;
  readonly transports?: readonly string[];
  /** Synced between devices (a multi-device credential). */
  readonly backedUp: boolean;
  readonly displayName: string;
  readonly createdDateTime: string;
  readonly lastUsedDateTime?: string;
}

interface StoredPasskeys {
  readonly tenantId: string;
  readonly userId: string;
  readonly credentials: readonly StoredCredential[];
}

interface StoredChallenge {
  readonly challenge: string;
}

const userKey = (tenantId: string, userId: string): string => JSON.stringify([tenantId, userId]);
const challengeKey = (tenantId: string, userId: string, flowId: string, ceremony: 'register' | 'authenticate'): string =>
  JSON.stringify([tenantId, userId, flowId, ceremony]);

const base64url = z.string().regex(/^[A-Za-z0-9_-]+$/).max(16_384);

/** What a browser posts, as `PublicKeyCredential.toJSON()` gives it; anything else is refused before verification. */
const registrationResponseSchema = z.object({
  id: base64url,
  rawId: base64url,
  type: z.literal('public-key'),
  response: z.object({
    clientDataJSON: base64url,
    attestationObject: base64url,
    transports: z.array(z.string().max(32)).max(10).optional(),
  }),
  authenticatorAttachment: z.enum(['platform', 'cross-platform']).optional(),
  clientExtensionResults: z.record(z.string(), z.unknown()).default({}),
});

const authenticationResponseSchema = z.object({
  id: base64url,
  rawId: base64url,
  type: z.literal('public-key'),
  response: z.object({
    clientDataJSON: base64url,
    authenticatorData: base64url,
    signature: base64url,
    userHandle: base64url.optional(),
  }),
  authenticatorAttachment: z.enum(['platform', 'cross-platform']).optional(),
  clientExtensionResults: z.record(z.string(), z.unknown()).default({}),
});

/**
 * The WebAuthn user handle: the 16 bytes of the Portico object id (a UUID), so it names the user
 * without saying anything personal. Other ids are used as their UTF-8 bytes.
 */
export function userHandleOf(userId: string): Uint8Array<ArrayBuffer> {
  const hex = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(userId) ? userId.replace(/-/g, '') : undefined;
  return new Uint8Array(hex ? Buffer.from(hex, 'hex') : Buffer.from(userId, 'utf8'));
}

export class PasskeyStore {
  readonly #store: DocumentStore;
  readonly #clock: Clock;
  readonly #authenticators: AuthenticatorStore;
  readonly #rpId: string;
  readonly #origin: string;

  constructor(options: { store: DocumentStore; clock: Clock; publicUrl: string; authenticators: AuthenticatorStore }) {
    this.#store = options.store;
    this.#clock = options.clock;
    this.#authenticators = options.authenticators;
    const url = new URL(options.publicUrl);
    this.#rpId = url.hostname;
    this.#origin = url.origin;
  }

  /** The host passkeys are bound to (the RP ID). */
  get rpId(): string {
    return this.#rpId;
  }

  /**
   * Options for `navigator.credentials.create()`, with a fresh challenge for this flow (replacing
   * any earlier one). The user's passkeys are excluded, so the same authenticator is not added twice.
   */
  async registrationOptions(input: {
    readonly tenantId: string;
    readonly userId: string;
    readonly flowId: string;
    /** The tenant's display name, which the browser shows. */
    readonly rpName: string;
    /** The account the passkey is for (UPN or email), which the browser shows. */
    readonly userName: string;
    readonly userDisplayName: string;
  }): Promise<PublicKeyCredentialCreationOptionsJSON> {
    const existing = await this.#credentials(input.tenantId, input.userId);
    const options = await generateRegistrationOptions({
      rpName: input.rpName,
      rpID: this.#rpId,
      userName: input.userName,
      userID: userHandleOf(input.userId),
      userDisplayName: input.userDisplayName,
      timeout: CHALLENGE_TTL_SECONDS * 1000,
      attestationType: 'none',
      excludeCredentials: existing.map((c) => ({ id: c.credentialId, ...(c.transports ? { transports: [...c.transports] } : {}) })),
      authenticatorSelection: { residentKey: 'preferred', userVerification: 'required' },
      supportedAlgorithmIDs: SUPPORTED_ALGORITHMS,
    });
    await this.#putChallenge(challengeKey(input.tenantId, input.userId, input.flowId, 'register'), options.challenge);
    return options;
  }

  /**
   * Verifies the browser's answer to this flow's registration challenge (consuming it) and keeps
   * the passkey. When it is the user's first method, the result carries fresh recovery codes.
   */
  async verifyRegistration(input: { readonly tenantId: string; readonly userId: string; readonly flowId: string; readonly response: unknown }): Promise<RegisterResult> {
    const { tenantId, userId } = input;
    const challenge = await this.#takeChallenge(challengeKey(tenantId, userId, input.flowId, 'register'));
    if (challenge === undefined) return { status: 'expired' };
    const parsed = registrationResponseSchema.safeParse(input.response);
    if (!parsed.success) return { status: 'invalid', detail: 'not a registration response' };
    let info;
    try {
      const verification = await verifyRegistrationResponse({
        response: parsed.data as RegistrationResponseJSON,
        expectedChallenge: challenge,
        expectedOrigin: this.#origin,
        expectedRPID: this.#rpId,
        requireUserVerification: true,
        supportedAlgorithmIDs: SUPPORTED_ALGORITHMS,
      });
      if (!verification.verified) return { status: 'invalid', detail: 'registration not verified' };
      info = verification.registrationInfo;
    } catch (error) {
      return { status: 'invalid', detail: error instanceof Error ? error.message : String(error) };
    }

    const now = new Date(this.#clock.now()).toISOString();
    const transports = parsed.data.response.transports ?? info.credential.transports;
    const credential: StoredCredential = {
      id: randomUUID(),
      credentialId: info.credential.id,
      publicKey: Buffer.from(info.credential.publicKey).toString('base64url'),
      counter: info.credential.counter,
      ...(transports ? { transports: [...transports] } : {}),
      backedUp: info.credentialDeviceType === 'multiDevice',
      displayName: 'Passkey',
      createdDateTime: now,
    };
    const key = userKey(tenantId, userId);
    let duplicate = false;
    const added = (current: StoredPasskeys): StoredPasskeys => {
      duplicate = current.credentials.some((c) => c.credentialId === credential.credentialId);
      return duplicate ? current : { ...current, credentials: [...current.credentials, credential] };
    };
    try {
      await this.#store.update<StoredPasskeys>(PASSKEYS, key, added);
    } catch (error) {
      if (!(error instanceof NotFoundError)) throw error;
      // The first passkey: the record is created; a parallel first registration is merged in.
      try {
        await this.#store.create<StoredPasskeys>(PASSKEYS, key, added({ tenantId, userId, credentials: [] }), { tags: [`tenant:${tenantId}`] });
      } catch (raced) {
        if (!(raced instanceof AlreadyExistsError)) throw raced;
        await this.#store.update<StoredPasskeys>(PASSKEYS, key, added);
      }
    }
    if (duplicate) return { status: 'already_registered' };
    const recoveryCodes = await this.#authenticators.createRecoveryCodes(tenantId, userId);
    // Made with user verification just now: it counts as the second factor of this sign-in.
    return { status: 'registered', passkey: methodOf(credential), amr: amrOf(credential), recoveryCodes };
  }

  /**
   * Options for `navigator.credentials.get()` naming the user's passkeys, with a fresh challenge
   * for this flow; undefined when the user has none.
   */
  async authenticationOptions(input: { readonly tenantId: string; readonly userId: string; readonly flowId: string }): Promise<PublicKeyCredentialRequestOptionsJSON | undefined> {
    const credentials = await this.#credentials(input.tenantId, input.userId);
    if (credentials.length === 0) return undefined;
    const options = await generateAuthenticationOptions({
      rpID: this.#rpId,
      allowCredentials: credentials.map((c) => ({ id: c.credentialId, ...(c.transports ? { transports: [...c.transports] } : {}) })),
      userVerification: 'required',
      timeout: CHALLENGE_TTL_SECONDS * 1000,
    });
    await this.#putChallenge(challengeKey(input.tenantId, input.userId, input.flowId, 'authenticate'), options.challenge);
    return options;
  }

  /**
   * Verifies the browser's answer to this flow's authentication challenge (consuming it). The
   * signature counter must move forward (when the authenticator keeps one): a counter that does
   * not suggests a cloned authenticator, and the sign-in is refused.
   */
  async verifyAuthentication(input: { readonly tenantId: string; readonly userId: string; readonly flowId: string; readonly response: unknown }): Promise<AuthenticateResult> {
    const { tenantId, userId } = input;
    const challenge = await this.#takeChallenge(challengeKey(tenantId, userId, input.flowId, 'authenticate'));
    if (challenge === undefined) return { status: 'expired' };
    const credentials = await this.#credentials(tenantId, userId);
    if (credentials.length === 0) return { status: 'no_method' };
    const parsed = authenticationResponseSchema.safeParse(input.response);
    if (!parsed.success) return { status: 'invalid', detail: 'not an authentication response' };
    const stored = credentials.find((c) => c.credentialId === parsed.data.id);
    if (!stored) return { status: 'unknown_credential' };
    let newCounter: number;
    try {
      const verification = await verifyAuthenticationResponse({
        response: parsed.data as AuthenticationResponseJSON,
        expectedChallenge: challenge,
        expectedOrigin: this.#origin,
        expectedRPID: this.#rpId,
        credential: {
          id: stored.credentialId,
          publicKey: new Uint8Array(Buffer.from(stored.publicKey, 'base64url')),
          counter: stored.counter,
          ...(stored.transports ? { transports: [...stored.transports] } : {}),
        },
        requireUserVerification: true,
      });
      if (!verification.verified) return { status: 'invalid', detail: 'signature not verified' };
      newCounter = verification.authenticationInfo.newCounter;
    } catch (error) {
      return { status: 'invalid', detail: error instanceof Error ? error.message : String(error) };
    }

    // The counter check again, atomically: two assertions verified side by side cannot both move it.
    let outcome = 'unknown_credential' as 'ok' | 'unknown_credential' | 'counter';
    const now = new Date(this.#clock.now()).toISOString();
    try {
      await this.#store.update<StoredPasskeys>(PASSKEYS, userKey(tenantId, userId), (current) => {
        const credential = current.credentials.find((c) => c.id === stored.id);
        if (!credential) {
          outcome = 'unknown_credential';
          return current;
        }
        if ((newCounter > 0 || credential.counter > 0) && newCounter <= credential.counter) {
          outcome = 'counter';
          return current;
        }
        outcome = 'ok';
        return { ...current, credentials: current.credentials.map((c) => (c.id === stored.id ? { ...c, counter: newCounter, lastUsedDateTime: now } : c)) };
      });
    } catch (error) {
      if (!(error instanceof NotFoundError)) throw error;
      outcome = 'unknown_credential';
    }
    if (outcome === 'counter') return { status: 'invalid', detail: `signature counter ${newCounter} did not move forward` };
    if (outcome !== 'ok') return { status: outcome };
    return { status: 'ok', passkey: methodOf(stored), amr: amrOf(stored) };
  }

  async hasPasskey(tenantId: string, userId: string): Promise<boolean> {
    return (await this.#credentials(tenantId, userId)).length > 0;
  }

  async listPasskeys(tenantId: string, userId: string): Promise<PasskeyMethod[]> {
    return (await this.#credentials(tenantId, userId)).map(methodOf);
  }

  /**
   * Administrator reset of one passkey. When it was the user's last method (no other passkey, no
   * app), the recovery codes go with it and the user enrols afresh. True when it was deleted.
   */
  async remove(tenantId: string, userId: string, methodId: string): Promise<boolean> {
    const key = userKey(tenantId, userId);
    let removed = false;
    let remaining = 0;
    try {
      await this.#store.update<StoredPasskeys>(PASSKEYS, key, (current) => {
        const credentials = current.credentials.filter((c) => c.id !== methodId);
        removed = credentials.length !== current.credentials.length;
        remaining = credentials.length;
        return removed ? { ...current, credentials } : current;
      });
    } catch (error) {
      if (error instanceof NotFoundError) return false;
      throw error;
    }
    if (!removed) return false;
    if (remaining === 0) {
      await this.#store.delete(PASSKEYS, key);
      await this.#authenticators.dropRecoveryCodesWithoutMethod(tenantId, userId);
    }
    return true;
  }

  async #credentials(tenantId: string, userId: string): Promise<readonly StoredCredential[]> {
    return (await this.#store.get<StoredPasskeys>(PASSKEYS, userKey(tenantId, userId)))?.value.credentials ?? [];
  }

  async #putChallenge(key: string, challenge: string): Promise<void> {
    await this.#store.put<StoredChallenge>(CHALLENGES, key, { challenge }, { ttlSeconds: CHALLENGE_TTL_SECONDS });
  }

  /** The pending challenge, consumed: exactly one caller gets it, however many race. */
  async #takeChallenge(key: string): Promise<string | undefined> {
    const record = await this.#store.get<StoredChallenge>(CHALLENGES, key);
    if (!record || record.consumedAt !== undefined || (record.expiresAt !== undefined && record.expiresAt <= this.#clock.now())) return undefined;
    if (!(await this.#store.consume(CHALLENGES, key))) return undefined;
    return record.value.challenge;
  }
}

const amrOf = (credential: StoredCredential): PasskeyAmr => (credential.backedUp ? 'swk' : 'hwk');

const methodOf = (credential: StoredCredential): PasskeyMethod => ({
  kind: 'fido2',
  id: credential.id,
  displayName: credential.displayName,
  createdDateTime: credential.createdDateTime,
});
