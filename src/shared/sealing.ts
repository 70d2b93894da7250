import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';

/** AES-256-GCM ciphertext as stored: every part base64url. */
export interface Sealed {
  readonly iv: string;
  readonly tag: string;
  readonly data: string;
}

/**
 * Seals secrets at rest (signing keys, authenticator secrets) with AES-256-GCM under a key derived
 * from `keys.encryptionSecret`. Each purpose derives its own key, so a ciphertext of one kind can
 * never be opened as another; the `context` given to seal and open is bound in as additional data,
 * so a sealed value moved to another record (another tenant, user or key id) does not open.
 */
export class Sealer {
  readonly #key: Buffer;

  /** `purpose` is the HKDF info, e.g. `signing-keys/v1`; changing it makes existing data unreadable. */
  constructor(secret: string, purpose: string) {
    this.#key = Buffer.from(hkdfSync('sha256', secret, 'portico', purpose, 32));
  }

  seal(plaintext: string, context: string): Sealed {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.#key, iv);
    cipher.setAAD(Buffer.from(context));
    const data = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return { iv: iv.toString('base64url'), tag: cipher.getAuthTag().toString('base64url'), data: data.toString('base64url') };
  }

  /** The plaintext; throws when the key, the context or the ciphertext is not the one sealed. */
  open(sealed: Sealed, context: string): string {
    const decipher = createDecipheriv('aes-256-gcm', this.#key, Buffer.from(sealed.iv, 'base64url'));
    decipher.setAAD(Buffer.from(context));
    decipher.setAuthTag(Buffer.from(sealed.tag, 'base64url'));
    return Buffer.concat([decipher.update(Buffer.from(sealed.data, 'base64url')), decipher.final()]).toString('utf8');
  }
}

/** A sealer when an encryption secret is configured; undefined means secrets are stored as they are. */
export const sealerFor = (secret: string | undefined, purpose: string): Sealer | undefined => (secret ? new Sealer(secret, purpose) : undefined);
