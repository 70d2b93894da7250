import type { ConnectorModule } from '../registry.ts';
import { samlConfigSchema } from './config.ts';
import { createSamlConnector } from './connector.ts';

export { samlConfigSchema, type SamlConfig } from './config.ts';
export { createSamlConnector, defaultAcsUrl, defaultSpEntityId, type SamlConnectorOptions } from './connector.ts';
export { createValidationPool, type ValidationPool, type ValidationPoolOptions } from './validation-pool.ts';

export const samlConnector = {
  kind: 'saml',
  schema: samlConfigSchema,
  create: (config, deps) => createSamlConnector(config, deps),
} satisfies ConnectorModule<'saml', typeof samlConfigSchema>;
