/**
 * The checks on a signed assertion that node-saml leaves to its caller or does on its own clock:
 * issuer, bearer subject confirmation (recipient, lifetime, InResponseTo), conditions and
 * audience, all on the injected clock. Input is node-saml's xml2js view of the *verified* bytes
 * (never the raw document), so nothing here can be fed by a signature-wrapping trick.
 */
import { loggable } from './envelope.ts';
import { Refusal } from './refusal.ts';

const BEARER = 'urn:oasis:names:tc:SAML:2.0:cm:bearer';
const ENTITY_FORMAT = 'urn:oasis:names:tc:SAML:2.0:nameid-format:entity';
export const TRANSIENT_FORMAT = 'urn:oasis:names:tc:SAML:2.0:nameid-format:transient';
export const UNSPECIFIED_FORMAT = 'urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified';
/** xs:dateTime as IdPs write it: UTC, optional fraction. Anything else is refused, not guessed at. */
const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?Z$/;
const SAML_ID = /^[A-Za-z_][A-Za-z0-9_.-]{0,255}$/;

type XmlNode = Record<string, unknown>;
const isNode = (value: unknown): value is XmlNode => typeof value === 'object' && value !== null && !Array.isArray(value);
export const children = (node: unknown, name: string): unknown[] => {
  const value = isNode(node) ? node[name] : undefined;
  return Array.isArray(value) ? value : [];
};
export const textOf = (node: unknown): string | undefined => {
  if (typeof node === 'string') return node.trim();
  return isNode(node) && typeof node['_'] === 'string' ? node['_'].trim() : undefined;
};
export const attributeOf = (node: unknown, name: string): string | undefined => {
  const attributes = isNode(node) ? node['$'] : undefined;
  const value = isNode(attributes) ? attributes[name] : undefined;
  return typeof value === 'string' ? value : undefined;
};

function only(node: unknown, name: string, where: string): unknown {
  const list = children(node, name);
  if (list.length !== 1) throw new Refusal('invalid_response', `${where} must have exactly one ${name} (has ${list.length})`);
  return list[0];
}

function time(value: string | undefined, label: string): number | undefined {
  if (value === undefined) return undefined;
  if (!DATE_TIME.test(value)) throw new Refusal('invalid_response', `${label} is not a UTC xs:dateTime`);
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) throw new Refusal('invalid_response', `${label} is not a valid date`);
  return ms;
}

export interface AssertionExpectations {
  readonly idpEntityId: string;
  readonly spEntityId: string;
  readonly acsUrl: string;
  readonly requestId: string;
  readonly now: number;
  readonly skewMs: number;
  /** The configured NameID format URI; unspecified accepts any but transient. */
  readonly nameIdFormat: string;
}

export interface CheckedAssertion {
  readonly id: string;
  readonly nameId: string;
  readonly nameIdFormat: string;
  readonly authnContextClassRef: string | undefined;
  /** Epoch ms after which no check on this assertion would pass any more: how long its id stays used. */
  readonly usableUntil: number;
}

/** Validity window check; returns a reason when `now` is outside [notBefore, notOnOrAfter) ± skew. */
function outsideWindow(expect: AssertionExpectations, notBefore: number | undefined, notOnOrAfter: number | undefined): string | undefined {
  if (notBefore !== undefined && expect.now + expect.skewMs < notBefore) return 'not yet valid';
  if (notOnOrAfter !== undefined && expect.now - expect.skewMs >= notOnOrAfter) return 'expired';
  return undefined;
}

export function checkAssertion(parsed: unknown, expect: AssertionExpectations): CheckedAssertion {
  const assertion = isNode(parsed) ? parsed['Assertion'] : undefined;
  if (!isNode(assertion)) throw new Refusal('invalid_response', 'signed content is not an Assertion');
  const id = attributeOf(assertion, 'ID');
  if (id === undefined || !SAML_ID.test(id)) throw new Refusal('invalid_response', 'Assertion ID missing or malformed');
  if (attributeOf(assertion, 'Version') !== '2.0') throw new Refusal('invalid_response', 'Assertion Version is not 2.0');

  const issuer = only(assertion, 'Issuer', 'Assertion');
  const issuerFormat = attributeOf(issuer, 'Format');
  if (issuerFormat !== undefined && issuerFormat !== ENTITY_FORMAT) throw new Refusal('invalid_response', 'Assertion Issuer has a non-entity Format');
  if (textOf(issuer) !== expect.idpEntityId) {
    throw new Refusal('invalid_response', `Assertion Issuer ${loggable(textOf(issuer) ?? '')} is not the configured IdP ${expect.idpEntityId}`);
  }
  const issueInstant = time(attributeOf(assertion, 'IssueInstant'), 'Assertion IssueInstant');
  if (issueInstant === undefined) throw new Refusal('invalid_response', 'Assertion IssueInstant missing');
  if (issueInstant > expect.now + expect.skewMs) throw new Refusal('invalid_response', 'Assertion issued in the future');

  // Subject: the NameID is the identity key.
  const subject = only(assertion, 'Subject', 'Assertion');
  if (children(subject, 'EncryptedID').length > 0) throw new Refusal('incomplete_identity', 'encrypted NameIDs are not supported');
  const nameIdNode = only(subject, 'NameID', 'Subject');
  const nameId = textOf(nameIdNode) ?? '';
  const nameIdFormat = attributeOf(nameIdNode, 'Format') ?? UNSPECIFIED_FORMAT;
  if (nameId === '' || nameId.length > 1024 || /\p{Cc}/u.test(nameId)) throw new Refusal('incomplete_identity', 'NameID empty, too long or with control characters');
  if (nameIdFormat === TRANSIENT_FORMAT) throw new Refusal('incomplete_identity', 'transient NameID: it changes at every sign-in, so it cannot key an identity');
  if (expect.nameIdFormat !== UNSPECIFIED_FORMAT && nameIdFormat !== expect.nameIdFormat) {
    throw new Refusal('incomplete_identity', `NameID format ${loggable(nameIdFormat)} is not the configured ${expect.nameIdFormat}`);
  }

  // At least one bearer confirmation must hold entirely (SAML profiles §4.1.4.2).
  let confirmedUntil: number | undefined;
  let reason = 'no bearer SubjectConfirmation';
  for (const confirmation of children(subject, 'SubjectConfirmation')) {
    if (attributeOf(confirmation, 'Method') !== BEARER) continue;
    const data = children(confirmation, 'SubjectConfirmationData');
    if (data.length !== 1) {
      reason = 'bearer SubjectConfirmation without exactly one SubjectConfirmationData';
      continue;
    }
    const recipient = attributeOf(data[0], 'Recipient');
    const inResponseTo = attributeOf(data[0], 'InResponseTo');
    const notOnOrAfter = time(attributeOf(data[0], 'NotOnOrAfter'), 'SubjectConfirmationData NotOnOrAfter');
    const notBefore = time(attributeOf(data[0], 'NotBefore'), 'SubjectConfirmationData NotBefore');
    if (recipient !== expect.acsUrl) {
      reason = recipient === undefined ? 'SubjectConfirmationData has no Recipient' : `SubjectConfirmationData Recipient ${loggable(recipient)} is not the ACS URL`;
    } else if (inResponseTo !== undefined && inResponseTo !== expect.requestId) {
      reason = 'SubjectConfirmationData InResponseTo does not answer this request';
    } else if (notOnOrAfter === undefined) {
      reason = 'SubjectConfirmationData has no NotOnOrAfter';
    } else {
      const outside = outsideWindow(expect, notBefore, notOnOrAfter);
      if (outside) {
        reason = `SubjectConfirmationData ${outside}`;
      } else {
        confirmedUntil = Math.max(confirmedUntil ?? 0, notOnOrAfter);
      }
    }
  }
  if (confirmedUntil === undefined) throw new Refusal('invalid_response', reason);

  const conditionsList = children(assertion, 'Conditions');
  if (conditionsList.length > 1) throw new Refusal('invalid_response', 'more than one Conditions');
  const conditions = conditionsList[0];
  if (conditions === undefined) throw new Refusal('invalid_response', 'Assertion has no Conditions (so no AudienceRestriction)');
  const conditionsNotOnOrAfter = time(attributeOf(conditions, 'NotOnOrAfter'), 'Conditions NotOnOrAfter');
  const outside = outsideWindow(expect, time(attributeOf(conditions, 'NotBefore'), 'Conditions NotBefore'), conditionsNotOnOrAfter);
  if (outside) throw new Refusal('invalid_response', `Conditions ${outside}`);
  const restrictions = children(conditions, 'AudienceRestriction');
  if (restrictions.length === 0) throw new Refusal('invalid_response', 'no AudienceRestriction');
  // Every restriction must be met, each by one of its audiences.
  for (const restriction of restrictions) {
    if (!children(restriction, 'Audience').some((audience) => textOf(audience) === expect.spEntityId)) {
      throw new Refusal('invalid_response', `AudienceRestriction does not name this SP (${expect.spEntityId})`);
    }
  }

  const statements = children(assertion, 'AuthnStatement');
  if (statements.length === 0) throw new Refusal('invalid_response', 'Assertion has no AuthnStatement');
  const sessionEnd = time(attributeOf(statements[0], 'SessionNotOnOrAfter'), 'SessionNotOnOrAfter');
  if (sessionEnd !== undefined && expect.now - expect.skewMs >= sessionEnd) throw new Refusal('invalid_response', 'IdP session already ended (SessionNotOnOrAfter)');
  const classRef = textOf(children(children(statements[0], 'AuthnContext')[0], 'AuthnContextClassRef')[0]);

  return {
    id,
    nameId,
    nameIdFormat,
    authnContextClassRef: classRef === '' ? undefined : classRef,
    usableUntil: Math.max(confirmedUntil, conditionsNotOnOrAfter ?? 0) + expect.skewMs,
  };
}
