/**
 * What the management API accepts and returns, as zod schemas: request bodies are validated
 * with them, and the OpenAPI document is generated from them, so the two cannot drift.
 * Names and shapes are Microsoft Graph's (v1.0) where Graph has the resource.
 */
import { z } from 'zod';
import { LANGUAGE_TAG } from '../config/invitations.ts';
import { isLoopbackHost } from '../config/primitives.ts';
import type { Invitation } from '../directory/invitations.ts';
import type { User } from '../directory/users.ts';
import { MESSAGE_MAX_LENGTH } from '../mail/templates/invitation.ts';
import { normaliseEmail } from '../shared/email.ts';

// ---------------------------------------------------------------------------------------------
// Requests

const emailAddress = () =>
  z
    .string()
    .max(254)
    .refine((value) => normaliseEmail(value) !== undefined, { message: 'must be an email address' });

function redirectUrlProblem(value: string): string | undefined {
  if (!URL.canParse(value)) return 'must be an absolute URL';
  const url = new URL(value);
  if (url.username !== '' || url.password !== '') return 'must not contain a user name or password';
  if (url.protocol === 'https:') return undefined;
  if (url.protocol === 'http:' && isLoopbackHost(url.hostname)) return undefined;
  return 'must use https (http only for localhost, 127.0.0.1 and [::1])';
}

export const createInvitationRequest = z
  .strictObject({
    invitedUserEmailAddress: emailAddress().meta({ description: 'The address to invite.' }),
    inviteRedirectUrl: z
      .string()
      .max(2048)
      .superRefine((value, ctx) => {
        const problem = redirectUrlProblem(value);
        if (problem) ctx.addIssue({ code: 'custom', message: problem });
      })
      .meta({ description: 'Where the guest lands after redeeming: an absolute https URL (http only on loopback hosts).' }),
    invitedUserDisplayName: z.string().trim().min(1).max(256).optional().meta({ description: 'The guest\'s display name.' }),
    sendInvitationMessage: z.boolean().default(false).meta({ description: 'Mail the invitation to the guest.' }),
    invitedUserMessageInfo: z
      .strictObject({
        customizedMessageBody: z.string().max(MESSAGE_MAX_LENGTH).optional().meta({ description: 'A message shown in the mail (plain text).' }),
        messageLanguage: z.string().regex(LANGUAGE_TAG, 'must be a language tag like en-US').optional().meta({
          description: 'BCP 47 language of the mail (`en`, `de`, `fr` built in); English when the language has no template.',
        }),
        ccRecipients: z
          .array(
            z.strictObject({
              emailAddress: z.strictObject({
                address: emailAddress(),
                name: z.string().max(256).optional(),
              }),
            }),
          )
          .max(1, 'at most one cc recipient is supported')
          .optional()
          .meta({ description: 'Also sends the invitation to this address (one at most, as in Entra).' }),
      })
      .optional(),
    invitedUserType: z.enum(['Guest', 'Member']).default('Guest'),
    resetRedemption: z.boolean().default(false).meta({
      description: 'Reset the redemption of `invitedUser` (same object id, identities cleared, pending again; the address may change). Needs User.ReadWrite.All.',
    }),
    invitedUser: z.strictObject({ id: z.string().min(1).max(64) }).optional(),
  })
  .superRefine((body, ctx) => {
    if (body.resetRedemption && !body.invitedUser) ctx.addIssue({ code: 'custom', path: ['invitedUser'], message: 'is required when resetRedemption is true' });
  });

export type CreateInvitationRequest = z.output<typeof createInvitationRequest>;

export const updateUserRequest = z
  .strictObject({
    displayName: z.string().trim().min(1).max(256).optional(),
    accountEnabled: z.boolean().optional(),
  })
  .refine((body) => body.displayName !== undefined || body.accountEnabled !== undefined, { message: 'must set displayName or accountEnabled' });

export type UpdateUserRequest = z.output<typeof updateUserRequest>;

// ---------------------------------------------------------------------------------------------
// Responses

const dateTime = () => z.iso.datetime();
const context = () => z.string().meta({ description: 'OData context URL.' });
const nextLink = () => z.string().optional().meta({ description: 'The next page; absent on the last one.' });

export const objectIdentitySchema = z.strictObject({
  signInType: z.enum(['federated', 'emailAddress', 'userPrincipalName']),
  issuer: z.string(),
  issuerAssignedId: z.string(),
});

export const userSchema = z.strictObject({
  id: z.string(),
  userPrincipalName: z.string(),
  displayName: z.string(),
  mail: z.string().nullable(),
  userType: z.enum(['Member', 'Guest']),
  externalUserState: z.enum(['PendingAcceptance', 'Accepted']).nullable(),
  externalUserStateChangeDateTime: dateTime().nullable(),
  identities: z.array(objectIdentitySchema),
  creationType: z.enum(['Invitation', 'SelfServiceSignUp']).nullable(),
  accountEnabled: z.boolean(),
  createdDateTime: dateTime(),
});

export const userEntitySchema = z.strictObject({ '@odata.context': context(), ...userSchema.shape });

export const userCollectionSchema = z.strictObject({
  '@odata.context': context(),
  '@odata.nextLink': nextLink(),
  value: z.array(userSchema),
});

export const invitationSchema = z.strictObject({
  '@odata.context': context(),
  id: z.string(),
  inviteRedeemUrl: z.string().nullable().meta({
    description: 'The redemption link. Only in the answer that issued it (create, resend): Portico stores it hashed, so reading an invitation gives null.',
  }),
  inviteRedirectUrl: z.string(),
  invitedUserDisplayName: z.string().nullable(),
  invitedUserEmailAddress: z.string(),
  invitedUserType: z.enum(['Guest', 'Member']),
  invitedUserMessageInfo: z.strictObject({
    customizedMessageBody: z.string().nullable(),
    messageLanguage: z.string().nullable(),
    ccRecipients: z.array(z.strictObject({ emailAddress: z.strictObject({ address: z.string(), name: z.string().nullable() }) })),
  }),
  sendInvitationMessage: z.boolean(),
  resetRedemption: z.boolean(),
  status: z.enum(['PendingAcceptance', 'Completed', 'Error', 'Revoked']).meta({
    description: '`Error`: the mail could not be sent (the link works; resend). `Revoked` is a Portico extension.',
  }),
  invitedUser: z.strictObject({ id: z.string() }),
});

const modifiedPropertySchema = z.strictObject({ displayName: z.string(), oldValue: z.string().nullable(), newValue: z.string().nullable() });

export const directoryAuditSchema = z.strictObject({
  id: z.string(),
  category: z.string(),
  correlationId: z.string(),
  result: z.enum(['success', 'failure']),
  resultReason: z.string(),
  activityDisplayName: z.string(),
  activityDateTime: dateTime(),
  loggedByService: z.string(),
  operationType: z.string(),
  initiatedBy: z.strictObject({
    app: z.strictObject({ appId: z.string(), displayName: z.string() }).nullable(),
    user: z.strictObject({ id: z.string(), displayName: z.string(), userPrincipalName: z.string().nullable() }).nullable(),
  }),
  targetResources: z.array(
    z.strictObject({
      id: z.string(),
      displayName: z.string().nullable(),
      type: z.enum(['User', 'Invitation', 'Group', 'ServicePrincipal']),
      userPrincipalName: z.string().nullable(),
      modifiedProperties: z.array(modifiedPropertySchema),
    }),
  ),
  additionalDetails: z.array(z.strictObject({ key: z.string(), value: z.string() })),
});

export const directoryAuditCollectionSchema = z.strictObject({
  '@odata.context': context(),
  '@odata.nextLink': nextLink(),
  value: z.array(directoryAuditSchema),
});

export const graphErrorSchema = z.strictObject({
  error: z.strictObject({
    code: z.string(),
    message: z.string(),
    innerError: z.strictObject({ 'request-id': z.string(), date: dateTime() }),
  }),
});

// ---------------------------------------------------------------------------------------------
// Mapping directory objects to responses

export type GraphUser = z.output<typeof userSchema>;
export type GraphInvitation = z.output<typeof invitationSchema>;

export const toGraphUser = (user: User): GraphUser => ({
  id: user.id,
  userPrincipalName: user.userPrincipalName,
  displayName: user.displayName,
  mail: user.mail ?? null,
  userType: user.userType,
  externalUserState: user.externalUserState ?? null,
  externalUserStateChangeDateTime: user.externalUserStateChangeDateTime ?? null,
  identities: user.identities.map(({ signInType, issuer, issuerAssignedId }) => ({ signInType, issuer, issuerAssignedId })),
  creationType: user.creationType ?? null,
  accountEnabled: user.accountEnabled,
  createdDateTime: user.createdDateTime,
});

export const toGraphInvitation = (invitation: Invitation, odataContext: string, inviteRedeemUrl: string | null): GraphInvitation => ({
  '@odata.context': odataContext,
  id: invitation.id,
  inviteRedeemUrl,
  inviteRedirectUrl: invitation.inviteRedirectUrl,
  invitedUserDisplayName: invitation.invitedUserDisplayName ?? null,
  invitedUserEmailAddress: invitation.invitedUserEmailAddress,
  invitedUserType: invitation.invitedUserType,
  invitedUserMessageInfo: {
    customizedMessageBody: invitation.messageInfo.customizedMessageBody ?? null,
    messageLanguage: invitation.messageInfo.messageLanguage ?? null,
    ccRecipients: invitation.messageInfo.ccRecipients.map((address) => ({ emailAddress: { address, name: null } })),
  },
  sendInvitationMessage: invitation.sendInvitationMessage,
  resetRedemption: invitation.resetRedemption,
  status: invitation.status,
  invitedUser: { id: invitation.userId },
});
