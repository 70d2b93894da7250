import { normaliseEmail as normaliseAddress } from '../../shared/email.ts';

export interface NormalisedEmail {
  /** Trimmed, NFC, domain lowercased, local part as typed: where the mail goes and what is shown. */
  readonly email: string;
  /** Entirely lowercased: the identity's key, so case variants of one mailbox are one identity. */
  readonly key: string;
  readonly domain: string;
}

/**
 * The address the guest typed, normalised by the same rule as every other address Portico takes
 * in (src/shared/email.ts: no control characters, one `@`, a plain ASCII DNS domain), so the
 * identity this connector yields matches invitations and the directory letter for letter; or
 * undefined when it is not one plain mailbox address.
 */
export function normaliseEmail(input: string): NormalisedEmail | undefined {
  const email = normaliseAddress(input);
  if (email === undefined) return undefined;
  return { email, key: email.toLowerCase(), domain: email.slice(email.lastIndexOf('@') + 1) };
}
