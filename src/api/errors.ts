/**
 * Errors of the management API in Microsoft Graph's shape and with its codes, so scripts that
 * handle Entra's errors handle Portico's:
 * `{"error":{"code":"…","message":"…","innerError":{"request-id":"…","date":"…"}}}`.
 */
import type { ErrorRequestHandler, Request, Response } from 'express';
import { requestIdOf } from '../http/express-app.ts';
import { InvitationError, type InvitationErrorCode } from '../directory/invitations.ts';
import { PorticoError, StoreUnavailableError } from '../shared/errors.ts';
import type { Logger } from '../shared/logger.ts';
import { AlreadyExistsError, ConflictError, NotFoundError } from '../storage/errors.ts';

export type GraphErrorCode =
  | 'Request_BadRequest'
  | 'Request_UnsupportedQuery'
  | 'Request_ResourceNotFound'
  | 'Request_MultipleObjectsWithSameKeyValue'
  | 'Authorization_RequestDenied'
  | 'InvalidAuthenticationToken'
  | 'UnsupportedMediaType'
  | 'RequestEntityTooLarge'
  | 'TooManyRequests'
  | 'serviceNotAvailable'
  | 'generalException';

export class GraphError extends PorticoError {
  declare readonly code: GraphErrorCode;
  constructor(status: number, code: GraphErrorCode, message: string) {
    super(code, message, { status, expose: status < 500 });
  }
}

export const badRequest = (message: string): GraphError => new GraphError(400, 'Request_BadRequest', message);
export const notFound = (message: string): GraphError => new GraphError(404, 'Request_ResourceNotFound', message);

export interface GraphErrorBody {
  readonly error: {
    readonly code: string;
    readonly message: string;
    readonly innerError: { readonly 'request-id': string; readonly date: string };
  };
}

export function graphErrorBody(req: Request, code: string, message: string, now: Date): GraphErrorBody {
  // Graph's innerError date has no fractional seconds.
  return { error: { code, message, innerError: { 'request-id': requestIdOf(req), date: now.toISOString().replace(/\.\d{3}Z$/, 'Z') } } };
}

const INVITATION_ERRORS: Record<InvitationErrorCode, { status: number; code: GraphErrorCode }> = {
  unknown_tenant: { status: 404, code: 'Request_ResourceNotFound' },
  invalid_email: { status: 400, code: 'Request_BadRequest' },
  member_exists: { status: 400, code: 'Request_BadRequest' },
  user_not_found: { status: 404, code: 'Request_ResourceNotFound' },
  not_external: { status: 400, code: 'Request_BadRequest' },
  email_taken: { status: 400, code: 'Request_MultipleObjectsWithSameKeyValue' },
  invitation_not_found: { status: 404, code: 'Request_ResourceNotFound' },
  already_redeemed: { status: 400, code: 'Request_BadRequest' },
  invitation_revoked: { status: 400, code: 'Request_BadRequest' },
  blocked_by_policy: { status: 403, code: 'Authorization_RequestDenied' },
};

/** Any error as a Graph error: status, code, and a message that reveals nothing internal. */
export function toGraphError(error: unknown): GraphError {
  if (error instanceof GraphError) return error;
  if (error instanceof InvitationError) {
    const mapped = INVITATION_ERRORS[error.code];
    return new GraphError(mapped.status, mapped.code, error.message);
  }
  if (error instanceof StoreUnavailableError) return new GraphError(503, 'serviceNotAvailable', 'The service is temporarily unavailable. Try again shortly.');
  if (error instanceof NotFoundError) return notFound('The resource does not exist.');
  if (error instanceof AlreadyExistsError || error instanceof ConflictError) {
    return new GraphError(409, 'Request_MultipleObjectsWithSameKeyValue', 'The change conflicts with the current state of the directory. Try again.');
  }
  // body-parser's errors carry a status and a type.
  const parser = error as { status?: unknown; type?: unknown };
  if (parser.type === 'entity.too.large') return new GraphError(413, 'RequestEntityTooLarge', 'The request body is too large.');
  if (parser.type === 'entity.parse.failed') return badRequest('The request body is not valid JSON.');
  if (parser.type === 'encoding.unsupported' || parser.type === 'charset.unsupported') {
    return new GraphError(415, 'UnsupportedMediaType', 'The request body must be UTF-8 JSON.');
  }
  if (typeof parser.status === 'number' && parser.status >= 400 && parser.status < 500) return badRequest('The request could not be understood.');
  return new GraphError(500, 'generalException', 'Something went wrong on our side.');
}

export function sendGraphError(req: Request, res: Response, error: GraphError, now: Date): void {
  if (error.status === 401) {
    res.set('WWW-Authenticate', `Bearer error="invalid_token", error_description="${error.message.replace(/["\\]/g, '')}"`);
  }
  if (error.status === 503) res.set('Retry-After', '5');
  res.status(error.status).json(graphErrorBody(req, error.code, error.message, now));
}

/** The API's error handler: Graph-shaped bodies, server errors logged with the request id. */
export function graphErrorHandler(logger: Logger, now: () => Date): ErrorRequestHandler {
  return (error: unknown, req, res, _next) => {
    const graph = toGraphError(error);
    const requestId = requestIdOf(req);
    if (graph.status >= 500) logger.error({ requestId, err: error, path: req.path }, 'management api request failed');
    else logger.info({ requestId, code: graph.code, path: req.path, status: graph.status }, 'management api request refused');
    if (res.headersSent) return;
    sendGraphError(req, res, graph, now());
  };
}
