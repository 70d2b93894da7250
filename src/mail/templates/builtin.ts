/**
 * Portico's own invitation mails, written in the template language admins use for overrides
 * (`invitations.templates.<lang>` in a tenant file), so there is one rendering path.
 * The HTML keeps to inline styles and a table-free layout that mail clients render alike.
 */
export interface InvitationTemplate {
  readonly subject: string;
  readonly text: string;
  readonly html?: string;
}

const html = (parts: {
  readonly lang: string;
  readonly heading: string;
  readonly intro: string;
  readonly button: string;
  readonly fallback: string;
  readonly expiry: string;
  readonly ignore: string;
}): string =>
  [
    '<!doctype html>',
    `<html lang="${parts.lang}"><body style="margin:0;padding:24px;background:#f5f5f5;font-family:Segoe UI,Helvetica,Arial,sans-serif;color:#242424">`,
    '<div style="max-width:560px;margin:0 auto;background:#ffffff;padding:32px;border-top:4px solid {{primaryColor}}">',
    `<h1 style="font-size:20px;margin:0 0 16px">${parts.heading}</h1>`,
    `<p>${parts.intro}</p>`,
    '{{#message}}<blockquote style="margin:16px 0;padding:8px 16px;border-left:3px solid {{primaryColor}};white-space:pre-wrap">{{message}}</blockquote>{{/message}}',
    `<p style="margin:24px 0"><a href="{{redeemUrl}}" style="background:{{primaryColor}};color:#ffffff;padding:10px 20px;text-decoration:none;border-radius:4px;display:inline-block">${parts.button}</a></p>`,
    `<p style="font-size:13px">${parts.fallback}<br><a href="{{redeemUrl}}" style="color:{{primaryColor}};word-break:break-all">{{redeemUrl}}</a></p>`,
    `<p style="font-size:13px">${parts.expiry}</p>`,
    `<p style="font-size:13px;color:#616161">${parts.ignore}</p>`,
    '</div></body></html>',
  ].join('\n');

export const BUILTIN_TEMPLATES: Readonly<Record<string, InvitationTemplate>> = {
  en: {
    subject: '{{inviter}} invited you to access applications within {{organisation}}',
    text: [
      'Hello {{guestName}},',
      '',
      '{{inviter}} invited you to access applications within {{organisation}}.',
      '{{#message}}',
      'Message from {{inviter}}:',
      '{{message}}',
      '{{/message}}',
      'Accept the invitation:',
      '{{redeemUrl}}',
      '',
      'The link works once and expires in {{expiresInDays}} days. If you were not expecting this invitation, ignore this email.',
      '',
    ].join('\n'),
    html: html({
      lang: 'en',
      heading: "You're invited to {{organisation}}",
      intro: 'Hello {{guestName}}, {{inviter}} invited you to access applications within {{organisation}}.',
      button: 'Accept invitation',
      fallback: 'Or open this link:',
      expiry: 'The link works once and expires in {{expiresInDays}} days.',
      ignore: 'If you were not expecting this invitation, ignore this email.',
    }),
  },
  de: {
    subject: '{{inviter}} hat Sie zu Anwendungen von {{organisation}} eingeladen',
    text: [
      'Hallo {{guestName}},',
      '',
      '{{inviter}} hat Sie eingeladen, auf Anwendungen von {{organisation}} zuzugreifen.',
      '{{#message}}',
      'Nachricht von {{inviter}}:',
      '{{message}}',
      '{{/message}}',
      'Einladung annehmen:',
      '{{redeemUrl}}',
      '',
      'Der Link funktioniert einmal und läuft in {{expiresInDays}} Tagen ab. Wenn Sie diese Einladung nicht erwartet haben, ignorieren Sie diese E-Mail.',
      '',
    ].join('\n'),
    html: html({
      lang: 'de',
      heading: 'Einladung zu {{organisation}}',
      intro: 'Hallo {{guestName}}, {{inviter}} hat Sie eingeladen, auf Anwendungen von {{organisation}} zuzugreifen.',
      button: 'Einladung annehmen',
      fallback: 'Oder öffnen Sie diesen Link:',
      expiry: 'Der Link funktioniert einmal und läuft in {{expiresInDays}} Tagen ab.',
      ignore: 'Wenn Sie diese Einladung nicht erwartet haben, ignorieren Sie diese E-Mail.',
    }),
  },
  fr: {
    subject: '{{inviter}} vous invite à accéder aux applications de {{organisation}}',
    text: [
      'Bonjour {{guestName}},',
      '',
      '{{inviter}} vous invite à accéder aux applications de {{organisation}}.',
      '{{#message}}',
      'Message de {{inviter}} :',
      '{{message}}',
      '{{/message}}',
      "Accepter l'invitation :",
      '{{redeemUrl}}',
      '',
      "Le lien ne fonctionne qu'une fois et expire dans {{expiresInDays}} jours. Si vous n'attendiez pas cette invitation, ignorez cet e-mail.",
      '',
    ].join('\n'),
    html: html({
      lang: 'fr',
      heading: 'Invitation à rejoindre {{organisation}}',
      intro: 'Bonjour {{guestName}}, {{inviter}} vous invite à accéder aux applications de {{organisation}}.',
      button: "Accepter l'invitation",
      fallback: 'Ou ouvrez ce lien :',
      expiry: "Le lien ne fonctionne qu'une fois et expire dans {{expiresInDays}} jours.",
      ignore: "Si vous n'attendiez pas cette invitation, ignorez cet e-mail.",
    }),
  },
};
