export { SigningKeyService, providerJwks, type SigningAlg, type TenantKeySet } from './signing-keys.ts';
export { signingAlgsFor, issuerFor } from './tenant-provider.ts';
