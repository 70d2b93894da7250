import type { ConnectorModule } from '../registry.ts';
import { createEmailOtpConnector } from './connector.ts';
import { emailOtpConfigSchema } from './schema.ts';

export { createEmailOtpConnector, MAX_WRONG_ATTEMPTS, type EmailOtpDeps } from './connector.ts';
export { emailOtpConfigSchema, EMAIL_OTP_DISPLAY_NAME, type EmailOtpConfig } from './schema.ts';
export { normaliseEmail, type NormalisedEmail } from './email-address.ts';

export const emailOtpConnector: ConnectorModule<'email-otp', typeof emailOtpConfigSchema> = {
  kind: 'email-otp',
  schema: emailOtpConfigSchema,
  create: async (config, deps) => createEmailOtpConnector(config, deps),
};
