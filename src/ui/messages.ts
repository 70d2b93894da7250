/**
 * Every string a person reads on the sign-in pages, English first. Another language is another
 * object of the same type (TypeScript makes a missing key a compile error).
 */
export const en = {
  signInTitle: 'Sign in to {org}',
  signInIntro: 'Sign in with the account you use at your own organisation.',
  emailLabel: 'Email address',
  emailHelp: 'We use the domain of your address to find where you sign in.',
  emailInvalid: 'Enter an email address like name@example.com.',
  next: 'Next',
  chooseTitle: 'Choose how to sign in',
  chooseIntro: 'More than one way is available for {email}.',
  chooseIntroNoEmail: 'Choose how you want to sign in.',
  signInWith: 'Sign in with {idp}',
  continueTo: 'Continue to {idp}',
  codeTitle: 'Enter your code',
  codeIntro: 'We sent a code to {email}. It is valid for {minutes} minutes.',
  codeLabel: 'Code',
  codeHelp: 'The code has 8 digits.',
  verify: 'Sign in',
  resend: 'Send a new code',
  codeResent: 'We sent a new code.',
  invalid_code: 'That code is not right. Check the latest email and try again.',
  code_expired: 'That code has expired or was already used. Send a new code.',
  too_many_attempts: 'Too many wrong codes. Send a new code.',
  throttled: 'Too many attempts. Wait {seconds} seconds and try again.',
  throttledNoDelay: 'Too many attempts. Wait a while and try again.',
  tryAnotherWay: 'Try another way',
  notInvitedTitle: 'You have not been invited',
  notInvitedBody: '{email} has not been invited to {org}. Ask your contact at {org} to invite you, then sign in again.',
  notInvitedBodyNoEmail: 'This account has not been invited to {org}. Ask your contact at {org} to invite you.',
  otherIdentityTitle: 'Sign in with your usual account',
  otherIdentityBody: 'You already sign in to {org} with another account. Use that account, or ask {org} to reset your invitation.',
  noVerifiedEmailTitle: 'Your email could not be verified',
  noVerifiedEmailBody: 'The account you used did not confirm an email address, which {org} needs to sign you up. Try another way to sign in.',
  disabledTitle: 'Your access is turned off',
  disabledBody: 'Your account in {org} has been disabled. Contact {org} if you think this is a mistake.',
  upstreamErrorTitle: 'We could not sign you in',
  upstream_denied: 'The sign-in was cancelled or refused at {idp}.',
  upstream_unavailable: '{idp} did not answer in time.',
  invalid_response: 'The answer from {idp} could not be trusted, so we did not use it.',
  incomplete_identity: '{idp} did not tell us enough about you to sign you in.',
  expiredTitle: 'This sign-in has expired',
  expiredBody: 'It took too long, or this browser does not keep cookies for {org}. Go back to the app and start again.',
  errorTitle: 'Something went wrong',
  errorBody: 'Try again in a moment. If it keeps happening, contact the administrator and quote the correlation id.',
  noMethodsTitle: 'No way to sign in',
  noMethodsBody: 'No sign-in method is configured for {org} that can sign you in.',
  noMethodsConfigured: 'No sign-in method is configured for {org} yet, so nobody can sign in here. If you are the administrator, add an identity provider or turn on email passcodes in the tenant file.',
  correlationId: 'Correlation id',
  consentTitle: '{org} invites you',
  consentIntro: '{org} has invited you to use its apps as a guest.',
  consentInvitedBy: '{inviter} at {org} has invited you to use its apps as a guest.',
  consentData: 'If you accept, {org} can see your name and email address, and you will sign in to its apps with the account you just used.',
  privacyStatement: "{org}'s privacy statement",
  termsOfUse: "{org}'s terms of use",
  accept: 'Accept',
  decline: 'Decline',
  declinedTitle: 'You declined the invitation',
  declinedBody: 'You have not joined {org}. The invitation stays open: use the link in the invitation email if you change your mind.',
  ticketProblemTitle: 'This invitation link cannot be used',
  ticket_expired: 'The invitation link has expired. Ask your contact at {org} to send a new invitation.',
  ticket_revoked: 'The invitation was withdrawn. Ask your contact at {org} if you think this is a mistake.',
  ticket_used: 'The invitation link was already used. Sign in to the app directly with the account you used then.',
  ticket_unknown: 'The invitation link is not valid. Check that you opened the whole link from the invitation email.',
  wrongIdentityTitle: 'This is not the invited account',
  wrongIdentityBody: 'The invitation was sent to {invited}. Sign in with that address (verified by your identity provider) to accept it.',
  identityTakenBody: 'The account you used already belongs to another guest. Sign in with {invited} to accept this invitation.',
} as const;

export type MessageKey = keyof typeof en;
export type Messages = Record<MessageKey, string>;

/** Fills `{name}` placeholders; the result is plain text (pages escape it). */
export function format(template: string, values: Record<string, string | number> = {}): string {
  return template.replace(/\{(\w+)\}/g, (whole, name: string) => (name in values ? String(values[name]) : whole));
}

export const messagesFor = (_locale?: string): Messages => en;
