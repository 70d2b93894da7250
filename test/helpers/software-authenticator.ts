/**
 * A WebAuthn authenticator in software, for tests: one P-256 (ES256) credential made with
 * node:crypto, answering registration with a "none" attestation (CBOR through the encoder
 * @simplewebauthn/server itself uses) and authentication with a real signature. It plays the
 * browser's part too (clientDataJSON), so a test can make it lie about the origin or reuse a
 * challenge, or wind its signature counter back.
 */
import { isoCBOR } from '@simplewebauthn/server/helpers';
import type {
  AuthenticationResponseJSON,
  PublicKeyCredentialCreationOptionsJSON,
  PublicKeyCredentialRequestOptionsJSON,
  RegistrationResponseJSON,
} from '@simplewebauthn/server';
import { createHash, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';

const FLAG_UP = 0x01;
const FLAG_UV = 0x04;
const FLAG_BE = 0x08;
const FLAG_BS = 0x10;
const FLAG_AT = 0x40;

const sha256 = (data: Uint8Array | string): Buffer => createHash('sha256').update(data).digest();
const b64url = (data: Uint8Array | string): string => Buffer.from(data).toString('base64url');

export interface SoftwareAuthenticatorOptions {
  /** Where the "browser" says the ceremony happened. */
  readonly origin: string;
  /** Synced (backup eligible and backed up): a multi-device passkey. */
  readonly backedUp?: boolean;
  /** Whether the user is verified (PIN, biometric); true unless a test says otherwise. */
  readonly userVerified?: boolean;
}

export class SoftwareAuthenticator {
  readonly credentialId = randomBytes(32);
  readonly #privateKey: KeyObject;
  readonly #publicKey: KeyObject;
  readonly #options: SoftwareAuthenticatorOptions;
  /** The signature counter the next assertion carries (it is incremented first). */
  counter = 0;
  /** Whether the user was verified (PIN, biometric) in the next ceremony. */
  userVerified: boolean;

  constructor(options: SoftwareAuthenticatorOptions) {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    this.#privateKey = privateKey;
    this.#publicKey = publicKey;
    this.#options = options;
    this.userVerified = options.userVerified !== false;
  }

  get id(): string {
    return b64url(this.credentialId);
  }

  /** `navigator.credentials.create()` answered, as `PublicKeyCredential.toJSON()` gives it. */
  register(options: PublicKeyCredentialCreationOptionsJSON, overrides: { readonly origin?: string } = {}): RegistrationResponseJSON {
    const clientDataJSON = this.#clientData('webauthn.create', options.challenge, overrides.origin);
    const jwk = this.#publicKey.export({ format: 'jwk' });
    const coseKey = new Map<number, number | Uint8Array>([
      [1, 2], // kty: EC2
      [3, -7], // alg: ES256
      [-1, 1], // crv: P-256
      [-2, Buffer.from(jwk.x!, 'base64url')],
      [-3, Buffer.from(jwk.y!, 'base64url')],
    ]);
    const idLength = Buffer.alloc(2);
    idLength.writeUInt16BE(this.credentialId.length);
    const authData = Buffer.concat([
      this.#authDataHead(options.rp.id ?? new URL(this.#options.origin).hostname, FLAG_AT),
      Buffer.alloc(16), // AAGUID: none, as with "none" attestation
      idLength,
      this.credentialId,
      Buffer.from(isoCBOR.encode(coseKey)),
    ]);
    const attestation = new Map<string, string | Uint8Array | Map<string, string>>();
    attestation.set('fmt', 'none');
    attestation.set('attStmt', new Map());
    attestation.set('authData', authData);
    const attestationObject = isoCBOR.encode(attestation);
    return {
      id: this.id,
      rawId: this.id,
      type: 'public-key',
      response: { clientDataJSON: b64url(clientDataJSON), attestationObject: b64url(attestationObject), transports: ['internal'] },
      clientExtensionResults: {},
    };
  }

  /** `navigator.credentials.get()` answered. */
  authenticate(options: PublicKeyCredentialRequestOptionsJSON, overrides: { readonly origin?: string } = {}): AuthenticationResponseJSON {
    const clientDataJSON = this.#clientData('webauthn.get', options.challenge, overrides.origin);
    this.counter += 1;
    const authenticatorData = this.#authDataHead(options.rpId ?? new URL(this.#options.origin).hostname, 0);
    const signature = sign('sha256', Buffer.concat([authenticatorData, sha256(clientDataJSON)]), this.#privateKey);
    return {
      id: this.id,
      rawId: this.id,
      type: 'public-key',
      response: { clientDataJSON: b64url(clientDataJSON), authenticatorData: b64url(authenticatorData), signature: b64url(signature) },
      clientExtensionResults: {},
    };
  }

  #clientData(type: string, challenge: string, origin: string | undefined): string {
    return JSON.stringify({ type, challenge, origin: origin ?? this.#options.origin, crossOrigin: false });
  }

  /** rpIdHash, flags and the signature counter: the start of every authenticator data. */
  #authDataHead(rpId: string, extraFlags: number): Buffer {
    let flags = FLAG_UP | extraFlags;
    if (this.userVerified) flags |= FLAG_UV;
    if (this.#options.backedUp) flags |= FLAG_BE | FLAG_BS;
    const counter = Buffer.alloc(4);
    counter.writeUInt32BE(this.counter);
    return Buffer.concat([sha256(rpId), Buffer.from([flags]), counter]);
  }
}
