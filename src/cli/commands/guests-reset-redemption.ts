/**
 * `portico guests reset-redemption`: the guest keeps its object id (and so its groups and app
 * assignments) but must redeem again, with a new identity and possibly at a new address; its
 * identity links are cleared and its pending invitations revoked. A new invitation is issued.
 */
import { parseArgs } from 'node:util';
import { LANGUAGE_TAG } from '../../config/invitations.ts';
import { InvitationError } from '../../directory/invitations.ts';
import { guestUserPrincipalName } from '../../directory/users.ts';
import { normaliseEmail } from '../../shared/email.ts';
import { newRequestId } from '../../shared/ids.ts';
import { openCliContext, openCliDirectory, requireTenant } from '../context.ts';
import { UsageError, type CliIo } from '../types.ts';
import { cliActor, redirectUrlProblem } from './invite.ts';

export async function run(args: string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      tenant: { type: 'string' },
      user: { type: 'string' },
      email: { type: 'string' },
      'redirect-url': { type: 'string' },
      send: { type: 'boolean' },
      lang: { type: 'string' },
      inviter: { type: 'string' },
      config: { type: 'string' },
    },
  });
  if (!values.user) throw new UsageError('--user is required (object id, user principal name or invited address)');
  const newEmail = values.email === undefined ? undefined : normaliseEmail(values.email);
  if (values.email !== undefined && !newEmail) throw new UsageError(`'${values.email}' is not an email address`);
  const redirectProblem = values['redirect-url'] === undefined ? undefined : redirectUrlProblem(values['redirect-url']);
  if (redirectProblem) throw new UsageError(`--redirect-url ${redirectProblem}`);
  if (values.lang !== undefined && !LANGUAGE_TAG.test(values.lang)) throw new UsageError(`--lang '${values.lang}' is not a language tag (like en or de-CH)`);

  const context = await openCliContext(io, values.config);
  const { users, invitations, mailer } = openCliDirectory(context);
  try {
    const tenantId = requireTenant(context.config, values.tenant);
    const tenant = context.config.tenants.find((t) => t.id === tenantId)!;
    // By object id, user principal name, or the address the guest was invited at.
    const user = values.user.includes('@')
      ? ((await users.findByUserPrincipalName(tenantId, values.user)) ??
        (normaliseEmail(values.user) ? await users.findByUserPrincipalName(tenantId, guestUserPrincipalName(normaliseEmail(values.user)!, tenant.domains[0]!)) : undefined))
      : await users.get(tenantId, values.user);
    if (!user) {
      io.stderr.write(`no user '${values.user}' in ${tenantId}\n`);
      return 1;
    }
    const email = newEmail ?? user.mail;
    if (!email) throw new UsageError(`${user.userPrincipalName} has no mail: give --email`);
    // Without --redirect-url the new invitation sends the guest where the last one did.
    const redirectUrl = values['redirect-url'] ?? (await invitations.listForUser(tenantId, user.id))[0]?.inviteRedirectUrl;
    if (!redirectUrl) throw new UsageError(`${user.userPrincipalName} has no earlier invitation to take the redirect URL from: give --redirect-url`);
    try {
      const issued = await invitations.invite({
        tenantId,
        email,
        inviteRedirectUrl: redirectUrl,
        sendInvitationMessage: values.send ?? false,
        messageInfo: { ...(values.lang === undefined ? {} : { messageLanguage: values.lang }), ccRecipients: [] },
        resetRedemptionOf: user.id,
        invitedBy: cliActor(values.inviter ?? tenant.displayName),
        correlationId: newRequestId(),
      });
      io.stdout.write(
        `reset the redemption of ${issued.user.userPrincipalName} (user ${issued.user.id}, same object): identities cleared, pending acceptance\n` +
          (issued.user.mail === user.mail ? '' : `address changed: ${user.mail ?? '-'} -> ${issued.user.mail}\n`) +
          `new invitation ${issued.invitation.id}${values.send ? (issued.invitation.status === 'Error' ? ', mail NOT sent (resend it later)' : ', mail sent') : ''}\n` +
          `redeem URL (works once, expires in ${tenant.invitations.ticketDays} days): ${issued.inviteRedeemUrl}\n`,
      );
      return issued.invitation.status === 'Error' ? 1 : 0;
    } catch (error) {
      if (!(error instanceof InvitationError)) throw error;
      io.stderr.write(`${error.message}\n`);
      return 1;
    }
  } finally {
    await mailer.close();
    await context.close();
  }
}
