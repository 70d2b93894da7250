/**
 * The vocabulary of collaboration policy. Every evaluator is a pure function from settings and a
 * question to a Decision: the effect, the controls still required, and a trace naming each layer
 * and rule it looked at and whether it matched, so every answer can be explained.
 */
import type { PartnerConfig } from '../config/types.ts';
import type { ConditionalAccessPolicy, CrossTenantAccess, ExternalCollaboration } from '../config/policy.ts';

export type Layer =
  | 'externalCollaboration'
  | 'crossTenantAccess.inbound'
  | 'crossTenantAccess.outbound'
  | 'crossTenantAccess.inboundTrust'
  | 'conditionalAccess';

export interface TraceEntry {
  readonly layer: Layer;
  /** Where the rule sits in config: `crossTenantAccess.partners[fabrikam]`, `conditionalAccess[guest-mfa]` … */
  readonly rule: string;
  /** Whether the rule applied to this question. */
  readonly matched: boolean;
  /** What the rule did: `require` adds controls; `reportOnly` would have acted but is not enforced. */
  readonly effect: 'allow' | 'deny' | 'require' | 'none' | 'reportOnly';
  readonly detail: string;
}

/** A second factor or device state that conditional access can require. */
export type Control = 'mfa' | 'compliantDevice' | 'domainJoinedDevice';

export interface ControlRequirement {
  readonly policyId: string;
  readonly operator: 'AND' | 'OR';
  readonly controls: readonly Control[];
}

export type Effect = 'allow' | 'deny' | 'challenge';

export interface Decision {
  /** `challenge`: allowed once the `requirements` are met. */
  readonly effect: Effect;
  /** Unmet requirements; empty unless the effect is `challenge`. */
  readonly requirements: readonly ControlRequirement[];
  readonly trace: readonly TraceEntry[];
  /** The first rule that denied, for the page or error shown. */
  readonly denial?: { readonly layer: Layer; readonly rule: string; readonly reason: string };
  /** The shortest sign-in frequency of the conditional access policies that apply, in seconds. */
  readonly signInFrequencySeconds?: number;
}

/** What can be known of where a guest comes from; evaluation resolves it to an organisation. */
export interface HomeOrganisation {
  /** The `partners[]` entry of the connector the guest signed in with. */
  readonly partnerId?: string;
  /** Another tenant of this Portico deployment. */
  readonly porticoTenantId?: string;
  readonly entraTenantId?: string;
  readonly samlEntityId?: string;
  readonly oidcIssuer?: string;
  /** Only from a verified address (anyone can claim an unverified one). */
  readonly emailDomain?: string;
}

export type Organisation =
  | { readonly kind: 'partner'; readonly id: string; readonly displayName: string; readonly via: string }
  | { readonly kind: 'tenant'; readonly id: string; readonly via: string }
  /** This tenant's own people. */
  | { readonly kind: 'home'; readonly id: string }
  | { readonly kind: 'other'; readonly via: string };

/** A user as policies can name them. */
export interface Subject {
  /** Every identifier a target may use for this user: object ids (here and at home) and the email address. */
  readonly userIds: readonly string[];
  /** Groups the user is in (this tenant's, and the home tenant's for another tenant of this Portico). */
  readonly groupIds: readonly string[];
  readonly userType: 'Guest' | 'Member';
  /** Signs in with an identity of another organisation. */
  readonly external: boolean;
  readonly email?: string;
  readonly organisation: Organisation;
}

/** How strongly the user was authenticated, counting only what is trusted. */
export interface Assurance {
  readonly mfa: boolean;
  readonly compliantDevice: boolean;
  readonly domainJoinedDevice: boolean;
}

export const NO_ASSURANCE: Assurance = { mfa: false, compliantDevice: false, domainJoinedDevice: false };

/** The policy keys of one tenant: what every evaluator reads. */
export interface TenantPolicy {
  readonly tenantId: string;
  /** The tenant's own email domains: a verified address in one of them is the tenant's own person. */
  readonly domains?: readonly string[];
  readonly partners: readonly PartnerConfig[];
  readonly crossTenantAccess: CrossTenantAccess;
  readonly externalCollaboration: ExternalCollaboration;
  readonly conditionalAccess: readonly ConditionalAccessPolicy[];
}

/** Who asks to invite: admins are apps with `User.Invite.All` and the CLI. */
export interface Inviter {
  readonly kind: 'admin' | 'member' | 'guest';
  /** App client id or user object id, matched against `guestInviters`. */
  readonly id: string;
}

/** The policy in force for a tenant; read at every decision, so live edits apply at once. */
export interface PolicySource {
  policyFor(tenantId: string): TenantPolicy | undefined;
}
