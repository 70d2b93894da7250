/**
 * One response, validated end to end except for the two store operations (taking the request
 * id, which arrives as `takeRequestId`, and recording the assertion id, done by the caller).
 * Pure otherwise, so it runs in a worker thread: see validation-pool.ts for why.
 *
 * node-saml's `SAML` class is used directly, not through passport-saml: Portico's sign-in is its
 * own persisted state machine, so passport's coupling to req/session would add nothing but a
 * second place where state lives.
 */
import { SAML, SamlStatusError, ValidateInResponseTo } from '@node-saml/node-saml';
import { checkAssertion, type CheckedAssertion } from './assertion.ts';
import { checkEncryptedAssertion, loggable, readEnvelope, STATUS_SUCCESS } from './envelope.ts';
import { simpleAttributes, type AttributeValues } from './identity.ts';
import { Refusal } from './refusal.ts';
import { REQUEST_TTL_SECONDS, RequestIdClaim } from './request-ids.ts';
import type { XmlGuardLimits } from './xml-guard.ts';

export interface ValidationJob {
  /** The guarded, decoded XML and the same bytes as base64 (what node-saml decodes). */
  readonly xml: string;
  readonly base64: string;
  readonly requestId: string;
  readonly acsUrl: string;
  readonly spEntityId: string;
  readonly idpEntityId: string;
  readonly signingCertificates: readonly string[];
  readonly wantAssertionsSigned: boolean;
  readonly decryptionKey: string | undefined;
  readonly nameIdFormat: string;
  /** Epoch ms on Portico's clock. */
  readonly now: number;
  readonly skewMs: number;
  readonly limits: XmlGuardLimits;
}

export interface ValidatedResponse {
  readonly assertion: CheckedAssertion;
  readonly attributes: AttributeValues;
  readonly responseSigned: boolean;
}

/** The SAML class, telling which element the signature that node-saml trusted was on. */
class ObservedSaml extends SAML {
  responseSigned = false;
  protected override async getSignedAssertion(signedXml: string): Promise<string | null> {
    // node-saml hands over the bytes it verified: a Response when the Response signature held.
    this.responseSigned = /^<(?:[A-Za-z_][\w.-]*:)?Response[\s>/]/.test(signedXml);
    return super.getSignedAssertion(signedXml);
  }
}

/**
 * node-saml verifies each signature against every trusted certificate in turn, and each failed
 * try costs a full re-parse and canonicalisation: during a rollover the new key would double the
 * work. The certificate a signature names in its KeyInfo goes first. Only the order changes: a
 * KeyInfo certificate that is not configured is never trusted.
 */
export function keyInfoFirst(certificates: readonly string[], xml: string): string[] {
  const named = new Set([...xml.matchAll(/<(?:[A-Za-z_][\w.-]*:)?X509Certificate>([^<]+)</g)].map((match) => (match[1] ?? '').replace(/\s+/g, '')));
  if (named.size === 0 || certificates.length < 2) return [...certificates];
  const body = (pem: string) => pem.replace(/-----(?:BEGIN|END) CERTIFICATE-----|\s+/g, '');
  return [...certificates.filter((pem) => named.has(body(pem))), ...certificates.filter((pem) => !named.has(body(pem)))];
}

const lastSegment = (uri: string | undefined): string => loggable(uri?.slice(uri.lastIndexOf(':') + 1) ?? 'none', 60);

export async function validateResponse(job: ValidationJob, takeRequestId: (id: string) => Promise<boolean>): Promise<ValidatedResponse> {
  const envelope = readEnvelope(job.xml);
  if (envelope.version !== '2.0') throw new Refusal('invalid_response', 'Response Version is not 2.0');
  if (envelope.inResponseTo === undefined) throw new Refusal('invalid_response', 'Response has no InResponseTo: IdP-initiated sign-in is refused');
  if (envelope.inResponseTo !== job.requestId) throw new Refusal('invalid_response', "InResponseTo does not answer this sign-in's request");
  const claim = new RequestIdClaim(job.requestId, takeRequestId);

  if (envelope.statusCode === undefined) throw new Refusal('invalid_response', 'Response has no Status/StatusCode');
  if (envelope.statusCode !== STATUS_SUCCESS) {
    // A refusal ends this request as surely as a success would.
    await claim.take();
    const message = envelope.statusMessage ? `: ${envelope.statusMessage}` : '';
    throw new Refusal('upstream_denied', `IdP answered ${lastSegment(envelope.statusCode)}/${lastSegment(envelope.subStatusCode)}${message}`);
  }
  if (envelope.issuer !== undefined && envelope.issuer !== job.idpEntityId) {
    throw new Refusal('invalid_response', `Response Issuer ${loggable(envelope.issuer)} is not the configured IdP ${job.idpEntityId}`);
  }
  if (envelope.destination !== undefined && envelope.destination !== job.acsUrl) {
    throw new Refusal('invalid_response', `Response Destination ${loggable(envelope.destination)} is not the ACS URL`);
  }
  if (envelope.assertions !== 1) throw new Refusal('invalid_response', `Response must hold exactly one assertion (holds ${envelope.assertions})`);
  if (envelope.encryptedAssertion !== undefined) await checkEncryptedAssertion(envelope.encryptedAssertion, job.decryptionKey, job.limits);

  const saml = new ObservedSaml({
    callbackUrl: job.acsUrl,
    issuer: job.spEntityId,
    audience: job.spEntityId,
    idpIssuer: job.idpEntityId,
    idpCert: keyInfoFirst(job.signingCertificates, job.xml),
    wantAssertionsSigned: job.wantAssertionsSigned,
    // Either signature may cover the assertion; which one is required is wantAssertionsSigned's call.
    wantAuthnResponseSigned: false,
    validateInResponseTo: ValidateInResponseTo.always,
    cacheProvider: claim,
    requestIdExpirationPeriodMs: REQUEST_TTL_SECONDS * 1000,
    // node-saml reads Date.now(); every time check is done below on Portico's injected clock.
    acceptedClockSkewMs: -1,
    identifierFormat: job.nameIdFormat,
    ...(job.decryptionKey === undefined ? {} : { decryptionPvk: job.decryptionKey }),
  });

  let profile: Awaited<ReturnType<SAML['validatePostResponseAsync']>>['profile'];
  try {
    ({ profile } = await saml.validatePostResponseAsync({ SAMLResponse: job.base64 }));
  } catch (error) {
    if (error instanceof SamlStatusError) throw new Refusal('upstream_denied', `IdP status: ${loggable(error.message)}`, error);
    throw new Refusal('invalid_response', `node-saml: ${loggable(error instanceof Error ? error.message : String(error), 300)}`, error);
  }
  if (!profile || !claim.held) throw new Refusal('invalid_response', 'node-saml returned no login profile');

  if (envelope.hasSignature && !saml.responseSigned) throw new Refusal('invalid_response', 'the Response signature does not verify');
  // SAML bindings §3.5.5.2 and profiles §4.1.4.2: a signed Response names its Destination and Issuer.
  if (saml.responseSigned && envelope.destination === undefined) throw new Refusal('invalid_response', 'signed Response without Destination');
  if ((saml.responseSigned || envelope.encryptedAssertion !== undefined) && envelope.issuer === undefined) {
    throw new Refusal('invalid_response', 'signed Response or encrypted assertion without a Response Issuer');
  }

  const assertion = checkAssertion(profile.getAssertion?.(), {
    idpEntityId: job.idpEntityId,
    spEntityId: job.spEntityId,
    acsUrl: job.acsUrl,
    requestId: job.requestId,
    now: job.now,
    skewMs: job.skewMs,
    nameIdFormat: job.nameIdFormat,
  });
  return { assertion, attributes: simpleAttributes(profile['attributes']), responseSigned: saml.responseSigned };
}
