/**
 * Tenant and broker keys of guest invitations and the directory audit log, and the app roles a
 * daemon may hold on the management API (`apps[].graphRoles`) and the delegated scopes an app
 * may ask for a signed-in user (`apps[].graphScopes`).
 */
import { z } from 'zod';
import { PLACEHOLDERS, templateProblem } from '../mail/templates/placeholders.ts';
import type { PorticoConfig } from './types.ts';

/** Microsoft Graph's application permissions, by the names Entra scripts already use. */
export const GRAPH_ROLES = [
  'User.Invite.All',
  'User.ReadWrite.All',
  'User.Read.All',
  'AuditLog.Read.All',
  'Group.Read.All',
  'Group.ReadWrite.All',
  'AppRoleAssignment.ReadWrite.All',
  'Policy.Read.All',
] as const;
export const graphRoleSchema = z.enum(GRAPH_ROLES).meta({
  description:
    '`User.Invite.All`: invite guests. `User.Read.All` / `User.ReadWrite.All`: read / also change and delete users. `AuditLog.Read.All`: read the audit and sign-in logs. `Group.Read.All` / `Group.ReadWrite.All`: read / also manage groups. `AppRoleAssignment.ReadWrite.All`: assign apps. `Policy.Read.All`: ask what the collaboration policy decides for a user, and why (`POST /policies/explain`).',
});

/**
 * Microsoft Graph's delegated permissions that a signed-in user's token may carry as `scp`
 * (`apps[].graphScopes`): the user acts as themselves, within what these allow.
 */
export const GRAPH_SCOPES = ['User.Read', 'User.ReadBasic.All', 'User.Read.All', 'User.Invite.All', 'Group.Read.All', 'GroupMember.Read.All'] as const;
export const graphScopeSchema = z.enum(GRAPH_SCOPES).meta({
  description:
    '`User.Read`: the signed-in user\'s own user object (`GET /me`). `User.ReadBasic.All` / `User.Read.All`: read and list users. `User.Invite.All`: invite guests (as far as `externalCollaboration.allowInvitesFrom` lets the user). `GroupMember.Read.All` / `Group.Read.All`: read groups, their members and memberships. Guests are further limited by `externalCollaboration.guestUserAccess`.',
});

export const TICKET_DAYS_MAX = 90;
export const AUDIT_RETENTION_DAYS_MAX = 3650;

// BCP 47 language tags as mail clients send them: a 2-3 letter language, then subtags.
export const LANGUAGE_TAG = /^[A-Za-z]{2,3}(?:-[A-Za-z0-9]{1,8})*$/;

const placeholderList = PLACEHOLDERS.map((name) => `\`{{${name}}}\``).join(', ');

const template = (description: string, max: number, options: { oneLine?: boolean } = {}) =>
  z
    .string()
    .min(1)
    .max(max)
    .superRefine((value, ctx) => {
      const message = options.oneLine && /[\r\n]/.test(value) ? 'must be one line' : templateProblem(value);
      if (message !== undefined) ctx.addIssue({ code: 'custom', message });
    })
    .meta({ description });

export const invitationTemplateSchema = z.strictObject({
  subject: template('Subject line.', 250, { oneLine: true }),
  text: template('Plain-text body.', 20_000),
  html: template(
    'HTML body. Values are HTML-escaped where they are placed; without it the mail is plain text only.',
    100_000,
  ).optional(),
});

const consentLink = (description: string) =>
  z
    .string()
    .refine((value) => {
      if (!URL.canParse(value)) return false;
      const url = new URL(value);
      return url.protocol === 'https:' || (url.protocol === 'http:' && ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname));
    }, 'must be an https URL (http only for localhost, 127.0.0.1 and [::1])')
    .optional()
    .meta({ description });

export const invitationsSchema = z.strictObject({
  privacyStatementUrl: consentLink("Link to the organisation's privacy statement, shown on the page where an invited guest accepts."),
  termsOfUseUrl: consentLink('Link to terms of use, shown on the page where an invited guest accepts.'),
  ticketDays: z.int().min(1).max(TICKET_DAYS_MAX).default(30).meta({
    description: `Days a redemption link stays valid (at most ${TICKET_DAYS_MAX}). A resent invitation gets a new link and the old one stops working.`,
  }),
  templates: z
    .record(z.string().regex(LANGUAGE_TAG), invitationTemplateSchema, {
      error: (issue) => (issue.code === 'invalid_key' ? 'must be a language tag like en, de or fr-CA' : undefined),
    })
    .default({})
    .meta({
      keyName: '<lang>',
      description: `Invitation mails by BCP 47 language tag (\`en\`, \`de\`, \`fr-CA\`), replacing Portico's own English, German and French ones or adding languages. The API's \`messageLanguage\` picks the exact tag, then its language (\`de\` for \`de-CH\`), then \`en\`. Placeholders: ${placeholderList}; \`{{#message}}…{{/message}}\` keeps its content only when there is a customised message. Any other placeholder is an error.`,
    }),
});

export const tenantAuditSchema = z.strictObject({
  retentionDays: z.int().min(1).max(AUDIT_RETENTION_DAYS_MAX).optional().meta({
    description: 'Days directory audit and sign-in log entries of this tenant are kept.',
    defaultText: '`audit.retentionDays` of portico.yaml',
  }),
});

export const brokerAuditSchema = z.strictObject({
  retentionDays: z.int().min(1).max(AUDIT_RETENTION_DAYS_MAX).default(30).meta({
    description: 'Days directory audit entries (invitations, redemptions, user changes) and sign-in log entries are kept; tenants may override it.',
  }),
});

/** Days a tenant's directory audit and sign-in log entries are kept: its own setting, else the broker's. */
export const auditRetentionDays =
  (config: Pick<PorticoConfig, 'broker' | 'tenants'>) =>
  (tenantId: string): number =>
    config.tenants.find((tenant) => tenant.id === tenantId)?.audit.retentionDays ?? config.broker.audit.retentionDays;
