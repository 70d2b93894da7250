/**
 * A SAML 2.0 IdP for tests: a loopback server with metadata, an HTTP-Redirect SSO endpoint, a
 * script-free login page and an auto-submittable (by a "Continue" button) HTTP-POST response page;
 * and the programmatic builder of signed, encrypted, broken and hostile Responses behind it.
 */
export { generateKeyPair, pemBody, type KeyPair } from './saml-idp/keys.ts';
export { idpMetadataXml, type IdpMetadataOptions } from './saml-idp/metadata.ts';
export {
  ATTRIBUTE,
  AUTHN_CONTEXT,
  createResponse,
  NAMEID_FORMAT,
  newSamlId,
  NS,
  STATUS,
  type CreatedResponse,
  type CreateResponseOptions,
  type SamlUser,
} from './saml-idp/response.ts';
export {
  opaqueNameId,
  parseAuthnRequest,
  startSamlIdp,
  type ReceivedAuthnRequest,
  type ResponseDefaults,
  type SamlIdp,
  type SamlIdpOptions,
  type SamlIdpUser,
} from './saml-idp/server.ts';
