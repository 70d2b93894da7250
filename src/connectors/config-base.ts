import { z } from 'zod';
import { checked, domainProblem, slug } from '../config/primitives.ts';

/**
 * Fields every connector entry of a tenant file has. A kind's schema is
 * `z.strictObject({ ...connectorBaseFields, kind: z.literal('<kind>'), ...its own fields })`.
 * Secrets must carry `.meta({ secret: true })`: the loader then requires them to be written as
 * `${env:NAME}` references.
 */
export const connectorBaseFields = {
  id: slug().meta({ description: 'Connector id, unique within the tenant; appears in its callback URL and in `idp=` hints.' }),
  displayName: z.string().min(1).optional().meta({ description: 'Shown on the sign-in pages ("Sign in with …").', defaultText: 'from the kind' }),
  domains: z
    .array(checked(domainProblem))
    .default([])
    .meta({ description: 'Email domains whose users this IdP signs in: home-realm discovery sends them here.' }),
  partner: slug().optional().meta({ description: "Id of the partner organisation (the tenant's `partners`) whose users this IdP signs in, for branding and home organisation." }),
};
