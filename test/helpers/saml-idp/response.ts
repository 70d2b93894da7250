/**
 * Builds SAML 2.0 Responses the way an IdP does: real XML, signed with xml-crypto (exclusive
 * c14n, enveloped signature, RSA-SHA256 unless told otherwise), optionally encrypted with
 * xml-encryption, with knobs to produce every kind of broken or hostile response a broker must
 * refuse. Used by the test IdP server, the unit tests, the fixture generator and the benchmark.
 */
import { randomBytes } from 'node:crypto';
import { SignedXml } from 'xml-crypto';
import * as xmlenc from 'xml-encryption';
import type { KeyPair } from './keys.ts';

export const NS = {
  protocol: 'urn:oasis:names:tc:SAML:2.0:protocol',
  assertion: 'urn:oasis:names:tc:SAML:2.0:assertion',
  xs: 'http://www.w3.org/2001/XMLSchema',
  xsi: 'http://www.w3.org/2001/XMLSchema-instance',
} as const;

export const NAMEID_FORMAT = {
  persistent: 'urn:oasis:names:tc:SAML:2.0:nameid-format:persistent',
  transient: 'urn:oasis:names:tc:SAML:2.0:nameid-format:transient',
  emailAddress: 'urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress',
  unspecified: 'urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified',
} as const;

export const AUTHN_CONTEXT = {
  password: 'urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport',
  refedsMfa: 'https://refeds.org/profile/mfa',
} as const;

export const STATUS = {
  success: 'urn:oasis:names:tc:SAML:2.0:status:Success',
  responder: 'urn:oasis:names:tc:SAML:2.0:status:Responder',
  requester: 'urn:oasis:names:tc:SAML:2.0:status:Requester',
  authnFailed: 'urn:oasis:names:tc:SAML:2.0:status:AuthnFailed',
  requestDenied: 'urn:oasis:names:tc:SAML:2.0:status:RequestDenied',
} as const;

/** Attribute names as most IdPs send them (OIDs of the eduPerson/inetOrgPerson schemas). */
export const ATTRIBUTE = {
  mail: 'urn:oid:0.9.2342.19200300.100.1.3',
  displayName: 'urn:oid:2.16.840.1.113730.3.1.241',
  givenName: 'urn:oid:2.5.4.42',
  surname: 'urn:oid:2.5.4.4',
} as const;

const ALGORITHMS = {
  sha256: { signature: 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256', digest: 'http://www.w3.org/2001/04/xmlenc#sha256' },
  sha512: { signature: 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha512', digest: 'http://www.w3.org/2001/04/xmlenc#sha512' },
  sha1: { signature: 'http://www.w3.org/2000/09/xmldsig#rsa-sha1', digest: 'http://www.w3.org/2000/09/xmldsig#sha1' },
} as const;

const EXC_C14N = 'http://www.w3.org/2001/10/xml-exc-c14n#';
const ENVELOPED = 'http://www.w3.org/2000/09/xmldsig#enveloped-signature';

export interface SamlUser {
  readonly nameId: string;
  /** Default: persistent. */
  readonly nameIdFormat?: string;
  readonly attributes?: Readonly<Record<string, string | readonly string[]>>;
}

export interface CreateResponseOptions {
  /** The IdP's entity id (Response and Assertion Issuer unless overridden). */
  readonly issuer: string;
  /** Signs with this key; its certificate goes into KeyInfo. */
  readonly signingKey: KeyPair;
  /** The AuthnRequest ID; `null` leaves InResponseTo out (IdP-initiated, or a replay vector). */
  readonly requestId: string | null;
  /** The ACS URL: Destination and Recipient unless overridden. */
  readonly acsUrl: string;
  /** The SP entity id, the Audience. */
  readonly audience: string;
  readonly user: SamlUser;
  readonly authnContextClassRef?: string;
  /** Epoch ms the response is made at (default: now). */
  readonly now?: number;
  /** NotOnOrAfter of the conditions and the bearer confirmation, in seconds from `now` (default 300). */
  readonly lifetimeSeconds?: number;
  /** Conditions NotBefore, in seconds from `now` (default 0). */
  readonly notBeforeOffsetSeconds?: number;
  /** Which parts carry a signature (default: the assertion only). */
  readonly sign?: { readonly response?: boolean; readonly assertion?: boolean };
  readonly algorithm?: keyof typeof ALGORITHMS;
  /** Encrypts the (signed) assertion for this SP certificate (RSA-OAEP + AES-256-GCM). */
  readonly encryptFor?: string;
  readonly encryptionAlgorithm?: xmlenc.EncryptionAlgorithm;
  readonly keyEncryptionAlgorithm?: xmlenc.KeyEncryptionAlgorithm;
  readonly responseId?: string;
  readonly assertionId?: string;

  // Knobs for broken and hostile responses.
  /** Response Issuer, when not `issuer` (`null` leaves it out). */
  readonly responseIssuer?: string | null;
  /** Assertion Issuer, when not `issuer`. */
  readonly assertionIssuer?: string;
  /** Response Destination, when not `acsUrl` (`null` leaves it out). */
  readonly destination?: string | null;
  /** SubjectConfirmationData Recipient, when not `acsUrl`. */
  readonly recipient?: string;
  /** SubjectConfirmationData InResponseTo, when not `requestId` (`null` leaves it out). */
  readonly subjectInResponseTo?: string | null;
  /** A failure status: the Response then carries no assertion. */
  readonly status?: { readonly code: string; readonly subCode?: string; readonly message?: string };
  /** Changes the first value of this attribute after signing. */
  readonly alterAttributeAfterSigning?: { readonly name: string; readonly value: string };
  /** Puts a DOCTYPE with an internal entity before the root element. */
  readonly doctype?: boolean;
  /** Appends this after the root element. */
  readonly trailing?: string;
  /** Nests this many elements inside an attribute value (before signing, so the signature holds). */
  readonly nestingDepth?: number;
  /** Adds filler attributes until the XML is at least this many bytes. */
  readonly padToBytes?: number;
}

export interface CreatedResponse {
  readonly xml: string;
  /** What the browser POSTs as SAMLResponse. */
  readonly base64: string;
  readonly responseId: string;
  readonly assertionId: string;
}

export const newSamlId = (): string => `_${randomBytes(20).toString('hex')}`;

const escapeText = (value: string): string => value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const escapeAttr = (value: string): string => escapeText(value).replace(/"/g, '&quot;');
const instant = (ms: number): string => new Date(ms).toISOString();

function attributeXml(name: string, values: string | readonly string[]): string {
  const list = typeof values === 'string' ? [values] : values;
  const rendered = list.map((value) => `<saml:AttributeValue xsi:type="xs:string">${escapeText(value)}</saml:AttributeValue>`).join('');
  return `<saml:Attribute Name="${escapeAttr(name)}" NameFormat="urn:oasis:names:tc:SAML:2.0:attrname-format:uri">${rendered}</saml:Attribute>`;
}

function assertionXml(options: CreateResponseOptions, assertionId: string, now: number, padding: string): string {
  const lifetime = options.lifetimeSeconds ?? 300;
  const notOnOrAfter = instant(now + lifetime * 1000);
  const notBefore = instant(now + (options.notBeforeOffsetSeconds ?? 0) * 1000);
  const subjectInResponseTo = options.subjectInResponseTo === undefined ? options.requestId : options.subjectInResponseTo;
  const attributes = Object.entries(options.user.attributes ?? {}).map(([name, values]) => attributeXml(name, values));
  if (options.nestingDepth !== undefined) {
    const depth = options.nestingDepth;
    attributes.push(
      `<saml:Attribute Name="urn:example:nested"><saml:AttributeValue>${'<n>'.repeat(depth)}x${'</n>'.repeat(depth)}</saml:AttributeValue></saml:Attribute>`,
    );
  }
  const authnContext = options.authnContextClassRef ?? AUTHN_CONTEXT.password;
  return (
    `<saml:Assertion xmlns:saml="${NS.assertion}" xmlns:xs="${NS.xs}" xmlns:xsi="${NS.xsi}" ID="${assertionId}" Version="2.0" IssueInstant="${instant(now)}">` +
    `<saml:Issuer>${escapeText(options.assertionIssuer ?? options.issuer)}</saml:Issuer>` +
    `<saml:Subject><saml:NameID Format="${escapeAttr(options.user.nameIdFormat ?? NAMEID_FORMAT.persistent)}">${escapeText(options.user.nameId)}</saml:NameID>` +
    `<saml:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer"><saml:SubjectConfirmationData` +
    (subjectInResponseTo === null ? '' : ` InResponseTo="${escapeAttr(subjectInResponseTo)}"`) +
    ` NotOnOrAfter="${notOnOrAfter}" Recipient="${escapeAttr(options.recipient ?? options.acsUrl)}"/></saml:SubjectConfirmation></saml:Subject>` +
    `<saml:Conditions NotBefore="${notBefore}" NotOnOrAfter="${notOnOrAfter}"><saml:AudienceRestriction><saml:Audience>${escapeText(options.audience)}</saml:Audience></saml:AudienceRestriction></saml:Conditions>` +
    `<saml:AuthnStatement AuthnInstant="${instant(now)}" SessionIndex="${newSamlId()}"><saml:AuthnContext><saml:AuthnContextClassRef>${escapeText(authnContext)}</saml:AuthnContextClassRef></saml:AuthnContext></saml:AuthnStatement>` +
    (attributes.length > 0 || padding !== '' ? `<saml:AttributeStatement>${attributes.join('')}${padding}</saml:AttributeStatement>` : '') +
    `</saml:Assertion>`
  );
}

function signElement(xml: string, localName: 'Assertion' | 'Response', options: CreateResponseOptions): string {
  const algorithm = ALGORITHMS[options.algorithm ?? 'sha256'];
  const signer = new SignedXml({
    privateKey: options.signingKey.privateKey,
    publicCert: options.signingKey.certificate,
    signatureAlgorithm: algorithm.signature,
    canonicalizationAlgorithm: EXC_C14N,
  });
  const element = `/*[local-name(.)='${localName}']`;
  signer.addReference({ xpath: element, transforms: [ENVELOPED, EXC_C14N], digestAlgorithm: algorithm.digest });
  // SAML's schema puts the Signature right after the Issuer.
  signer.computeSignature(xml, { prefix: 'ds', location: { reference: `${element}/*[local-name(.)='Issuer']`, action: 'after' } });
  return signer.getSignedXml();
}

function encrypt(content: string, options: CreateResponseOptions, certificate: string): Promise<string> {
  return new Promise((resolve, reject) => {
    xmlenc.encrypt(
      content,
      {
        rsa_pub: certificate,
        pem: certificate,
        encryptionAlgorithm: options.encryptionAlgorithm ?? 'http://www.w3.org/2009/xmlenc11#aes256-gcm',
        keyEncryptionAlgorithm: options.keyEncryptionAlgorithm ?? 'http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p',
        warnInsecureAlgorithm: false,
      },
      (error, result) => (error ? reject(error) : resolve(result)),
    );
  });
}

function statusXml(status: CreateResponseOptions['status']): string {
  if (!status) return `<samlp:Status><samlp:StatusCode Value="${STATUS.success}"/></samlp:Status>`;
  const inner = status.subCode ? `<samlp:StatusCode Value="${escapeAttr(status.subCode)}"/>` : '';
  const message = status.message ? `<samlp:StatusMessage>${escapeText(status.message)}</samlp:StatusMessage>` : '';
  return `<samlp:Status><samlp:StatusCode Value="${escapeAttr(status.code)}">${inner}</samlp:StatusCode>${message}</samlp:Status>`;
}

/** Filler attributes, so a response reaches a realistic size (group lists, entitlements …). */
function padding(targetBytes: number, currentBytes: number): string {
  const parts: string[] = [];
  let size = currentBytes;
  for (let index = 0; size < targetBytes; index += 1) {
    const part = attributeXml(`urn:example:entitlement:${index}`, [`urn:example:group:${index.toString(16).padStart(8, '0')}:member`]);
    parts.push(part);
    size += part.length;
  }
  return parts.join('');
}

export async function createResponse(options: CreateResponseOptions): Promise<CreatedResponse> {
  const now = options.now ?? Date.now();
  const responseId = options.responseId ?? newSamlId();
  const assertionId = options.assertionId ?? newSamlId();
  const sign = { assertion: options.sign?.assertion ?? true, response: options.sign?.response ?? false };

  let assertion = '';
  if (!options.status) {
    assertion = assertionXml(options, assertionId, now, '');
    // Signatures and the envelope add about 3 KB; pad the assertion so the whole lands near the target.
    if (options.padToBytes !== undefined) assertion = assertionXml(options, assertionId, now, padding(options.padToBytes - 3200, assertion.length));
    if (sign.assertion) assertion = signElement(assertion, 'Assertion', options);
    if (options.encryptFor) {
      const encrypted = await encrypt(assertion, options, options.encryptFor);
      assertion = `<saml:EncryptedAssertion>${encrypted}</saml:EncryptedAssertion>`;
    }
  }

  const responseIssuer = options.responseIssuer === undefined ? options.issuer : options.responseIssuer;
  const destination = options.destination === undefined ? options.acsUrl : options.destination;
  let xml =
    `<samlp:Response xmlns:samlp="${NS.protocol}" xmlns:saml="${NS.assertion}" ID="${responseId}" Version="2.0" IssueInstant="${instant(now)}"` +
    (destination === null ? '' : ` Destination="${escapeAttr(destination)}"`) +
    (options.requestId === null ? '' : ` InResponseTo="${escapeAttr(options.requestId)}"`) +
    '>' +
    (responseIssuer === null ? '' : `<saml:Issuer>${escapeText(responseIssuer)}</saml:Issuer>`) +
    statusXml(options.status) +
    assertion +
    '</samlp:Response>';
  if (sign.response) {
    if (responseIssuer === null) throw new Error('a signed Response needs an Issuer to place the signature after');
    xml = signElement(xml, 'Response', options);
  }

  if (options.alterAttributeAfterSigning) {
    const { name, value } = options.alterAttributeAfterSigning;
    const pattern = new RegExp(`(<saml:Attribute Name="${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}"[^>]*><saml:AttributeValue[^>]*>)[^<]*`);
    if (!pattern.test(xml)) throw new Error(`no attribute ${name} to alter`);
    xml = xml.replace(pattern, `$1${escapeText(value)}`);
  }
  if (options.doctype) xml = `<?xml version="1.0"?><!DOCTYPE samlp:Response [<!ENTITY who "someone">]>${xml}`;
  if (options.trailing !== undefined) xml += options.trailing;

  return { xml, base64: Buffer.from(xml, 'utf8').toString('base64'), responseId, assertionId };
}
