/**
 * The OpenAPI 3.1 document of the management API, generated from the zod schemas the API
 * validates and answers with (shapes.ts), served at `GET /graph/v1.0/$metadata/openapi.json`.
 */
import { z } from 'zod';
import { GRAPH_ROLES } from '../config/invitations.ts';
import { ROLES } from './authorization.ts';
import { TOP_DEFAULT, TOP_MAX } from './paging.ts';
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
  '403': errorResponse('The token lacks the role the operation needs (`Authorization_RequestDenied`).'),
  '503': errorResponse('The store does not answer (`serviceNotAvailable`); retry after `Retry-After` seconds.'),
};
const NOT_FOUND = { '404': errorResponse('No such object in the tenant (`Request_ResourceNotFound`).') };
const BODY_ERRORS = {
  '413': errorResponse('The body is larger than 32 KiB (`RequestEntityTooLarge`).'),
  '415': errorResponse('The body is not JSON (`UnsupportedMediaType`).'),
};

const json = (schema: JsonObject, description: string): JsonObject => ({ description, content: { 'application/json': { schema } } });
const roles = (list: readonly string[]): string => `Roles: ${list.map((role) => `\`${role}\``).join(' or ')}.`;

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
  const requests = componentSchemas({ CreateInvitationRequest: createInvitationRequest, UpdateUserRequest: updateUserRequest }, 'input');
  const responses = componentSchemas(
    {
      ObjectIdentity: objectIdentitySchema,
      User: userSchema,
      UserEntity: userEntitySchema,
      UserCollection: userCollectionSchema,
      Invitation: invitationSchema,
      DirectoryAudit: directoryAuditSchema,
      DirectoryAuditCollection: directoryAuditCollectionSchema,
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
        "A tenant's directory in Microsoft Graph's names and shapes (v1.0): invitations, users and the directory audit log.",
        '',
        "Call it with an access token from the tenant's own token endpoint (`{PUBLIC_URL}/{tenant}/v2.0/token`), obtained by client credentials",
        'with `resource={PUBLIC_URL}/graph` by an app whose `graphRoles` list the roles an operation needs. The token names the tenant.',
        '',
        'Operations marked `x-portico-extension` have no Graph equivalent.',
      ].join('\n'),
    },
    servers: [{ url: baseUrl }],
    security: [{ bearer: [] }],
    tags: [{ name: 'invitations' }, { name: 'users' }, { name: 'auditLogs' }],
    paths: {
      '/invitations': {
        post: {
          tags: ['invitations'],
          operationId: 'createInvitation',
          summary: 'Invite a guest',
          description: `${roles(ROLES.invite)} With \`resetRedemption\`: \`User.ReadWrite.All\`. The guest exists at once (PendingAcceptance); an address that is already a guest gets a new invitation for the same user.`,
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
          description: `${roles(ROLES.readUsers)} \`$select\` is accepted and ignored (every property is returned).`,
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
          description: roles(ROLES.readUsers),
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
    },
    components: {
      schemas: { ...requests, ...responses },
      securitySchemes: {
        bearer: {
          type: 'http',
          scheme: 'bearer',
          bearerFormat: 'JWT',
          description: `An ES256 access token (\`typ: at+jwt\`, \`aud: {PUBLIC_URL}/graph\`) with \`roles\` among ${GRAPH_ROLES.map((r) => `\`${r}\``).join(', ')}.`,
        },
      },
    },
  };
}
