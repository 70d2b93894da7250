import { createPublicKey, randomUUID, type JsonWebKey } from 'node:crypto';
import { exportJWK, generateKeyPair, importJWK, SignJWT, UnsecuredJWT, type JWK, type JWTPayload } from 'jose';

/** How a stand-in signs its next ID tokens. Everything but `current` must be refused by Portico. */
export type IdTokenSigning =
  /** The stand-in's current key (rotated or not), published in its JWKS. */
  | 'current'
  /** A key of its own whose kid is never published: unknown even after a JWKS re-fetch. */
  | 'unpublished'
  /** The current key's kid, but signed by another key: a bad signature. */
  | 'wrong-key'
  /** `alg: none`, no signature. */
  | 'none'
  /** HS256 keyed with the current RSA public key's PEM: the classic key-confusion attack. */
  | 'hs256-public-key';

export interface SigningKey {
  readonly kid: string;
  readonly privateJwk: JWK;
  readonly publicJwk: JWK;
}

async function newKey(): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
  const kid = randomUUID();
  return {
    kid,
    privateJwk: { ...(await exportJWK(privateKey)), kid, alg: 'RS256', use: 'sig' },
    publicJwk: { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' },
  };
}

/**
 * A stand-in's signing keys. oidc-provider signs with `initial`, fixed when it is built; rotation
 * and every tampered form re-sign the ID token afterwards (the stand-in's token endpoint wrapper),
 * and the stand-in's JWKS endpoint serves `published`.
 */
export class SigningKeys {
  readonly initial: SigningKey;
  #current: SigningKey;
  #published: SigningKey[];
  #unpublished: SigningKey | undefined;

  private constructor(initial: SigningKey) {
    this.initial = initial;
    this.#current = initial;
    this.#published = [initial];
  }

  static async create(): Promise<SigningKeys> {
    return new SigningKeys(await newKey());
  }

  get current(): SigningKey {
    return this.#current;
  }

  /** Public keys the JWKS endpoint serves. */
  publishedJwks(): { keys: JWK[] } {
    return { keys: this.#published.map((key) => key.publicJwk) };
  }

  /** A new key becomes current and is published; the old ones stay published. */
  async rotate(): Promise<SigningKey> {
    const key = await newKey();
    this.#current = key;
    this.#published = [...this.#published, key];
    return key;
  }

  async sign(claims: JWTPayload, signing: IdTokenSigning): Promise<string> {
    switch (signing) {
      case 'current':
        return signWith(claims, this.#current, this.#current.kid);
      case 'unpublished':
        this.#unpublished ??= await newKey();
        return signWith(claims, this.#unpublished, this.#unpublished.kid);
      case 'wrong-key':
        return signWith(claims, await newKey(), this.#current.kid);
      case 'none': {
        const unsigned = new UnsecuredJWT(claims).encode();
        // UnsecuredJWT writes no kid; add the real one so only the algorithm gives it away.
        const header = Buffer.from(JSON.stringify({ alg: 'none', kid: this.#current.kid })).toString('base64url');
        return `${header}.${unsigned.split('.')[1]}.`;
      }
      case 'hs256-public-key': {
        const pem = createPublicKey({ key: this.#current.publicJwk as JsonWebKey, format: 'jwk' }).export({ type: 'spki', format: 'pem' });
        return new SignJWT(claims).setProtectedHeader({ alg: 'HS256', kid: this.#current.kid }).sign(new TextEncoder().encode(String(pem)));
      }
    }
  }
}

async function signWith(claims: JWTPayload, key: SigningKey, kid: string): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid }).sign(await importJWK(key.privateJwk, 'RS256'));
}
