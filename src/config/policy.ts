/**
 * The collaboration-policy keys of a tenant file: cross-tenant access settings, external
 * collaboration settings and conditional access. Names follow Microsoft Graph
 * (crossTenantAccessPolicy, authorizationPolicy / b2bManagementPolicy, conditionalAccessPolicy)
 * so that admins who know Entra recognise them; the shapes are trimmed to what Portico enforces.
 *
 * These keys are read live: an edit takes effect without a restart (see `live-config.ts`).
 */
import { z } from 'zod';
import { DNS_NAME, slug } from './primitives.ts';
import { connectorGroupSchema } from './sign-in.ts';

export const ALL_USERS = 'AllUsers';
export const ALL_APPLICATIONS = 'AllApplications';

const accessTypeSchema = z.enum(['allowed', 'blocked']).meta({
  description: '`allowed`: only the targets may collaborate. `blocked`: everyone but the targets may.',
});

const usersAndGroupsSchema = z
  .strictObject({
    accessType: accessTypeSchema,
    targets: z
      .array(
        z.strictObject({
          target: z.string().min(1).meta({
            description:
              "`AllUsers`, a user (email address or object id), or a group id. Inbound, users and groups are the partner's (a guest's email address, or for another tenant of this Portico its user and group ids); outbound, they are this tenant's.",
          }),
          targetType: z.enum(['user', 'group']).meta({ description: 'What `target` names.' }),
        }),
      )
      .min(1)
      .meta({ description: 'Whom the access type applies to.' }),
  })
  .meta({ description: 'Which users and groups the setting lets through.' });

const applicationsSchema = z
  .strictObject({
    accessType: accessTypeSchema,
    targets: z
      .array(
        z.strictObject({
          target: z.string().min(1).meta({
            description: "`AllApplications` or an app id: inbound, one of this tenant's apps; outbound, one of the partner tenant's.",
          }),
          targetType: z.literal('application').meta({ description: 'Always `application`.' }),
        }),
      )
      .min(1)
      .meta({ description: 'Which apps the access type applies to.' }),
  })
  .meta({ description: 'Which apps the setting lets users reach.' });

const collaborationSettingSchema = z.strictObject({
  usersAndGroups: usersAndGroupsSchema.optional(),
  applications: applicationsSchema.optional(),
});

const inboundTrustSchema = z.strictObject({
  isMfaAccepted: z.boolean().optional().meta({
    description: "Accept the partner's MFA (its `amr` / AuthnContextClassRef) instead of asking for Portico's own.",
  }),
  isCompliantDeviceAccepted: z.boolean().optional().meta({ description: "Accept the partner's claim that the device is compliant." }),
  isHybridAzureADJoinedDeviceAccepted: z.boolean().optional().meta({
    description: "Accept the partner's claim that the device is hybrid-joined.",
  }),
});

const automaticUserConsentSchema = z.strictObject({
  inboundAllowed: z.boolean().optional().meta({
    description: "Skip the consent page when this partner's users redeem an invitation (they accept the organisation's terms automatically).",
  }),
});

const crossTenantSettingsShape = {
  b2bCollaborationInbound: collaborationSettingSchema.optional().meta({
    description: "Who from the partner may come in as a guest, and to which of this tenant's apps. Left-out parts are inherited.",
  }),
  b2bCollaborationOutbound: collaborationSettingSchema.optional().meta({
    description: "Which of this tenant's users may be guests at the partner (another tenant of this Portico), and in which of its apps.",
  }),
  inboundTrust: inboundTrustSchema.optional().meta({ description: 'Which of the partner\'s claims count here. Left-out keys are inherited.' }),
  automaticUserConsentSettings: automaticUserConsentSchema.optional().meta({ description: 'Consent on redemption.' }),
  redemptionOrder: z.array(connectorGroupSchema).min(1).optional().meta({
    description:
      "What the organisation's guests are offered when no identity provider claims their email domain, in this order (`federation`, `social`, `emailOtp`); replaces `signIn.redemptionOrder` for them. The organisation is recognised here by the typed address's domain, which only decides what is offered.",
    defaultText: '`signIn.redemptionOrder`',
  }),
};

export const crossTenantDefaultSchema = z.strictObject(crossTenantSettingsShape);

export const crossTenantPartnerSchema = z
  .strictObject({
    partner: slug().optional().meta({ description: 'The `partners[]` entry (by id) these settings are for.' }),
    tenant: slug().optional().meta({ description: 'Another tenant of this Portico deployment (by id) these settings are for.' }),
    ...crossTenantSettingsShape,
  })
  .superRefine((value, ctx) => {
    if ((value.partner === undefined) === (value.tenant === undefined)) {
      ctx.addIssue({ code: 'custom', message: 'must name exactly one of partner (a partners[] id) or tenant (another tenant id)' });
    }
  });

export const crossTenantAccessSchema = z.strictObject({
  default: crossTenantDefaultSchema.prefault({}).meta({
    description:
      'Settings for every organisation without an entry of its own. Left out: collaboration is allowed for all users and apps, and no partner claim is trusted (as in Entra).',
  }),
  partners: z.array(crossTenantPartnerSchema).default([]).meta({
    description: 'Per-partner settings; each key given replaces the default for that partner, keys left out are inherited.',
  }),
});

// `*.example.com` covers example.com's subdomains (not example.com itself), as in Entra.
const DOMAIN_PATTERN_PROBLEM = 'must be a lowercase domain like adatum.com, or *.adatum.com for its subdomains';
const domainPatternSchema = z.string().superRefine((value, ctx) => {
  const name = value.startsWith('*.') ? value.slice(2) : value;
  if (!DNS_NAME.test(name)) ctx.addIssue({ code: 'custom', message: DOMAIN_PATTERN_PROBLEM });
});

export const INVITER_LEVELS = ['none', 'adminsAndGuestInviters', 'adminsGuestInvitersAndAllMembers', 'everyone'] as const;

export const externalCollaborationSchema = z
  .strictObject({
    allowInvitesFrom: z.enum(INVITER_LEVELS).default('everyone').meta({
      description:
        'Who may invite guests. `none`: nobody, admins included. `adminsAndGuestInviters`: apps with `User.Invite.All` and the CLI (admins), and the `guestInviters`. `adminsGuestInvitersAndAllMembers`: also members. `everyone`: also guests.',
    }),
    guestInviters: z.array(z.string().min(1)).default([]).meta({
      description: 'Users (object ids) and apps (client ids) with the Guest Inviter role.',
    }),
    allowedDomains: z.array(domainPatternSchema).min(1).optional().meta({
      description: 'Only addresses in these domains may be invited or redeem. Not together with `blockedDomains`.',
    }),
    blockedDomains: z.array(domainPatternSchema).min(1).optional().meta({
      description:
        'Addresses in these domains may not be invited, and pending invitations to them cannot be redeemed; guests who already redeemed keep signing in. Not together with `allowedDomains`.',
    }),
    guestUserAccess: z.enum(['sameAsMember', 'limited', 'restricted']).default('limited').meta({
      description:
        'What signed-in guests may read on the management API. `sameAsMember`; `limited`: their own object and the groups they are in; `restricted`: their own object only.',
    }),
  })
  .superRefine((value, ctx) => {
    if (value.allowedDomains && value.blockedDomains) {
      ctx.addIssue({ code: 'custom', path: ['blockedDomains'], message: 'cannot be used together with allowedDomains: choose an allow-list or a block-list' });
    }
  });

export const GUEST_OR_EXTERNAL_USER_TYPES = ['b2bCollaborationGuest', 'b2bCollaborationMember', 'internalGuest'] as const;
export const GRANT_CONTROLS = ['block', 'mfa', 'compliantDevice', 'domainJoinedDevice'] as const;

const guestsOrExternalUsersSchema = z.strictObject({
  guestOrExternalUserTypes: z.array(z.enum(GUEST_OR_EXTERNAL_USER_TYPES)).min(1).meta({
    description:
      '`b2bCollaborationGuest`: guests from other organisations; `b2bCollaborationMember`: external users made members; `internalGuest`: guests without an external identity.',
  }),
  externalTenants: z
    .strictObject({
      membershipKind: z.enum(['all', 'enumerated']).default('all').meta({ description: '`all` organisations, or the `members` listed.' }),
      members: z.array(z.string().min(1)).default([]).meta({ description: 'Partner ids (`partners[]`) or tenant ids of this Portico.' }),
    })
    .prefault({})
    .meta({ description: 'Which home organisations.' }),
});

const userIds = (description: string) => z.array(z.string().min(1)).default([]).meta({ description });

export const conditionalAccessPolicySchema = z.strictObject({
  id: slug().meta({ description: 'Policy id, unique within the tenant; named in traces and sign-in logs.' }),
  displayName: z.string().min(1).meta({ description: 'What the policy is for, in words.' }),
  state: z.enum(['enabled', 'disabled', 'reportOnly']).meta({
    description: '`enabled`: enforced. `reportOnly`: evaluated and traced, never enforced. `disabled`: ignored.',
  }),
  conditions: z.strictObject({
    users: z
      .strictObject({
        includeUsers: userIds('`All`, `GuestsOrExternalUsers`, `None`, or user object ids.'),
        excludeUsers: userIds('`GuestsOrExternalUsers` or user object ids.'),
        includeGroups: userIds('Group ids whose members the policy applies to.'),
        excludeGroups: userIds('Group ids whose members it does not apply to.'),
        includeGuestsOrExternalUsers: guestsOrExternalUsersSchema.optional().meta({ description: 'External users by type and organisation.' }),
        excludeGuestsOrExternalUsers: guestsOrExternalUsersSchema.optional().meta({ description: 'External users excluded by type and organisation.' }),
      })
      .meta({ description: 'Whom the policy applies to; an exclusion beats an inclusion.' }),
    applications: z
      .strictObject({
        includeApplications: userIds('`All`, `None` or app ids.'),
        excludeApplications: userIds('App ids.'),
      })
      .meta({ description: 'Which apps the policy applies to.' }),
  }).meta({ description: 'When the policy applies: to which users, signing in to which apps.' }),
  grantControls: z
    .strictObject({
      operator: z.enum(['AND', 'OR']).default('OR').meta({ description: 'Whether all controls are required or any one of them.' }),
      builtInControls: z.array(z.enum(GRANT_CONTROLS)).min(1).meta({
        description:
          '`block`, or any of `mfa` (multifactor authentication), `compliantDevice`, `domainJoinedDevice` (hybrid-joined). `block` stands alone.',
      }),
    })
    .superRefine((value, ctx) => {
      if (value.builtInControls.includes('block') && value.builtInControls.length > 1) {
        ctx.addIssue({ code: 'custom', path: ['builtInControls'], message: 'block cannot be combined with other controls' });
      }
    })
    .optional()
    .meta({ description: 'What a user the policy applies to must satisfy. Left out, the policy grants access and only its session controls apply.' }),
  sessionControls: z
    .strictObject({
      signInFrequency: z
        .strictObject({
          value: z.int().min(1).meta({ description: 'How many hours or days.' }),
          type: z.enum(['hours', 'days']).meta({ description: 'The unit of `value`.' }),
        })
        .optional()
        .meta({ description: 'How long a sign-in counts before the user must sign in again.' }),
    })
    .optional()
    .meta({ description: 'Session controls.' }),
}).superRefine((value, ctx) => {
  if (!value.grantControls && !value.sessionControls?.signInFrequency) {
    ctx.addIssue({ code: 'custom', path: ['grantControls'], message: 'is required unless sessionControls.signInFrequency is given (a policy must do something)' });
  }
});

export type CrossTenantAccess = z.output<typeof crossTenantAccessSchema>;
export type CrossTenantSettings = z.output<typeof crossTenantDefaultSchema>;
export type CrossTenantPartnerSettings = z.output<typeof crossTenantPartnerSchema>;
export type CollaborationSetting = z.output<typeof collaborationSettingSchema>;
export type UsersAndGroupsSetting = z.output<typeof usersAndGroupsSchema>;
export type ApplicationsSetting = z.output<typeof applicationsSchema>;
export type InboundTrust = z.output<typeof inboundTrustSchema>;
export type ExternalCollaboration = z.output<typeof externalCollaborationSchema>;
export type ConditionalAccessPolicy = z.output<typeof conditionalAccessPolicySchema>;
export type GuestsOrExternalUsers = z.output<typeof guestsOrExternalUsersSchema>;
export type GrantControl = (typeof GRANT_CONTROLS)[number];
export type InviterLevel = (typeof INVITER_LEVELS)[number];
