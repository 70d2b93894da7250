/**
 * The OpenAPI 3.1 document of the management API, generated from the zod schemas the API
 * validates and answers with (shapes.ts), served at `GET /graph/v1.0/$metadata/openapi.json`.
 */
import { z } from 'zod';
import { GRAPH_ROLES, GRAPH_SCOPES } from '../config/invitations.ts';
import { ROLES } from './authorization.ts';
import { DELEGATED_SCOPES } from './delegated-access.ts';
import {
  appRoleAssignmentCollectionSchema,
  appRoleAssignmentEntitySchema,
  appRoleAssignmentSchema,
  createAppRoleAssignmentRequest,
  createGroupRequest,
  groupCollectionSchema,
  groupEntitySchema,
  groupSchema,
  memberCollectionSchema,
  memberOfCollectionSchema,
  memberReferenceRequest,
  updateGroupRequest,
} from './group-shapes.ts';
import { TOP_DEFAULT, TOP_MAX } from './paging.ts';
import { explainPolicyRequest, policyExplanationSchema } from './policy-shapes.ts';
import {
  createInvitationRequest,
  directoryAuditCollectionSchema,
  directoryAuditSchema,
  graphErrorSchema,
  invitationSchema,
  objectIdentitySchema,
  updateUserRequest,
  userCollectionSchema,
  userEntitySchema,
  userSchema,
} from './shapes.ts';
import { signInCollectionSchema, signInEntitySchema, signInSchema } from './sign-in-shapes.ts';
import { authenticationMethodCollectionSchema, authenticationMethodSchema } from './authentication-methods-shapes.ts';

type JsonObject = Record<string, unknown>;

const ref = (name: string): JsonObject => ({ $ref: `#/components/schemas/${name}` });

/** JSON Schemas of a registry's members, keyed by id, with references between them as OpenAPI component refs. */
function componentSchemas(members: Record<string, z.ZodType>, io: 'input' | 'output'): Record<string, JsonObject> {
  const registry = z.registry<{ id: string }>();
  for (const [id, schema] of Object.entries(members)) registry.add(schema, { id });
  const generated = z.toJSONSchema(registry, { target: 'draft-2020-12', io, uri: (id) => `#/components/schemas/${id}` });
  return Object.fromEntries(
    Object.entries(generated.schemas).map(([id, schema]) => {
      const { $schema: _schema, $id: _id, ...rest } = schema as JsonObject;
      return [id, rest];
    }),
  );
}

const errorResponse = (description: string): JsonObject => ({ description, content: { 'application/json': { schema: ref('GraphError') } } });

const ERRORS = {
  '400': errorResponse('Malformed request: `Request_BadRequest` (naming the property) or `Request_UnsupportedQuery`.'),
  '401': errorResponse('No valid access token (`InvalidAuthenticationToken`); the `WWW-Authenticate` header says `Bearer error="invalid_token"`.'),
  '403': errorResponse(
    "The token lacks the role or delegated scope the operation needs, or `guestUserAccess` does not let a signed-in guest read it (`Authorization_RequestDenied`, naming why).",
  ),
  '429': errorResponse('Too many requests from this caller this minute (`TooManyRequests`, `managementApi.requestsPerMinute`); retry after `Retry-After` seconds.'),
  '503': errorResponse('The store does not answer (`serviceNotAvailable`); retry after `Retry-After` seconds.'),
};
const NOT_FOUND = { '404': errorResponse('No such object in the tenant (`Request_ResourceNotFound`).') };
const BODY_ERRORS = {
  '413': errorResponse('The body is larger than 32 KiB (`RequestEntityTooLarge`).'),
  '415': errorResponse('The body is not JSON (`UnsupportedMediaType`).'),
};

const json = (schema: JsonObject, description: string): JsonObject => ({ description, content: { 'application/json': { schema } } });
const roles = (list: readonly string[]): string => `Roles: ${list.map((role) => `\`${role}\``).join(' or ')}.`;
/** What a signed-in user's token needs (delegated scopes), and how `guestUserAccess` limits guests. */
const delegated = (list: readonly string[], guests: string): string =>
  ` Delegated: ${list.map((scope) => `\`${scope}\``).join(' or ')}; guests: ${guests}.`;
const GUESTS_AS_MEMBERS = 'only with `guestUserAccess: sameAsMember`';
const GUESTS_OWN_GROUPS = 'with `limited` only groups they are in, never with `restricted`';

const idParameter = (description: string): JsonObject => ({ name: 'id', in: 'path', required: true, description, schema: { type: 'string' } });
const topParameter: JsonObject = {
  name: '$top',
  in: 'query',
  description: `Page size, ${1}–${TOP_MAX} (default ${TOP_DEFAULT}).`,
  schema: { type: 'integer', minimum: 1, maximum: TOP_MAX, default: TOP_DEFAULT },
};
const skipTokenParameter: JsonObject = {
  name: '$skiptoken',
  in: 'query',
  description: 'Opaque position from `@odata.nextLink`; valid only with the query options it came with.',
  schema: { type: 'string' },
};

export function openApiDocument(baseUrl: string): JsonObject {
  const requests = componentSchemas(
    {
      CreateInvitationRequest: createInvitationRequest,
      UpdateUserRequest: updateUserRequest,
      CreateGroupRequest: createGroupRequest,
      UpdateGroupRequest: updateGroupRequest,
      MemberReference: memberReferenceRequest,
      CreateAppRoleAssignmentRequest: createAppRoleAssignmentRequest,
      ExplainPolicyRequest: explainPolicyRequest,
    },
    'input',
  );
  const responses = componentSchemas(
    {
      ObjectIdentity: objectIdentitySchema,
      User: userSchema,
      UserEntity: userEntitySchema,
      UserCollection: userCollectionSchema,
      Invitation: invitationSchema,
      DirectoryAudit: directoryAuditSchema,
      DirectoryAuditCollection: directoryAuditCollectionSchema,
      SignIn: signInSchema,
      SignInEntity: signInEntitySchema,
      SignInCollection: signInCollectionSchema,
      Group: groupSchema,
      GroupEntity: groupEntitySchema,
      GroupCollection: groupCollectionSchema,
      MemberCollection: memberCollectionSchema,
      MemberOfCollection: memberOfCollectionSchema,
      AppRoleAssignment: appRoleAssignmentSchema,
      AppRoleAssignmentEntity: appRoleAssignmentEntitySchema,
      AppRoleAssignmentCollection: appRoleAssignmentCollectionSchema,
      AuthenticationMethod: authenticationMethodSchema,
      AuthenticationMethodCollection: authenticationMethodCollectionSchema,
      PolicyExplanation: policyExplanationSchema,
      GraphError: graphErrorSchema,
    },
    'output',
  );
  return {
    openapi: '3.1.0',
    info: {
      title: 'Portico management API',
      version: '1.0',
      description: [
        "A tenant's directory in Microsoft Graph's names and shapes (v1.0): invitations, users, the directory audit log and the sign-in log.",
        '',
        "Call it with an access token from the tenant's own token endpoint (`{PUBLIC_URL}/{tenant}/v2.0/token`), obtained by client credentials",
        'with `resource={PUBLIC_URL}/graph` by an app whose `graphRoles` list the roles an operation needs. The token names the tenant.',
        '',
        "A signed-in user may call the operations that say `Delegated:` with a token the app got in the authorization code flow with `resource={PUBLIC_URL}/graph` and the app's `graphScopes` in `scope` (the token's `scp`).",
        "The user acts as themselves; guests are limited further by the tenant's `externalCollaboration.guestUserAccess`. Every other operation is app-only.",
        '',
        'Operations marked `x-portico-extension` have no Graph equivalent.',
      ].join('\n'),
    },
    servers: [{ url: baseUrl }],
    security: [{ bearer: [] }],
    tags: [{ name: 'invitations' }, { name: 'users' }, { name: 'groups' }, { name: 'appRoleAssignments' }, { name: 'auditLogs' }, { name: 'policies' }],
    paths: {
      '/invitations': {
        post: {
          tags: ['invitations'],
          operationId: 'createInvitation',
          summary: 'Invite a guest',
          description: `${roles(ROLES.invite)} With \`resetRedemption\`: \`User.ReadWrite.All\`.${delegated(DELEGATED_SCOPES.invite, 'as members')}, as far as \`externalCollaboration.allowInvitesFrom\` lets the user invite (403 naming the rule otherwise). The guest exists at once (PendingAcceptance); an address that is already a guest gets a new invitation for the same user.`,
          requestBody: { required: true, content: { 'application/json': { schema: ref('CreateInvitationRequest') } } },
          responses: { '201': json(ref('Invitation'), 'The invitation, with the redemption link.'), ...ERRORS, ...NOT_FOUND, ...BODY_ERRORS },
        },
      },
      '/invitations/{id}': {
        get: {
          tags: ['invitations'],
          operationId: 'getInvitation',
          summary: 'Read an invitation',
          description: `${roles(ROLES.invite)} \`inviteRedeemUrl\` is null: the link is stored hashed.`,
          'x-portico-extension': true,
          parameters: [idParameter('Invitation id.')],
          responses: { '200': json(ref('Invitation'), 'The invitation.'), ...ERRORS, ...NOT_FOUND },
        },
      },
      '/invitations/{id}/resend': {
        post: {
          tags: ['invitations'],
          operationId: 'resendInvitation',
          summary: 'Send a pending invitation again, with a new link',
          description: `${roles(ROLES.invite)} The previous link stops working at once.`,
          'x-portico-extension': true,
          parameters: [idParameter('Invitation id.')],
          responses: { '200': json(ref('Invitation'), 'The invitation, with the new redemption link.'), ...ERRORS, ...NOT_FOUND, ...BODY_ERRORS },
        },
      },
      '/invitations/{id}/revoke': {
        post: {
          tags: ['invitations'],
          operationId: 'revokeInvitation',
          summary: "Revoke a pending invitation's link",
          description: `${roles(ROLES.invite)} The guest user stays; delete it to remove it.`,
          'x-portico-extension': true,
          parameters: [idParameter('Invitation id.')],
          responses: { '200': json(ref('Invitation'), 'The revoked invitation.'), ...ERRORS, ...NOT_FOUND, ...BODY_ERRORS },
        },
      },
      '/users': {
        get: {
          tags: ['users'],
          operationId: 'listUsers',
          summary: 'List users',
          description: `${roles(ROLES.readUsers)}${delegated(DELEGATED_SCOPES.readUsers, GUESTS_AS_MEMBERS)} \`$select\` is accepted and ignored (every property is returned).`,
          parameters: [
            {
              name: '$filter',
              in: 'query',
              description: "`userType eq '…'`, `mail eq '…'`, `externalUserState eq '…'`, joined with `and`.",
              schema: { type: 'string' },
            },
            topParameter,
            skipTokenParameter,
            { name: '$select', in: 'query', schema: { type: 'string' } },
          ],
          responses: { '200': json(ref('UserCollection'), 'A page of users, oldest first.'), ...ERRORS },
        },
      },
      '/users/{id}': {
        parameters: [idParameter('Object id or user principal name (URL-encoded: `#` is `%23`).')],
        get: {
          tags: ['users'],
          operationId: 'getUser',
          summary: 'Read a user',
          description: `${roles(ROLES.readUsers)}${delegated(DELEGATED_SCOPES.readUsers, 'their own object always (their own also with `User.Read`), others only with `guestUserAccess: sameAsMember`')}`,
          responses: { '200': json(ref('UserEntity'), 'The user.'), ...ERRORS, ...NOT_FOUND },
        },
        patch: {
          tags: ['users'],
          operationId: 'updateUser',
          summary: 'Update a user',
          description: roles(ROLES.writeUsers),
          requestBody: { required: true, content: { 'application/json': { schema: ref('UpdateUserRequest') } } },
          responses: { '204': { description: 'Updated.' }, ...ERRORS, ...NOT_FOUND, ...BODY_ERRORS },
        },
        delete: {
          tags: ['users'],
          operationId: 'deleteUser',
          summary: 'Delete a user',
          description: `${roles(ROLES.writeUsers)} Removes the user and its identity links and revokes its pending invitations.`,
          responses: { '204': { description: 'Deleted.' }, ...ERRORS, ...NOT_FOUND },
        },
      },
      '/me': {
        get: {
          tags: ['users'],
          operationId: 'getMe',
          summary: 'Read the signed-in user',
          description: `Only with a delegated token (an app-only token gets 400).${delegated(DELEGATED_SCOPES.readSelf, 'always')}`,
          parameters: [{ name: '$select', in: 'query', schema: { type: 'string' } }],
          responses: { '200': json(ref('UserEntity'), 'The signed-in user.'), ...ERRORS },
        },
      },
      '/users/{id}/authentication/methods': {
        get: {
          tags: ['users'],
          operationId: 'listAuthenticationMethods',
          summary: "List a user's authentication methods",
          description: `${roles(ROLES.readUsers)} The user's authenticator app, if enrolled, as \`#microsoft.graph.softwareOathAuthenticationMethod\`, and passkeys as \`#microsoft.graph.fido2AuthenticationMethod\`; never a secret or key.`,
          parameters: [idParameter('Object id or user principal name (URL-encoded: `#` is `%23`).')],
          responses: { '200': json(ref('AuthenticationMethodCollection'), 'The methods (none, the authenticator app, passkeys).'), ...ERRORS, ...NOT_FOUND },
        },
      },
      '/users/{id}/authentication/softwareOathMethods/{methodId}': {
        delete: {
          tags: ['users'],
          operationId: 'deleteSoftwareOathMethod',
          summary: "Delete a user's authenticator app",
          description: `${roles(ROLES.writeUsers)} Deletes the app's secret and the user's recovery codes: the user sets up an app again at the next sign-in that asks for one. Audited as "Admin deleted security info".`,
          parameters: [
            idParameter('Object id or user principal name (URL-encoded: `#` is `%23`).'),
            { name: 'methodId', in: 'path', required: true, description: 'The method id from the list.', schema: { type: 'string' } },
          ],
          responses: { '204': { description: 'Deleted.' }, ...ERRORS, ...NOT_FOUND },
        },
      },
      '/users/{id}/authentication/fido2Methods/{methodId}': {
        delete: {
          tags: ['users'],
          operationId: 'deleteFido2Method',
          summary: "Delete a user's passkey",
          description: `${roles(ROLES.writeUsers)} Deletes the passkey; with the user's last method (no other passkey, no app) the recovery codes go too, and the user sets up a method again at the next sign-in that asks for one. Audited as "Admin deleted security info".`,
          parameters: [
            idParameter('Object id or user principal name (URL-encoded: `#` is `%23`).'),
            { name: 'methodId', in: 'path', required: true, description: 'The method id from the list.', schema: { type: 'string' } },
          ],
          responses: { '204': { description: 'Deleted.' }, ...ERRORS, ...NOT_FOUND },
        },
      },
      ...groupPaths(),
      ...appRoleAssignmentPaths(),
      '/auditLogs/directoryAudits': {
        get: {
          tags: ['auditLogs'],
          operationId: 'listDirectoryAudits',
          summary: 'List directory audit entries',
          description: `${roles(ROLES.readAudit)} Newest first; kept for \`audit.retentionDays\`.`,
          parameters: [topParameter, skipTokenParameter],
          responses: { '200': json(ref('DirectoryAuditCollection'), 'A page of audit entries.'), ...ERRORS },
        },
      },
      '/auditLogs/signIns': {
        get: {
          tags: ['auditLogs'],
          operationId: 'listSignIns',
          summary: 'List sign-ins',
          description: `${roles(ROLES.readAudit)} Every interactive sign-in that reached a decision, newest first; kept for \`audit.retentionDays\`.`,
          parameters: [
            {
              name: '$filter',
              in: 'query',
              description:
                "`userId eq '…'`, `appId eq '…'`, `status/errorCode eq N`, `createdDateTime ge 2026-01-31T00:00:00Z` (or `le`), joined with `and`.",
              schema: { type: 'string' },
            },
            topParameter,
            skipTokenParameter,
          ],
          responses: { '200': json(ref('SignInCollection'), 'A page of sign-ins.'), ...ERRORS },
        },
      },
      '/auditLogs/signIns/{id}': {
        get: {
          tags: ['auditLogs'],
          operationId: 'getSignIn',
          summary: 'Read a sign-in',
          description: roles(ROLES.readAudit),
          parameters: [idParameter('Sign-in id.')],
          responses: { '200': json(ref('SignInEntity'), 'The sign-in.'), ...ERRORS, ...NOT_FOUND },
        },
      },
      '/policies/explain': {
        post: {
          tags: ['policies'],
          operationId: 'explainPolicy',
          summary: 'Explain what the collaboration policy decides for a user, and why',
          description: `${roles(ROLES.readPolicy)} The invitation, redemption (for a pending or unknown user) and, with \`app\`, sign-in decisions, each with the trace of every layer and rule. An unknown app or identity provider is a 400 naming the known ones.`,
          'x-portico-extension': true,
          requestBody: { required: true, content: { 'application/json': { schema: ref('ExplainPolicyRequest') } } },
          responses: { '200': json(ref('PolicyExplanation'), 'The decisions and their traces.'), ...ERRORS, ...BODY_ERRORS },
        },
      },
    },
    components: {
      schemas: { ...requests, ...responses },
      securitySchemes: {
        bearer: {
          type: 'http',
          scheme: 'bearer',
          bearerFormat: 'JWT',
          description: `An ES256 access token (\`typ: at+jwt\`, \`aud: {PUBLIC_URL}/graph\`): an app's with \`roles\` among ${GRAPH_ROLES.map((r) => `\`${r}\``).join(', ')}, or a signed-in user's with \`scp\` among ${GRAPH_SCOPES.map((s) => `\`${s}\``).join(', ')}.`,
        },
      },
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Groups, members and app role assignments

function groupPaths(): JsonObject {
  const groupId = idParameter('Group object id.');
  return {
    '/groups': {
      post: {
        tags: ['groups'],
        operationId: 'createGroup',
        summary: 'Create a security group',
        description: roles(ROLES.writeGroups),
        requestBody: { required: true, content: { 'application/json': { schema: ref('CreateGroupRequest') } } },
        responses: { '201': json(ref('GroupEntity'), 'The group.'), ...ERRORS, ...BODY_ERRORS },
      },
      get: {
        tags: ['groups'],
        operationId: 'listGroups',
        summary: 'List groups',
        description: `${roles(ROLES.readGroups)}${delegated(DELEGATED_SCOPES.readGroups, GUESTS_AS_MEMBERS)} \`$select\` is accepted and ignored.`,
        parameters: [topParameter, skipTokenParameter, { name: '$select', in: 'query', schema: { type: 'string' } }],
        responses: { '200': json(ref('GroupCollection'), 'A page of groups, oldest first.'), ...ERRORS },
      },
    },
    '/groups/{id}': {
      parameters: [groupId],
      get: {
        tags: ['groups'],
        operationId: 'getGroup',
        summary: 'Read a group',
        description: `${roles(ROLES.readGroups)}${delegated(DELEGATED_SCOPES.readGroups, GUESTS_OWN_GROUPS)}`,
        responses: { '200': json(ref('GroupEntity'), 'The group.'), ...ERRORS, ...NOT_FOUND },
      },
      patch: {
        tags: ['groups'],
        operationId: 'updateGroup',
        summary: 'Update a group',
        description: roles(ROLES.writeGroups),
        requestBody: { required: true, content: { 'application/json': { schema: ref('UpdateGroupRequest') } } },
        responses: { '204': { description: 'Updated.' }, ...ERRORS, ...NOT_FOUND, ...BODY_ERRORS },
      },
      delete: {
        tags: ['groups'],
        operationId: 'deleteGroup',
        summary: 'Delete a group',
        description: `${roles(ROLES.writeGroups)} Removes its memberships and its app role assignments.`,
        responses: { '204': { description: 'Deleted.' }, ...ERRORS, ...NOT_FOUND },
      },
    },
    '/groups/{id}/members': {
      get: {
        tags: ['groups'],
        operationId: 'listGroupMembers',
        summary: "List a group's members",
        description: `${roles(ROLES.readGroups)}${delegated(DELEGATED_SCOPES.readGroups, GUESTS_OWN_GROUPS)} Members are users.`,
        parameters: [groupId, topParameter, skipTokenParameter, { name: '$select', in: 'query', schema: { type: 'string' } }],
        responses: { '200': json(ref('MemberCollection'), 'A page of members, oldest user first.'), ...ERRORS, ...NOT_FOUND },
      },
    },
    '/groups/{id}/members/$ref': {
      post: {
        tags: ['groups'],
        operationId: 'addGroupMember',
        summary: 'Add a user to a group',
        description: `${roles(ROLES.writeGroups)} A user who is already a member is refused with 400 \`Request_BadRequest\` ("One or more added object references already exist").`,
        parameters: [groupId],
        requestBody: { required: true, content: { 'application/json': { schema: ref('MemberReference') } } },
        responses: { '204': { description: 'Added.' }, ...ERRORS, ...NOT_FOUND, ...BODY_ERRORS },
      },
    },
    '/groups/{id}/members/{memberId}/$ref': {
      delete: {
        tags: ['groups'],
        operationId: 'removeGroupMember',
        summary: 'Remove a user from a group',
        description: roles(ROLES.writeGroups),
        parameters: [groupId, { name: 'memberId', in: 'path', required: true, description: 'User object id.', schema: { type: 'string' } }],
        responses: { '204': { description: 'Removed.' }, ...ERRORS, ...NOT_FOUND },
      },
    },
    '/users/{id}/memberOf': {
      get: {
        tags: ['users', 'groups'],
        operationId: 'listUserMemberOf',
        summary: 'List the groups a user is a direct member of',
        description: `${roles(ROLES.readGroups)}${delegated(DELEGATED_SCOPES.readGroups, 'their own memberships (also with `User.Read`) unless `restricted`, others only with `sameAsMember`')}`,
        parameters: [idParameter('Object id or user principal name.'), { name: '$select', in: 'query', schema: { type: 'string' } }],
        responses: { '200': json(ref('MemberOfCollection'), 'The groups, oldest first.'), ...ERRORS, ...NOT_FOUND },
      },
    },
  };
}

function appRoleAssignmentPaths(): JsonObject {
  const forKind = (segment: 'users' | 'groups', read: readonly string[], write: readonly string[]): JsonObject => {
    const noun = segment === 'users' ? 'user' : 'group';
    const Noun = segment === 'users' ? 'User' : 'Group';
    const principal = idParameter(segment === 'users' ? 'Object id or user principal name.' : 'Group object id.');
    return {
      [`/${segment}/{id}/appRoleAssignments`]: {
        parameters: [principal],
        get: {
          tags: ['appRoleAssignments'],
          operationId: `list${Noun}AppRoleAssignments`,
          summary: `List the apps a ${noun} is assigned to`,
          description: roles(read),
          responses: { '200': json(ref('AppRoleAssignmentCollection'), 'The assignments, oldest first.'), ...ERRORS, ...NOT_FOUND },
        },
        post: {
          tags: ['appRoleAssignments'],
          operationId: `create${Noun}AppRoleAssignment`,
          summary: `Assign a ${noun} to an app`,
          description: `${roles(write)} \`resourceId\` is the app's client id; an unknown app, a role other than default access, or a second assignment to the same app is refused with 400.`,
          requestBody: { required: true, content: { 'application/json': { schema: ref('CreateAppRoleAssignmentRequest') } } },
          responses: { '201': json(ref('AppRoleAssignmentEntity'), 'The assignment.'), ...ERRORS, ...NOT_FOUND, ...BODY_ERRORS },
        },
      },
      [`/${segment}/{id}/appRoleAssignments/{assignmentId}`]: {
        delete: {
          tags: ['appRoleAssignments'],
          operationId: `delete${Noun}AppRoleAssignment`,
          summary: `Remove an assignment of a ${noun}`,
          description: roles(write),
          parameters: [principal, { name: 'assignmentId', in: 'path', required: true, description: 'Assignment id.', schema: { type: 'string' } }],
          responses: { '204': { description: 'Removed.' }, ...ERRORS, ...NOT_FOUND },
        },
      },
    };
  };
  return { ...forKind('users', ROLES.readAssignments, ROLES.writeAssignments), ...forKind('groups', ROLES.readGroups, ROLES.writeGroupAssignments) };
}
