/**
 * Throwaway signing and encryption keys with self-signed X.509 certificates, as a SAML IdP or SP
 * publishes them. Node can make keys but not certificates, so the certificate comes from the
 * `openssl` command line tool (installed with the OS).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateKeyPairSync } from 'node:crypto';

export interface KeyPair {
  /** PKCS#8 PEM. */
  readonly privateKey: string;
  /** X.509 PEM, self-signed. */
  readonly certificate: string;
}

export function generateKeyPair(commonName: string, options: { days?: number } = {}): KeyPair {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const dir = mkdtempSync(join(tmpdir(), 'portico-saml-key-'));
  try {
    const keyFile = join(dir, 'key.pem');
    writeFileSync(keyFile, pem, { mode: 0o600 });
    const certFile = join(dir, 'cert.pem');
    execFileSync(
      'openssl',
      ['req', '-new', '-x509', '-key', keyFile, '-out', certFile, '-days', String(options.days ?? 3650), '-sha256', '-subj', `/CN=${commonName}`],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    return { privateKey: pem, certificate: readFileSync(certFile, 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The base64 body of a PEM, as metadata and KeyInfo carry it. */
export const pemBody = (pem: string): string => pem.replace(/-----(BEGIN|END) [A-Z ]+-----/g, '').replace(/\s+/g, '');
