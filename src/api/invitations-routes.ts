/**
 * `POST /invitations` as Graph has it, plus Portico's own `GET /invitations/{id}`,
 * `POST /invitations/{id}/resend` and `POST /invitations/{id}/revoke` (Graph has no
 * equivalents: Entra cannot resend or revoke an invitation).
 */
import { Router } from 'express';
import { normaliseEmail } from '../shared/email.ts';
import { ROLES, callerOf, hasAnyRole, insufficientPrivileges, requireRole } from './authorization.ts';
import { correlationIdOf, type ApiContext } from './context.ts';
import { notFound } from './errors.ts';
import { jsonBody, onlyQuery, parseBody } from './request.ts';
import { createInvitationRequest, toGraphInvitation } from './shapes.ts';

export function invitationRoutes(context: ApiContext): Router {
  const router = Router();
  const entity = `${context.baseUrl}/$metadata#invitations/$entity`;

  router.post('/invitations', requireRole(ROLES.invite), jsonBody, async (req, res) => {
    onlyQuery(req, []);
    const caller = callerOf(res);
    const body = parseBody(createInvitationRequest, req);
    // Resetting who may sign in as an existing user is a user write, not only an invitation.
    if (body.resetRedemption && !hasAnyRole(caller, ROLES.writeUsers)) throw insufficientPrivileges();
    const info = body.invitedUserMessageInfo;
    const issued = await context.invitations.invite({
      tenantId: caller.tenant.id,
      email: normaliseEmail(body.invitedUserEmailAddress)!,
      inviteRedirectUrl: body.inviteRedirectUrl,
      ...(body.invitedUserDisplayName === undefined ? {} : { displayName: body.invitedUserDisplayName }),
      sendInvitationMessage: body.sendInvitationMessage,
      messageInfo: {
        ...(info?.customizedMessageBody === undefined ? {} : { customizedMessageBody: info.customizedMessageBody }),
        ...(info?.messageLanguage === undefined ? {} : { messageLanguage: info.messageLanguage }),
        ccRecipients: (info?.ccRecipients ?? []).map((recipient) => normaliseEmail(recipient.emailAddress.address)!),
      },
      userType: body.invitedUserType,
      ...(body.resetRedemption && body.invitedUser ? { resetRedemptionOf: body.invitedUser.id } : {}),
      invitedBy: caller.actor,
      correlationId: correlationIdOf(req),
    });
    res.status(201).json(toGraphInvitation(issued.invitation, entity, issued.inviteRedeemUrl));
  });

  router.get('/invitations/:id', requireRole(ROLES.invite), async (req, res) => {
    onlyQuery(req, []);
    const invitation = await context.invitations.get(callerOf(res).tenant.id, String(req.params['id']));
    if (!invitation) throw notFound(`Invitation '${String(req.params['id'])}' does not exist.`);
    res.json(toGraphInvitation(invitation, entity, null));
  });

  router.post('/invitations/:id/resend', requireRole(ROLES.invite), jsonBody, async (req, res) => {
    onlyQuery(req, []);
    const caller = callerOf(res);
    const issued = await context.invitations.resend(caller.tenant.id, String(req.params['id']), { actor: caller.actor, correlationId: correlationIdOf(req) });
    res.json(toGraphInvitation(issued.invitation, entity, issued.inviteRedeemUrl));
  });

  router.post('/invitations/:id/revoke', requireRole(ROLES.invite), jsonBody, async (req, res) => {
    onlyQuery(req, []);
    const caller = callerOf(res);
    const invitation = await context.invitations.revoke(caller.tenant.id, String(req.params['id']), { actor: caller.actor, correlationId: correlationIdOf(req) });
    res.json(toGraphInvitation(invitation, entity, null));
  });

  return router;
}
