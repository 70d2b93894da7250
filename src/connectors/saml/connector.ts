/**
 * The `saml` connector: SP-initiated SAML 2.0 with one partner IdP. `start` sends an AuthnRequest
 * by HTTP-Redirect, `handlePost` takes the Response the browser POSTs back to the ACS URL.
 *
 * What handlePost refuses, in order (each one a stable UpstreamError code):
 *  1. a RelayState of another sign-in, or no request pending in this one;
 *  2. before any XML parser runs: a body over `maxResponseBytes`, non-canonical base64, bad UTF-8,
 *     a DOCTYPE or entity, nesting deeper than 64 or more than 5000 elements, anything after the
 *     root element, SHA-1 unless `allowSha1` (xml-guard.ts);
 *  3. in a worker (validate.ts): no InResponseTo (IdP-initiated) or another request's, a non-Success
 *     status (`upstream_denied`), a Response Issuer / Destination that is not ours, node-saml's own
 *     signature and structure checks with the request id taken atomically from the shared store,
 *     a present-but-broken Response signature, then on Portico's clock: the assertion's Issuer,
 *     bearer Recipient, lifetime and InResponseTo, Conditions and Audience (assertion.ts);
 *  4. an assertion id already used (node-saml only consumes the request id when the assertion
 *     repeats it, so without this a response lacking SubjectConfirmationData/@InResponseTo could
 *     be replayed).
 */
import { generateServiceProviderMetadata, SAML, ValidateInResponseTo } from '@node-saml/node-saml';
import { ConfigError } from '../../shared/errors.ts';
import type { ConnectorDeps } from '../registry.ts';
import { UpstreamError, type ConnectorState, type SamlConnector, type StartContext, type UpstreamIdentity } from '../types.ts';
import { NAMEID_FORMATS, type SamlConfig } from './config.ts';
import { decodeSamlResponse, guard } from './envelope.ts';
import { toUpstreamIdentity } from './identity.ts';
import { MetadataError } from './idp-metadata.ts';
import { fileIdpSource, staticIdpSource, urlIdpSource, type IdpSource } from './idp-source.ts';
import { Refusal } from './refusal.ts';
import { RequestIdRecorder, requestNamespace } from './request-ids.ts';
import { sharedValidationPool, type ValidationPool } from './validation-pool.ts';
import type { XmlGuardLimits } from './xml-guard.ts';

/** Deeper than any SAML response (the deepest path, an encrypted key's certificate, is about 10). */
export const MAX_DEPTH = 64;
/** Far above a response with a few hundred group values; bounds the work xml-crypto's XPath does per element. */
export const MAX_ELEMENTS = 5000;

/** `{tenantBaseUrl}/saml/{id}`: Portico's entity id towards the IdP unless the config names one. */
export const defaultSpEntityId = (tenantBaseUrl: string, connectorId: string): string => `${tenantBaseUrl}/saml/${connectorId}`;
/**
 * The ACS URL the SP metadata publishes: where the interaction routes mount this connector's POST
 * endpoint (`{tenantBaseUrl}/federation/{id}/acs`, the `callbackUrl` they pass to start and
 * handlePost). Kept in step with src/interaction by hand: connectors may not import it.
 */
export const defaultAcsUrl = (tenantBaseUrl: string, connectorId: string): string => `${tenantBaseUrl}/federation/${connectorId}/acs`;

export const assertionNamespace = (entityId: string): string => `saml-assertion:${entityId}`;

export interface SamlConnectorOptions {
  /** Tests and the benchmark pass their own; the server uses one pool per process. */
  readonly pool?: ValidationPool;
}

async function idpSourceFor(config: SamlConfig, deps: ConnectorDeps): Promise<IdpSource> {
  try {
    if (config.metadataFile !== undefined) return await fileIdpSource(deps.configDir, config.metadataFile, config.entityId);
    if (config.metadataUrl !== undefined) return await urlIdpSource(config.metadataUrl, config.entityId, config.metadataRefreshSeconds, deps);
    return staticIdpSource(config.ssoUrl ?? '', config.signingCertificates ?? []);
  } catch (error) {
    if (error instanceof MetadataError) throw new ConfigError([`connector ${config.id} (saml): ${error.message}`]);
    throw error;
  }
}

export async function createSamlConnector(config: SamlConfig, deps: ConnectorDeps, options: SamlConnectorOptions = {}): Promise<SamlConnector<'saml'>> {
  const source = await idpSourceFor(config, deps);
  const pool = options.pool ?? sharedValidationPool();
  const spEntityId = config.spEntityId ?? defaultSpEntityId(deps.tenantBaseUrl, config.id);
  const nameIdFormat = NAMEID_FORMATS[config.nameIdFormat];
  const limits: XmlGuardLimits = { maxDepth: MAX_DEPTH, maxElements: MAX_ELEMENTS, allowSha1: config.allowSha1 };
  const spMetadata = generateServiceProviderMetadata({
    issuer: spEntityId,
    callbackUrl: defaultAcsUrl(deps.tenantBaseUrl, config.id),
    identifierFormat: nameIdFormat,
    wantAssertionsSigned: config.wantAssertionsSigned,
    ...(config.decryptionKey === undefined ? {} : { decryptionPvk: config.decryptionKey, decryptionCert: config.decryptionCertificate ?? null }),
  });
  const refuse = (refusal: Refusal): UpstreamError => new UpstreamError(refusal.code, config.id, refusal.message, { cause: refusal });

  async function start(context: StartContext): Promise<{ redirectUrl: string; state: ConnectorState }> {
    try {
      const idp = await source.current();
      const recorder = new RequestIdRecorder(deps.oneTimeIds, config.id);
      const saml = new SAML({
        entryPoint: idp.ssoUrl,
        callbackUrl: context.callbackUrl,
        issuer: spEntityId,
        idpCert: [...idp.signingCertificates],
        identifierFormat: nameIdFormat,
        allowCreate: true,
        validateInResponseTo: ValidateInResponseTo.always,
        cacheProvider: recorder,
        ...(config.requestedAuthnContext ? { authnContext: [...config.requestedAuthnContext], racComparison: 'exact' as const } : { disableRequestedAuthnContext: true }),
      });
      // RelayState carries the flow id so the POST back can be matched to its sign-in.
      const redirectUrl = await saml.getAuthorizeUrlAsync(context.flowId, undefined, {});
      if (recorder.saved === undefined) throw new Refusal('invalid_response', 'AuthnRequest id was not recorded');
      return { redirectUrl, state: { requestId: recorder.saved } };
    } catch (error) {
      if (error instanceof Refusal) throw refuse(error);
      throw error;
    }
  }

  async function handlePost(body: { readonly SAMLResponse: string; readonly RelayState?: string }, state: ConnectorState, context: StartContext): Promise<UpstreamIdentity> {
    try {
      const requestId = state['requestId'];
      if (typeof requestId !== 'string' || requestId === '') throw new Refusal('invalid_response', 'no SAML request is pending in this sign-in');
      if (body.RelayState !== context.flowId) throw new Refusal('invalid_response', 'RelayState does not belong to this sign-in');
      if (typeof body.SAMLResponse !== 'string') throw new Refusal('invalid_response', 'SAMLResponse missing');
      const decoded = decodeSamlResponse(body.SAMLResponse, config.maxResponseBytes);
      guard(decoded.xml, limits, 'SAMLResponse');

      const idp = await source.current();
      const skewMs = config.maxClockSkewSeconds * 1000;
      let validated;
      try {
        validated = await pool.validate(
          {
            xml: decoded.xml,
            base64: decoded.base64,
            requestId,
            acsUrl: context.callbackUrl,
            spEntityId,
            idpEntityId: config.entityId,
            signingCertificates: idp.signingCertificates,
            wantAssertionsSigned: config.wantAssertionsSigned,
            decryptionKey: config.decryptionKey,
            nameIdFormat,
            now: deps.clock.now(),
            skewMs,
            limits,
          },
          (id) => deps.oneTimeIds.take(requestNamespace(config.id), id),
        );
      } catch (error) {
        if (error instanceof Refusal && /signature/i.test(error.message)) source.suspectStale();
        throw error;
      }

      const { assertion } = validated;
      const ttlSeconds = Math.max(1, Math.ceil((assertion.usableUntil - deps.clock.now()) / 1000));
      if (!(await deps.oneTimeIds.remember(assertionNamespace(config.entityId), assertion.id, ttlSeconds))) {
        throw new Refusal('invalid_response', 'assertion already used (replay)');
      }
      return toUpstreamIdentity(assertion, validated.attributes, {
        connectorId: config.id,
        entityId: config.entityId,
        domains: config.domains,
        mapping: config.attributes,
      });
    } catch (error) {
      if (error instanceof Refusal) throw refuse(error);
      throw error;
    }
  }

  return {
    id: config.id,
    kind: 'saml',
    capability: 'saml-post',
    displayName: config.displayName ?? 'Organisation account',
    group: 'federation',
    domains: config.domains,
    start,
    handlePost,
    metadata: () => spMetadata,
  };
}
