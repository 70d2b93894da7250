/**
 * Guest invitations and their redemption tickets.
 *
 * A ticket is a random 256-bit token handed out once (in the redeem URL) and stored only as its
 * SHA-256, so the store never holds a usable link. Every ticket ends exactly once, through one
 * atomic update of its record that says how (used by a redemption, or revoked by a revocation or
 * a resend), so of a redemption and anything racing it exactly one wins, and whoever loses
 * learns why. An ended ticket stays readable until its record expires, so checking a dead link
 * says why it is dead (used, revoked, expired) rather than "unknown"; a ticket that is not the
 * invitation's current one is dead too (replaced by a resend).
 */
import { createHash, randomUUID } from 'node:crypto';
import type { PorticoConfig, TenantConfig } from '../config/types.ts';
import type { Mailer } from '../connectors/types.ts';
import { composeInvitationMail } from '../mail/templates/invitation.ts';
import type { Clock } from '../shared/clock.ts';
import { normaliseEmail } from '../shared/email.ts';
import { PorticoError, errorMessage } from '../shared/errors.ts';
import { newObjectId, newSecretToken } from '../shared/ids.ts';
import type { Logger } from '../shared/logger.ts';
import { AlreadyExistsError, NotFoundError } from '../storage/errors.ts';
import type { DocumentStore } from '../storage/ports.ts';
import { decideInvitation, decideRedemption, staticPolicySource, subjectOf, type Decision, type HomeOrganisation, type Inviter, type PolicySource } from '../policy/index.ts';
import { AuditLog, changed, invitationTarget, userTarget, type Actor } from './audit.ts';
import { guestUserPrincipalName, type User, type UserDirectory, type UserType } from './users.ts';

export type InvitationStatus = 'PendingAcceptance' | 'Completed' | 'Error' | 'Revoked';

export interface MessageInfo {
  readonly customizedMessageBody?: string;
  readonly messageLanguage?: string;
  readonly ccRecipients: readonly string[];
}

export interface Invitation {
  readonly id: string;
  readonly tenantId: string;
  readonly userId: string;
  readonly invitedUserEmailAddress: string;
  readonly invitedUserDisplayName?: string;
  readonly inviteRedirectUrl: string;
  readonly invitedUserType: UserType;
  readonly sendInvitationMessage: boolean;
  readonly messageInfo: MessageInfo;
  readonly resetRedemption: boolean;
  /**
   * `PendingAcceptance` until redeemed (`Completed`) or revoked; `Error` while the last mail
   * could not be sent (the link still works and a resend may fix it).
   */
  readonly status: InvitationStatus;
  readonly invitedBy: Actor;
  readonly createdDateTime: string;
  /** SHA-256 of the live ticket, never the ticket. */
  readonly ticketId: string;
  readonly ticketExpiresDateTime: string;
  readonly lastSentDateTime?: string;
  readonly redeemedDateTime?: string;
  readonly revokedDateTime?: string;
}

export type TicketProblem = 'expired' | 'revoked' | 'used' | 'unknown';

export type TicketCheck = { readonly ok: true; readonly invitation: Invitation } | { readonly ok: false; readonly reason: TicketProblem };

export type Redemption =
  | { readonly ok: true; readonly invitation: Invitation; readonly user: User }
  /**
   * `other-user`: the ticket belongs to another user's invitation; `blocked_by_policy`: collaboration
   * policy no longer allows the guest in. Nothing was consumed.
   */
  | { readonly ok: false; readonly reason: TicketProblem | 'other-user' | 'blocked_by_policy' };

export interface InviteInput {
  readonly tenantId: string;
  readonly email: string;
  readonly inviteRedirectUrl: string;
  readonly displayName?: string;
  readonly sendInvitationMessage: boolean;
  readonly messageInfo?: Partial<MessageInfo>;
  readonly userType?: UserType;
  /** Reset redemption of this user (same object id) and invite it again, possibly at a new address. */
  readonly resetRedemptionOf?: string;
  readonly invitedBy: Actor;
  readonly correlationId: string;
}

export interface IssuedInvitation {
  readonly invitation: Invitation;
  readonly user: User;
  /** Contains the ticket: hand it to the caller, never log or store it. */
  readonly inviteRedeemUrl: string;
}

export type InvitationErrorCode =
  | 'unknown_tenant'
  | 'invalid_email'
  | 'member_exists'
  | 'user_not_found'
  | 'not_external'
  | 'email_taken'
  | 'invitation_not_found'
  | 'already_redeemed'
  | 'invitation_revoked'
  | 'blocked_by_policy';

/** A refused invitation operation; `message` is safe to show to the API caller. */
export class InvitationError extends PorticoError {
  declare readonly code: InvitationErrorCode;
  constructor(code: InvitationErrorCode, message: string) {
    const status = code === 'invitation_not_found' || code === 'user_not_found' || code === 'unknown_tenant' ? 404 : code === 'blocked_by_policy' ? 403 : 400;
    super(code, message, { status, expose: true });
  }
}

export interface InvitationServiceDeps {
  readonly store: DocumentStore;
  readonly clock: Clock;
  readonly users: UserDirectory;
  readonly audit: AuditLog;
  readonly mailer: Mailer;
  readonly logger: Logger;
  readonly publicUrl: string;
  readonly tenant: (tenantId: string) => TenantConfig | undefined;
  /** Collaboration policy: who may invite whom, and whether a pending invitation may still be redeemed. */
  readonly policies?: PolicySource;
  /** Signs the user out everywhere (sessions, grants, their tokens): a reset redemption ends the old identity's access. */
  readonly endSessions?: (tenantId: string, userId: string) => Promise<void>;
}

const INVITATIONS = 'invitations';
const TICKETS = 'invitation-tickets';
const DAY_MS = 24 * 3600 * 1000;
/** How long a dead ticket is remembered after its expiry, to say why it no longer works. */
const TICKET_MEMORY_DAYS = 30;
const TICKET_SHAPE = /^[A-Za-z0-9_-]{43}$/;

interface TicketRecord {
  readonly tenantId: string;
  readonly invitationId: string;
  readonly expiresAt: number;
  /** Set once, atomically: how the ticket ended and by which call (`by` tells the winner). */
  readonly ended?: { readonly reason: 'used' | 'revoked'; readonly by: string; readonly at: number };
}

const ticketIdOf = (token: string): string => createHash('sha256').update(token).digest('base64url');

export class InvitationService {
  readonly #deps: InvitationServiceDeps;

  constructor(deps: InvitationServiceDeps) {
    this.#deps = deps;
  }

  /** `{PUBLIC_URL}/{tenant}/v2.0/redeem?ticket=…`: the page that starts redemption. */
  redeemUrl(tenantId: string, token: string): string {
    return `${this.#deps.publicUrl}/${tenantId}/v2.0/redeem?ticket=${encodeURIComponent(token)}`;
  }

  /**
   * Invites `email`: the guest user exists from now on (PendingAcceptance), with a new invitation
   * and ticket; an address that already is a guest gets a new invitation for the same user, as in
   * Entra. When the mail cannot be sent the invitation stays, with status `Error`.
   */
  async invite(input: InviteInput): Promise<IssuedInvitation> {
    const tenant = this.#tenant(input.tenantId);
    const email = normaliseEmail(input.email);
    if (!email) throw new InvitationError('invalid_email', `'${input.email}' is not a valid email address`);
    await this.#checkInvitationPolicy(tenant, email, input);
    const user =
      input.resetRedemptionOf === undefined
        ? await this.#guestFor(tenant, email, input)
        : await this.#reset(tenant, input.resetRedemptionOf, email, input);

    const now = this.#deps.clock.now();
    const token = newSecretToken();
    const invitation: Invitation = {
      id: newObjectId(),
      tenantId: tenant.id,
      userId: user.id,
      invitedUserEmailAddress: email,
      ...(input.displayName === undefined ? {} : { invitedUserDisplayName: input.displayName }),
      inviteRedirectUrl: input.inviteRedirectUrl,
      invitedUserType: user.userType,
      sendInvitationMessage: input.sendInvitationMessage,
      messageInfo: {
        ...(input.messageInfo?.customizedMessageBody ? { customizedMessageBody: input.messageInfo.customizedMessageBody } : {}),
        ...(input.messageInfo?.messageLanguage ? { messageLanguage: input.messageInfo.messageLanguage } : {}),
        ccRecipients: input.messageInfo?.ccRecipients ?? [],
      },
      resetRedemption: input.resetRedemptionOf !== undefined,
      status: 'PendingAcceptance',
      invitedBy: input.invitedBy,
      createdDateTime: new Date(now).toISOString(),
      ticketId: ticketIdOf(token),
      ticketExpiresDateTime: new Date(now + tenant.invitations.ticketDays * DAY_MS).toISOString(),
    };
    await this.#saveTicket(tenant, invitation, now);
    await this.#deps.store.create(INVITATIONS, invitation.id, invitation, { tags: [`tenant:${tenant.id}`, `user:${tenant.id}:${user.id}`] });
    const inviteRedeemUrl = this.redeemUrl(tenant.id, token);
    const sent = input.sendInvitationMessage ? await this.#send(tenant, invitation, user, inviteRedeemUrl) : undefined;
    const stored = sent === undefined ? invitation : await this.#afterSending(invitation.id, sent);
    await this.#deps.audit.record(tenant.id, {
      activity: 'invite',
      actor: input.invitedBy,
      correlationId: input.correlationId,
      resultReason: sent === false ? 'The invitation mail could not be sent; the invitation can be resent.' : '',
      targets: [userTarget(user), invitationTarget(invitation.id)],
      details: { invitedUserType: user.userType, invitationMail: sent === undefined ? 'not requested' : sent ? 'sent' : 'failed' },
    });
    return { invitation: stored, user, inviteRedeemUrl };
  }

  async get(tenantId: string, invitationId: string): Promise<Invitation | undefined> {
    const record = await this.#deps.store.get<Invitation>(INVITATIONS, invitationId);
    return record && record.value.tenantId === tenantId ? record.value : undefined;
  }

  /** The user's invitations, newest first. */
  async listForUser(tenantId: string, userId: string): Promise<Invitation[]> {
    const records = await this.#deps.store.listByTag<Invitation>(INVITATIONS, `user:${tenantId}:${userId}`);
    return records
      .map((record) => record.value)
      .filter((invitation) => invitation.tenantId === tenantId)
      .sort((a, b) => b.createdDateTime.localeCompare(a.createdDateTime) || b.id.localeCompare(a.id));
  }

  /** A new ticket (and mail) for a pending invitation; the old link stops working at once. */
  async resend(tenantId: string, invitationId: string, context: { readonly actor: Actor; readonly correlationId: string }): Promise<IssuedInvitation> {
    const tenant = this.#tenant(tenantId);
    const invitation = await this.#pending(tenantId, invitationId);
    const user = await this.#deps.users.get(tenantId, invitation.userId);
    if (!user) throw new InvitationError('user_not_found', 'the invited user no longer exists');
    await this.#killTicket(invitation);
    const now = this.#deps.clock.now();
    const token = newSecretToken();
    const renewed: Invitation = {
      ...invitation,
      ticketId: ticketIdOf(token),
      ticketExpiresDateTime: new Date(now + tenant.invitations.ticketDays * DAY_MS).toISOString(),
    };
    await this.#saveTicket(tenant, renewed, now);
    const switched = await this.#deps.store.update<Invitation>(INVITATIONS, invitation.id, (current) =>
      // A revocation or redemption that got in meanwhile stands; the new ticket is then never current.
      current.status === 'PendingAcceptance' || current.status === 'Error'
        ? { ...current, ticketId: renewed.ticketId, ticketExpiresDateTime: renewed.ticketExpiresDateTime }
        : current,
    );
    if (switched.ticketId !== renewed.ticketId) await this.#pending(tenantId, invitationId);
    const inviteRedeemUrl = this.redeemUrl(tenantId, token);
    const sent = await this.#send(tenant, renewed, user, inviteRedeemUrl);
    const stored = await this.#afterSending(invitation.id, sent);
    await this.#deps.audit.record(tenantId, {
      activity: 'resend',
      actor: context.actor,
      correlationId: context.correlationId,
      resultReason: sent ? '' : 'The invitation mail could not be sent; the invitation can be resent.',
      targets: [userTarget(user), invitationTarget(invitation.id)],
      details: { invitationMail: sent ? 'sent' : 'failed' },
    });
    return { invitation: stored, user, inviteRedeemUrl };
  }

  /** Kills the invitation's link; the guest user stays (delete it to remove access). Idempotent. */
  async revoke(tenantId: string, invitationId: string, context: { readonly actor: Actor; readonly correlationId: string }): Promise<Invitation> {
    const existing = await this.get(tenantId, invitationId);
    if (!existing) throw new InvitationError('invitation_not_found', `invitation '${invitationId}' does not exist`);
    if (existing.status === 'Revoked') return existing;
    const invitation = await this.#pending(tenantId, invitationId);
    await this.#killTicket(invitation);
    const revoked = await this.#markRevoked(invitation.id);
    const user = await this.#deps.users.get(tenantId, invitation.userId);
    await this.#deps.audit.record(tenantId, {
      activity: 'revoke',
      actor: context.actor,
      correlationId: context.correlationId,
      targets: [...(user ? [userTarget(user)] : []), invitationTarget(invitation.id)],
    });
    return revoked;
  }

  /** Revokes every pending invitation of the user (deleted, or invited anew by a reset); returns how many. */
  async revokeAllForUser(tenantId: string, userId: string): Promise<number> {
    const records = await this.#deps.store.listByTag<Invitation>(INVITATIONS, `user:${tenantId}:${userId}`);
    let revoked = 0;
    for (const { value } of records) {
      if (value.status !== 'PendingAcceptance' && value.status !== 'Error') continue;
      // Redeemed a moment ago: that invitation is Completed, not revoked.
      if ((await this.#endTicket(value.ticketId, 'revoked')) === 'used') continue;
      await this.#markRevoked(value.id);
      revoked += 1;
    }
    return revoked;
  }

  /** What a redeem link leads to, without using it up. */
  async checkTicket(tenantId: string, token: string): Promise<TicketCheck> {
    const found = await this.#findTicket(tenantId, token);
    if (!found.ok) return found;
    const { record, invitation } = found;
    if (record.value.ended) return { ok: false, reason: record.value.ended.reason };
    // Replaced by a resend (or left over from one that failed half-way): not the live link.
    if (invitation.ticketId !== record.id || invitation.status === 'Revoked') return { ok: false, reason: 'revoked' };
    if (record.value.expiresAt <= this.#deps.clock.now()) return { ok: false, reason: 'expired' };
    if (invitation.status === 'Completed') return { ok: false, reason: 'used' };
    return { ok: true, invitation };
  }

  /**
   * Uses the ticket up (atomically: of two redemptions at once exactly one wins) and marks the
   * invited user Accepted. `userId` is who the redemption flow signed in: it must be the invited
   * user, whose identity the flow has linked.
   */
  async redeem(
    tenantId: string,
    token: string,
    userId: string,
    context: { readonly correlationId: string; readonly home?: HomeOrganisation },
  ): Promise<Redemption> {
    const check = await this.checkTicket(tenantId, token);
    const user = await this.#deps.users.get(tenantId, userId);
    const actor: Actor = user
      ? { kind: 'user', id: user.id, displayName: user.displayName, userPrincipalName: user.userPrincipalName }
      : { kind: 'user', id: userId, displayName: '' };
    const refuse = async (reason: TicketProblem | 'other-user' | 'blocked_by_policy', invitationId?: string, decision?: Decision): Promise<Redemption> => {
      await this.#deps.audit.record(tenantId, {
        activity: 'redeem',
        actor,
        correlationId: context.correlationId,
        result: 'failure',
        resultReason: decision?.denial ? `${REFUSALS[reason]} ${decision.denial.reason} (${decision.denial.rule})` : REFUSALS[reason],
        targets: [...(user ? [userTarget(user)] : []), ...(invitationId ? [invitationTarget(invitationId)] : [])],
        ...(decision ? { details: { policyTrace: JSON.stringify(decision.trace) } } : {}),
      });
      return { ok: false, reason };
    };
    if (!check.ok) return refuse(check.reason);
    const { invitation } = check;
    if (!user || invitation.userId !== userId) return refuse('other-user', invitation.id);
    const decision = this.redemptionDecision(tenantId, user, context.home);
    if (decision?.effect === 'deny') return refuse('blocked_by_policy', invitation.id, decision);
    const lost = await this.#endTicket(invitation.ticketId, 'used');
    if (lost !== undefined) return refuse(lost, invitation.id);
    const redeemedDateTime = new Date(this.#deps.clock.now()).toISOString();
    const completed = await this.#deps.store.update<Invitation>(INVITATIONS, invitation.id, (current) => ({
      ...current,
      status: 'Completed',
      redeemedDateTime,
    }));
    const accepted = (await this.#deps.users.accept(tenantId, userId)) ?? user;
    await this.#deps.audit.record(tenantId, {
      activity: 'redeem',
      actor,
      correlationId: context.correlationId,
      targets: [userTarget(accepted, [changed('externalUserState', user.externalUserState, accepted.externalUserState)]), invitationTarget(invitation.id)],
    });
    return { ok: true, invitation: completed, user: accepted };
  }

  /**
   * Just-in-time redemption: the invited guest signed in to an app directly, without the link,
   * and accepted. Their pending invitations are completed (the links stop working, as used) and
   * the guest is Accepted.
   */
  async acceptWithoutTicket(tenantId: string, userId: string, context: { readonly correlationId: string; readonly home?: HomeOrganisation }): Promise<void> {
    const user = await this.#deps.users.get(tenantId, userId);
    if (!user) throw new InvitationError('user_not_found', `user '${userId}' does not exist`);
    const decision = this.redemptionDecision(tenantId, user, context.home);
    if (decision?.effect === 'deny') {
      await this.#deps.audit.record(tenantId, {
        activity: 'redeem',
        actor: { kind: 'user', id: user.id, displayName: user.displayName, userPrincipalName: user.userPrincipalName },
        correlationId: context.correlationId,
        result: 'failure',
        resultReason: `${REFUSALS.blocked_by_policy} ${decision.denial!.reason} (${decision.denial!.rule})`,
        targets: [userTarget(user)],
        details: { redemption: 'just-in-time', policyTrace: JSON.stringify(decision.trace) },
      });
      throw new InvitationError('blocked_by_policy', `${REFUSALS.blocked_by_policy} ${decision.denial!.reason}`);
    }
    const completed: string[] = [];
    const redeemedDateTime = new Date(this.#deps.clock.now()).toISOString();
    for (const invitation of await this.listForUser(tenantId, userId)) {
      if (invitation.status !== 'PendingAcceptance' && invitation.status !== 'Error') continue;
      // A revocation that got there first stands.
      if ((await this.#endTicket(invitation.ticketId, 'used')) !== undefined) continue;
      await this.#deps.store.update<Invitation>(INVITATIONS, invitation.id, (current) => ({ ...current, status: 'Completed', redeemedDateTime }));
      completed.push(invitation.id);
    }
    const accepted = (await this.#deps.users.accept(tenantId, userId)) ?? user;
    await this.#deps.audit.record(tenantId, {
      activity: 'redeem',
      actor: { kind: 'user', id: user.id, displayName: user.displayName, userPrincipalName: user.userPrincipalName },
      correlationId: context.correlationId,
      targets: [
        userTarget(accepted, [changed('externalUserState', user.externalUserState, accepted.externalUserState)]),
        ...completed.map((id) => invitationTarget(id)),
      ],
      details: { redemption: 'just-in-time' },
    });
  }

  /**
   * Collaboration policy on redeeming `user`'s invitation now: the settings may have changed
   * since it was sent (a domain blocked meanwhile refuses). `home` is what the sign-in showed of
   * the guest's organisation. Undefined when no policy is configured for the service.
   */
  redemptionDecision(tenantId: string, user: User, home: HomeOrganisation = {}): Decision | undefined {
    const policy = this.#deps.policies?.policyFor(tenantId);
    if (!policy || !user.mail) return undefined;
    const email = user.mail;
    const subject = subjectOf(policy, { home: { emailDomain: domainOf(email), ...home }, userType: user.userType, userIds: [user.id, email], email });
    return decideRedemption(policy, { ...subject, email });
  }

  // -------------------------------------------------------------------------------------------

  /** Refuses (with an audit entry holding the policy trace) what collaboration policy does not allow. */
  async #checkInvitationPolicy(tenant: TenantConfig, email: string, input: InviteInput): Promise<void> {
    const policy = this.#deps.policies?.policyFor(tenant.id);
    if (!policy) return;
    const subject = subjectOf(policy, {
      home: { emailDomain: domainOf(email) },
      userType: input.userType ?? 'Guest',
      userIds: [email, input.resetRedemptionOf],
      email,
    });
    const decision = decideInvitation(policy, await this.#inviterOf(tenant.id, input.invitedBy), { ...subject, email });
    if (decision.effect !== 'deny') return;
    const reason = `${decision.denial!.reason} (${decision.denial!.rule})`;
    this.#deps.logger.info({ tenant: tenant.id, requestId: input.correlationId, rule: decision.denial!.rule }, 'invitation refused by policy');
    await this.#deps.audit.record(tenant.id, {
      activity: input.resetRedemptionOf === undefined ? 'invite' : 'resetRedemption',
      actor: input.invitedBy,
      correlationId: input.correlationId,
      result: 'failure',
      resultReason: `Collaboration policy does not allow this invitation: ${reason}.`,
      targets: [],
      details: { invitedDomain: domainOf(email), policyTrace: JSON.stringify(decision.trace) },
    });
    throw new InvitationError('blocked_by_policy', `Collaboration policy does not allow inviting ${email}: ${reason}.`);
  }

  /**
   * Apps reach the invitations API only with `User.Invite.All` and the CLI is run by operators:
   * both invite as admins. Signed-in users invite as what the directory says they are now; one
   * who no longer exists counts as a guest, the least trusted.
   */
  async #inviterOf(tenantId: string, actor: Actor): Promise<Inviter> {
    if (actor.kind === 'app') return { kind: 'admin', id: actor.appId };
    const user = await this.#deps.users.get(tenantId, actor.id);
    return { kind: user?.userType === 'Member' ? 'member' : 'guest', id: actor.id };
  }

  #tenant(tenantId: string): TenantConfig {
    const tenant = this.#deps.tenant(tenantId);
    if (!tenant) throw new InvitationError('unknown_tenant', `unknown tenant '${tenantId}'`);
    return tenant;
  }

  /** The guest for `email`: the existing one (same UPN), or a new one pending acceptance. */
  async #guestFor(tenant: TenantConfig, email: string, input: InviteInput): Promise<User> {
    const { users } = this.#deps;
    const upn = guestUserPrincipalName(email, tenant.domains[0]!);
    const existing = await users.findByUserPrincipalName(tenant.id, upn);
    if (existing) return existing;
    const holder = (await users.list(tenant.id)).find((user) => user.mail !== undefined && user.mail.toLowerCase() === email.toLowerCase());
    if (holder) {
      await this.#auditFailure(tenant.id, input, 'invite', 'The address belongs to a user of the organisation.', holder);
      throw new InvitationError('member_exists', `${email} belongs to a user of the organisation who cannot be invited`);
    }
    try {
      return await users.create({
        tenantId: tenant.id,
        userType: input.userType ?? 'Guest',
        userPrincipalName: upn,
        displayName: input.displayName ?? email,
        mail: email,
        creationType: 'Invitation',
        externalUserState: 'PendingAcceptance',
      });
    } catch (error) {
      if (!(error instanceof AlreadyExistsError)) throw error;
      // A concurrent invitation of the same address created the guest first: share it.
      const winner = await users.findByUserPrincipalName(tenant.id, upn);
      if (!winner) throw error;
      return winner;
    }
  }

  /** Reset redemption: same object, identities cleared, pending again, possibly a new address. */
  async #reset(tenant: TenantConfig, userId: string, email: string, input: InviteInput): Promise<User> {
    const { users } = this.#deps;
    const user = await users.get(tenant.id, userId);
    if (!user) throw new InvitationError('user_not_found', `user '${userId}' does not exist`);
    if (user.userType !== 'Guest' && user.creationType !== 'Invitation') {
      await this.#auditFailure(tenant.id, input, 'resetRedemption', 'Only external users can have their redemption reset.', user);
      throw new InvitationError('not_external', 'only external users (guests or invited members) can have their redemption reset');
    }
    const upn = guestUserPrincipalName(email, tenant.domains[0]!);
    const holder = await users.findByUserPrincipalName(tenant.id, upn);
    const mailHolder = (await users.list(tenant.id)).find((other) => other.id !== user.id && other.mail?.toLowerCase() === email.toLowerCase());
    if ((holder && holder.id !== user.id) || mailHolder) {
      await this.#auditFailure(tenant.id, input, 'resetRedemption', 'Another user has this address.', user);
      throw new InvitationError('email_taken', `another user of the organisation already has the address ${email}`);
    }
    const revoked = await this.revokeAllForUser(tenant.id, user.id);
    let reset: User | undefined;
    try {
      reset = await users.resetRedemption(tenant.id, user.id, { mail: email, userPrincipalName: upn });
    } catch (error) {
      if (error instanceof AlreadyExistsError) throw new InvitationError('email_taken', `another user of the organisation already has the address ${email}`);
      throw error;
    }
    if (!reset) throw new InvitationError('user_not_found', `user '${userId}' does not exist`);
    // The identities are unlinked: what they signed in to ends with them.
    await this.#deps.endSessions?.(tenant.id, user.id);
    await this.#deps.audit.record(tenant.id, {
      activity: 'resetRedemption',
      actor: input.invitedBy,
      correlationId: input.correlationId,
      targets: [
        userTarget(reset, [
          changed('externalUserState', user.externalUserState, reset.externalUserState),
          ...(user.mail === reset.mail ? [] : [changed('mail', user.mail, reset.mail), changed('userPrincipalName', user.userPrincipalName, reset.userPrincipalName)]),
          changed('identities', user.identities.map((i) => i.issuer), []),
        ]),
      ],
      details: { revokedInvitations: String(revoked), sessionsEnded: this.#deps.endSessions ? 'true' : 'false' },
    });
    return reset;
  }

  async #auditFailure(tenantId: string, input: InviteInput, activity: 'invite' | 'resetRedemption', reason: string, user: User): Promise<void> {
    await this.#deps.audit.record(tenantId, {
      activity,
      actor: input.invitedBy,
      correlationId: input.correlationId,
      result: 'failure',
      resultReason: reason,
      targets: [userTarget(user)],
    });
  }

  async #pending(tenantId: string, invitationId: string): Promise<Invitation> {
    const invitation = await this.get(tenantId, invitationId);
    if (!invitation) throw new InvitationError('invitation_not_found', `invitation '${invitationId}' does not exist`);
    if (invitation.status === 'Completed') throw new InvitationError('already_redeemed', 'the invitation has already been redeemed');
    if (invitation.status === 'Revoked') throw new InvitationError('invitation_revoked', 'the invitation has been revoked');
    return invitation;
  }

  /** Ends the live ticket; losing that race to a redemption means the invitation was just redeemed. */
  async #killTicket(invitation: Invitation): Promise<void> {
    if ((await this.#endTicket(invitation.ticketId, 'revoked')) === 'used') {
      throw new InvitationError('already_redeemed', 'the invitation has already been redeemed');
    }
  }

  /**
   * Ends a ticket, atomically: undefined when this call ended it, otherwise how it had ended
   * (`unknown` when its record is gone).
   */
  async #endTicket(ticketId: string, reason: 'used' | 'revoked'): Promise<TicketProblem | undefined> {
    const by = randomUUID();
    const at = this.#deps.clock.now();
    try {
      const after = await this.#deps.store.update<TicketRecord>(TICKETS, ticketId, (ticket) => (ticket.ended ? ticket : { ...ticket, ended: { reason, by, at } }));
      return after.ended?.by === by ? undefined : (after.ended?.reason ?? 'unknown');
    } catch (error) {
      if (error instanceof NotFoundError) return 'unknown';
      throw error;
    }
  }

  async #saveTicket(tenant: TenantConfig, invitation: Invitation, now: number): Promise<void> {
    const expiresAt = Date.parse(invitation.ticketExpiresDateTime);
    const record: TicketRecord = { tenantId: tenant.id, invitationId: invitation.id, expiresAt };
    await this.#deps.store.create(TICKETS, invitation.ticketId, record, {
      ttlSeconds: Math.ceil((expiresAt - now) / 1000) + TICKET_MEMORY_DAYS * 24 * 3600,
    });
  }

  async #findTicket(
    tenantId: string,
    token: string,
  ): Promise<{ ok: true; record: { id: string; value: TicketRecord }; invitation: Invitation } | { ok: false; reason: 'unknown' }> {
    if (!TICKET_SHAPE.test(token)) return { ok: false, reason: 'unknown' };
    const record = await this.#deps.store.get<TicketRecord>(TICKETS, ticketIdOf(token));
    // A ticket of another tenant is unknown here: tenants never see each other's invitations.
    if (!record || record.value.tenantId !== tenantId) return { ok: false, reason: 'unknown' };
    const invitation = await this.get(tenantId, record.value.invitationId);
    if (!invitation) return { ok: false, reason: 'unknown' };
    return { ok: true, record, invitation };
  }

  async #markRevoked(invitationId: string): Promise<Invitation> {
    const revokedDateTime = new Date(this.#deps.clock.now()).toISOString();
    return this.#deps.store.update<Invitation>(INVITATIONS, invitationId, (current) =>
      current.status === 'Completed' ? current : { ...current, status: 'Revoked', revokedDateTime },
    );
  }

  async #afterSending(invitationId: string, sent: boolean): Promise<Invitation> {
    const at = new Date(this.#deps.clock.now()).toISOString();
    return this.#deps.store.update<Invitation>(INVITATIONS, invitationId, (current) =>
      current.status === 'PendingAcceptance' || current.status === 'Error'
        ? { ...current, status: sent ? 'PendingAcceptance' : 'Error', ...(sent ? { lastSentDateTime: at } : {}) }
        : current,
    );
  }

  /** Mails the invitation to the guest and each cc; false when any of them could not be sent. */
  async #send(tenant: TenantConfig, invitation: Invitation, user: User, inviteRedeemUrl: string): Promise<boolean> {
    const mail = composeInvitationMail({
      organisation: tenant.displayName,
      ...(tenant.branding?.primaryColor ? { primaryColor: tenant.branding.primaryColor } : {}),
      inviter: invitation.invitedBy.displayName,
      guestName: invitation.invitedUserDisplayName ?? user.displayName,
      redeemUrl: inviteRedeemUrl,
      expiresInDays: tenant.invitations.ticketDays,
      ...(invitation.messageInfo.customizedMessageBody ? { message: invitation.messageInfo.customizedMessageBody } : {}),
      ...(invitation.messageInfo.messageLanguage ? { language: invitation.messageInfo.messageLanguage } : {}),
      overrides: tenant.invitations.templates,
    });
    const message = { subject: mail.subject, text: mail.text, ...(mail.html === undefined ? {} : { html: mail.html }) };
    let sent = true;
    for (const to of [invitation.invitedUserEmailAddress, ...invitation.messageInfo.ccRecipients]) {
      try {
        await this.#deps.mailer.send({ ...message, to });
      } catch (error) {
        sent = false;
        // The mailer logged the transport's reason; this line ties it to the invitation.
        this.#deps.logger.warn({ tenant: tenant.id, invitationId: invitation.id, reason: errorMessage(error) }, 'invitation mail not sent');
      }
    }
    return sent;
  }
}

const REFUSALS: Record<TicketProblem | 'other-user' | 'blocked_by_policy', string> = {
  expired: 'The invitation link has expired.',
  revoked: 'The invitation link was revoked or replaced by a newer one.',
  used: 'The invitation link has already been used.',
  unknown: 'The invitation link is not valid.',
  'other-user': 'The invitation was issued to another user.',
  blocked_by_policy: "The organisation's collaboration settings no longer allow this guest in.",
};

const domainOf = (email: string): string => email.slice(email.lastIndexOf('@') + 1).toLowerCase();

/** The audit log and the invitation service on a store: the server and the CLI build them alike. */
export function directoryServices(
  config: PorticoConfig,
  deps: {
    readonly store: DocumentStore;
    readonly clock: Clock;
    readonly users: UserDirectory;
    readonly mailer: Mailer;
    readonly logger: Logger;
    /** The policy in force; the config's own when not given (the CLI). */
    readonly policies?: PolicySource;
    readonly endSessions?: (tenantId: string, userId: string) => Promise<void>;
  },
): { audit: AuditLog; invitations: InvitationService } {
  const tenants = new Map(config.tenants.map((tenant) => [tenant.id, tenant]));
  const audit = new AuditLog({
    store: deps.store,
    clock: deps.clock,
    retentionDays: (tenantId) => tenants.get(tenantId)?.audit.retentionDays ?? config.broker.audit.retentionDays,
  });
  const invitations = new InvitationService({
    ...deps,
    audit,
    publicUrl: config.broker.publicUrl,
    tenant: (tenantId) => tenants.get(tenantId),
    policies: deps.policies ?? staticPolicySource(config.tenants),
  });
  return { audit, invitations };
}
