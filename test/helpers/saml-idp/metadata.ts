/** IdP metadata as a SAML IdP publishes it: signing certificates (one or two, for rollover) and SSO endpoints. */
import { pemBody } from './keys.ts';
import { NAMEID_FORMAT } from './response.ts';

const escapeAttr = (value: string): string => value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/"/g, '&quot;');

export interface IdpMetadataOptions {
  readonly entityId: string;
  readonly ssoUrl: string;
  /** PEM certificates published for signing, in order. */
  readonly signingCertificates: readonly string[];
  /** Also publish a KeyDescriptor without `use` (meaning both signing and encryption). */
  readonly unqualifiedCertificate?: string;
  /** Also publish an encryption-only certificate, which must not be trusted for signatures. */
  readonly encryptionCertificate?: string;
}

const keyDescriptor = (certificate: string, use: string | undefined): string =>
  `<md:KeyDescriptor${use ? ` use="${use}"` : ''}><ds:KeyInfo><ds:X509Data><ds:X509Certificate>${pemBody(certificate)}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>`;

export function idpMetadataXml(options: IdpMetadataOptions): string {
  const keys = [
    ...options.signingCertificates.map((certificate) => keyDescriptor(certificate, 'signing')),
    ...(options.unqualifiedCertificate ? [keyDescriptor(options.unqualifiedCertificate, undefined)] : []),
    ...(options.encryptionCertificate ? [keyDescriptor(options.encryptionCertificate, 'encryption')] : []),
  ];
  return (
    `<?xml version="1.0" encoding="UTF-8"?>\n` +
    `<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" entityID="${escapeAttr(options.entityId)}">` +
    `<md:IDPSSODescriptor WantAuthnRequestsSigned="false" protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">` +
    keys.join('') +
    `<md:NameIDFormat>${NAMEID_FORMAT.persistent}</md:NameIDFormat>` +
    `<md:NameIDFormat>${NAMEID_FORMAT.emailAddress}</md:NameIDFormat>` +
    `<md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="${escapeAttr(options.ssoUrl)}"/>` +
    `<md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="${escapeAttr(options.ssoUrl)}"/>` +
    `</md:IDPSSODescriptor></md:EntityDescriptor>\n`
  );
}
