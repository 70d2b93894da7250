/**
 * The tenant-file keys that decide how guests sign in: the upstream identity providers (one
 * entry per connector, its shape owned by the connector's kind), email one-time passcodes, the
 * redemption order, and the partner organisations guests come from.
 *
 * `identityProviders` is a union over every kind in the connector registry, discriminated by
 * `kind`: a new kind in the registry is accepted, checked and documented with no change here.
 */
import { z } from 'zod';
import { CONSUMERS_TENANT_ID } from '../connectors/microsoft/schema.ts';
import { connectorModules, type ConnectorConfig } from '../connectors/registry.ts';
import type { ConnectorGroup, ConnectorKind } from '../connectors/types.ts';
import { brandingSchema } from './branding.ts';
import { checked, domainProblem, publicUrlProblem, slug } from './primitives.ts';

// ---------------------------------------------------------------------------------------------
// Partner organisations

// Entra writes tenant ids in lowercase in every token (`tid`); comparing them as written keeps
// matching exact, so uppercase is refused rather than silently folded.
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export function guidProblem(value: string): string | undefined {
  if (GUID.test(value)) return undefined;
  return GUID.test(value.toLowerCase()) ? 'must be lowercase' : 'must be a GUID like 72f988bf-86f1-41af-91ab-2d7cd011db47';
}

/** The consumers tenant holds every personal Microsoft account: it names no organisation. */
function partnerTenantIdProblem(value: string): string | undefined {
  if (value === CONSUMERS_TENANT_ID) return 'is the tenant of every personal Microsoft account (consumers), not an organisation';
  return guidProblem(value);
}

function entityIdProblem(value: string): string | undefined {
  if (value.trim() === '') return 'must not be empty';
  return /\s/.test(value) ? 'must not contain whitespace' : undefined;
}

export const partnerSchema = z.strictObject({
  id: slug().meta({ description: 'Partner id, unique within the tenant; identity providers refer to it (`identityProviders[].partner`).' }),
  displayName: z.string().min(1).meta({ description: 'Name of the partner organisation, shown on sign-in pages.' }),
  domains: z
    .array(checked(domainProblem))
    .min(1)
    .meta({ description: "The partner's email domains, lowercase; unique within the tenant and never one of the tenant's own." }),
  entraTenantIds: z.array(checked(partnerTenantIdProblem)).default([]).meta({
    description: "The partner's Microsoft Entra tenant ids (lowercase GUIDs): guests whose `tid` is one of them belong to this partner.",
  }),
  samlEntityIds: z.array(checked(entityIdProblem)).default([]).meta({
    description: "Entity ids of the partner's SAML IdPs: guests signed in by one of them belong to this partner.",
  }),
  oidcIssuers: z.array(checked(publicUrlProblem)).default([]).meta({
    description: "Issuers of the partner's OIDC IdPs, exactly as in their tokens (`iss`): guests signed in by one of them belong to this partner.",
  }),
  branding: brandingSchema.optional().meta({
    description:
      "Branding of the sign-in pages once home-realm discovery recognises a guest as this partner's: it replaces the tenant's `branding` as a whole (keys are not merged).",
  }),
});

// ---------------------------------------------------------------------------------------------
// Identity providers

export const isConnectorKind = (value: unknown): value is ConnectorKind =>
  typeof value === 'string' && Object.hasOwn(connectorModules, value);

/** The entry schema of one kind. */
export const connectorSchemaFor = (kind: ConnectorKind): z.ZodType => connectorModules[kind].schema;

// zod wants a non-empty tuple of object-like members; the registry guarantees both (every kind
// has a module, each a strict object with a literal `kind`), and the intersection keeps each
// member's output type so the union's output is ConnectorConfig.
type EntrySchema = (typeof connectorModules)[ConnectorKind]['schema'] & z.core.$ZodTypeDiscriminable;

export const identityProviderSchema = z.discriminatedUnion(
  'kind',
  Object.values(connectorModules).map((module) => module.schema) as unknown as [EntrySchema, ...EntrySchema[]],
);

// ---------------------------------------------------------------------------------------------
// Email one-time passcodes

/** Id of the email-otp connector the loader adds when passcodes are on and no entry configures them. */
export const IMPLICIT_EMAIL_OTP_ID = 'email';

/**
 * The `email-otp` entry a tenant gets when `emailOneTimePasscode.enabled` and it has none of its
 * own: the kind's schema with all its defaults, parsed afresh for each tenant. A problem instead
 * when the kind has settings without a default (the tenant must then add an explicit entry).
 */
export function implicitEmailOtpEntry(): { entry: ConnectorConfig } | { problem: string } {
  const result = connectorModules['email-otp'].schema.safeParse({ id: IMPLICIT_EMAIL_OTP_ID, kind: 'email-otp' });
  if (result.success) return { entry: result.data as ConnectorConfig };
  const keys = [...new Set(result.error.issues.map((issue) => issue.path.join('.')))].join(', ');
  return { problem: `is true, but the email-otp connector has settings without a default (${keys}): add an identityProviders entry of kind email-otp` };
}

export const emailOneTimePasscodeSchema = z.strictObject({
  enabled: z.boolean().default(true).meta({
    description:
      'Let guests whom no other identity provider signs in prove their email address with a one-time code (on by default, as in Microsoft Entra). When no `identityProviders` entry has kind `email-otp`, one with id `email` and default settings is added; add such an entry to tune it. When false, an `email-otp` entry is an error.',
  }),
});

// ---------------------------------------------------------------------------------------------
// Redemption order

// Keyed by group so that a group added to the connector contract but not here fails to compile.
const GROUPS = { federation: 'federation', social: 'social', emailOtp: 'emailOtp' } as const satisfies { [G in ConnectorGroup]: G };

export const connectorGroupSchema = z.enum(GROUPS);

export const signInSchema = z.strictObject({
  redemptionOrder: z
    .array(connectorGroupSchema)
    .min(1)
    .default(Object.values(GROUPS))
    .meta({
      description:
        "What a guest is offered when no identity provider claims their email domain (one that does is always used): the kinds of identity provider, in this order. `federation`: SAML and OIDC IdPs; `social`: Google, Microsoft, Facebook; `emailOtp`: one-time passcodes. A kind left out is not offered.",
    }),
});
