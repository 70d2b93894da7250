/**
 * Groups, members and app role assignments as the management API accepts and returns them: zod
 * schemas in Microsoft Graph's (v1.0) names, which validate requests and generate the OpenAPI
 * document (as shapes.ts does for users and invitations).
 */
import { z } from 'zod';
import { DEFAULT_ACCESS_ROLE_ID, type AppRoleAssignment } from '../directory/app-role-assignments.ts';
import type { Group } from '../directory/groups.ts';
import type { User } from '../directory/users.ts';
import { toGraphUser, userSchema } from './shapes.ts';

// ---------------------------------------------------------------------------------------------
// Requests

const displayName = () => z.string().trim().min(1).max(256);
const description = () => z.string().max(1024);
// Graph's mail alias rule: ASCII, no spaces or the characters @ () \ [] " ; : <> ,
const mailNickname = () =>
  z
    .string()
    .min(1)
    .max(64)
    .regex(/^[\x21-\x7e]+$/, 'must be ASCII without spaces')
    .refine((value) => !/[@()\\[\]";:<>,]/.test(value), { message: 'must not contain @ ( ) \\ [ ] " ; : < > ,' });

export const createGroupRequest = z.strictObject({
  displayName: displayName().meta({ description: 'The group name.' }),
  description: description().optional(),
  mailNickname: mailNickname().optional().meta({ description: 'Mail alias; derived from displayName when absent.' }),
  securityEnabled: z.boolean().default(true),
  mailEnabled: z.literal(false).optional().meta({ description: 'Accepted for Graph compatibility; Portico groups are not mail-enabled.' }),
  groupTypes: z.array(z.string()).refine((types) => types.length === 0, { message: 'must be empty: only security groups are supported' }).optional(),
});

export type CreateGroupRequest = z.output<typeof createGroupRequest>;

export const updateGroupRequest = z
  .strictObject({
    displayName: displayName().optional(),
    description: description().optional(),
    mailNickname: mailNickname().optional(),
    securityEnabled: z.boolean().optional(),
  })
  .refine((body) => Object.values(body).some((value) => value !== undefined), { message: 'must set displayName, description, mailNickname or securityEnabled' });

export type UpdateGroupRequest = z.output<typeof updateGroupRequest>;

/** `POST …/members/$ref`: the member by its OData URL. Read without dropping `@odata.` keys. */
export const memberReferenceRequest = z.strictObject({
  '@odata.id': z.string().max(2048).meta({ description: '`{baseUrl}/directoryObjects/{userId}` (or `{baseUrl}/users/{userId}`).' }),
});

export const createAppRoleAssignmentRequest = z.strictObject({
  principalId: z.string().min(1).max(64).meta({ description: 'The user (or group) in the path.' }),
  resourceId: z.string().min(1).max(128).meta({ description: "The app's client id (`apps[].id` of the tenant)." }),
  appRoleId: z.string().max(64).default(DEFAULT_ACCESS_ROLE_ID).meta({ description: `Only the default access role \`${DEFAULT_ACCESS_ROLE_ID}\`.` }),
});

export type CreateAppRoleAssignmentRequest = z.output<typeof createAppRoleAssignmentRequest>;

// ---------------------------------------------------------------------------------------------
// Responses

const dateTime = () => z.iso.datetime();
const context = () => z.string().meta({ description: 'OData context URL.' });
const nextLink = () => z.string().optional().meta({ description: 'The next page; absent on the last one.' });

export const groupSchema = z.strictObject({
  id: z.string(),
  displayName: z.string(),
  description: z.string().nullable(),
  mailNickname: z.string(),
  mailEnabled: z.boolean(),
  securityEnabled: z.boolean(),
  groupTypes: z.array(z.string()),
  createdDateTime: dateTime(),
});

export const groupEntitySchema = z.strictObject({ '@odata.context': context(), ...groupSchema.shape });

export const groupCollectionSchema = z.strictObject({
  '@odata.context': context(),
  '@odata.nextLink': nextLink(),
  value: z.array(groupSchema),
});

/** Members are directoryObjects; Portico's are users, typed as Graph types them. */
export const memberCollectionSchema = z.strictObject({
  '@odata.context': context(),
  '@odata.nextLink': nextLink(),
  value: z.array(z.strictObject({ '@odata.type': z.literal('#microsoft.graph.user'), ...userSchema.shape })),
});

export const memberOfCollectionSchema = z.strictObject({
  '@odata.context': context(),
  value: z.array(z.strictObject({ '@odata.type': z.literal('#microsoft.graph.group'), ...groupSchema.shape })),
});

export const appRoleAssignmentSchema = z.strictObject({
  id: z.string(),
  principalId: z.string(),
  principalType: z.enum(['User', 'Group']),
  principalDisplayName: z.string(),
  resourceId: z.string().meta({ description: "The app's client id." }),
  resourceDisplayName: z.string(),
  appRoleId: z.string(),
  createdDateTime: dateTime(),
});

export const appRoleAssignmentEntitySchema = z.strictObject({ '@odata.context': context(), ...appRoleAssignmentSchema.shape });

export const appRoleAssignmentCollectionSchema = z.strictObject({
  '@odata.context': context(),
  value: z.array(appRoleAssignmentSchema),
});

// ---------------------------------------------------------------------------------------------
// Mapping directory objects to responses

export type GraphGroup = z.output<typeof groupSchema>;
export type GraphAppRoleAssignment = z.output<typeof appRoleAssignmentSchema>;

export const toGraphGroup = (group: Group): GraphGroup => ({
  id: group.id,
  displayName: group.displayName,
  description: group.description ?? null,
  mailNickname: group.mailNickname,
  mailEnabled: false,
  securityEnabled: group.securityEnabled,
  groupTypes: [],
  createdDateTime: group.createdDateTime,
});

export const toGraphMember = (user: User) => ({ '@odata.type': '#microsoft.graph.user' as const, ...toGraphUser(user) });

export const toGraphMemberOf = (group: Group) => ({ '@odata.type': '#microsoft.graph.group' as const, ...toGraphGroup(group) });

/** `principalDisplayName` is the principal's name now, not when it was assigned. */
export const toGraphAppRoleAssignment = (assignment: AppRoleAssignment, principalDisplayName: string): GraphAppRoleAssignment => ({
  id: assignment.id,
  principalId: assignment.principalId,
  principalType: assignment.principalType,
  principalDisplayName,
  resourceId: assignment.resourceId,
  resourceDisplayName: assignment.resourceDisplayName,
  appRoleId: assignment.appRoleId,
  createdDateTime: assignment.createdDateTime,
});
