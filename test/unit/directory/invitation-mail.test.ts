/** The invitation mail the service sends: language, branding, escaping, admin templates. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { composeInvitationMail, pickTemplate, parseTemplate, renderTemplate, templateProblem } from '../../../src/mail/templates/index.ts';

const BASE = {
  organisation: 'Contoso',
  inviter: 'Contoso payroll sync',
  guestName: 'Alice',
  redeemUrl: 'https://id.example.com/contoso/v2.0/redeem?ticket=abc&x=1',
  expiresInDays: 30,
};

describe('invitation mail', () => {
  it('names the inviter and organisation, links the redeem URL, and uses the primary colour', () => {
    const mail = composeInvitationMail({ ...BASE, primaryColor: '#c2410c' });
    assert.equal(mail.language, 'en');
    assert.equal(mail.subject, 'Contoso payroll sync invited you to access applications within Contoso');
    assert.match(mail.text, /Hello Alice,\n\nContoso payroll sync invited you to access applications within Contoso\.\n\nAccept the invitation:\nhttps:\/\/id\.example\.com\/contoso\/v2\.0\/redeem\?ticket=abc&x=1\n/);
    assert.match(mail.text, /expires in 30 days/);
    assert.doesNotMatch(mail.text, /Message from/, 'no message section without a message');
    assert.ok(mail.html!.includes('href="https://id.example.com/contoso/v2.0/redeem?ticket=abc&amp;x=1"'), 'the URL is attribute-escaped');
    assert.ok(mail.html!.includes('#c2410c'));
    assert.ok(!mail.html!.includes('<blockquote'));
  });

  it('escapes the customised message in HTML and strips control and direction characters everywhere', () => {
    const mail = composeInvitationMail({ ...BASE, message: 'Hi <img src=x onerror=alert(1)>\r\nsee "you"\u202Eevil\u0007' });
    assert.ok(mail.html!.includes('Hi &lt;img src=x onerror=alert(1)&gt;\nsee &quot;you&quot;evil'));
    assert.ok(!mail.html!.includes('<img'));
    assert.match(mail.text, /Message from Contoso payroll sync:\nHi <img src=x onerror=alert\(1\)>\nsee "you"evil\n/);
    const hostile = composeInvitationMail({ ...BASE, inviter: 'Eve\r\nBcc: x@evil.example', primaryColor: 'red;background:url(x)' });
    assert.equal(hostile.subject, 'Eve Bcc: x@evil.example invited you to access applications within Contoso', 'one line');
    assert.ok(hostile.html!.includes('#0f6cbd') && !hostile.html!.includes('url(x)'), 'only a #rrggbb colour reaches the style');
  });

  it('picks the language by BCP 47 tag, falling back to the primary subtag, then English', () => {
    assert.equal(composeInvitationMail({ ...BASE, language: 'de-CH' }).language, 'de');
    assert.equal(composeInvitationMail({ ...BASE, language: 'de-CH' }).subject, 'Contoso payroll sync hat Sie zu Anwendungen von Contoso eingeladen');
    assert.equal(composeInvitationMail({ ...BASE, language: 'FR' }).language, 'fr');
    assert.equal(composeInvitationMail({ ...BASE, language: 'fr-CA' }).subject, 'Contoso payroll sync vous invite à accéder aux applications de Contoso');
    assert.equal(composeInvitationMail({ ...BASE, language: 'pt-BR' }).language, 'en');
    assert.equal(composeInvitationMail(BASE).language, 'en');
  });

  it('takes admin templates over the built-in ones, by exact tag first, text-only when they have no html', () => {
    const overrides = {
      nl: { subject: '{{inviter}} nodigt u uit bij {{organisation}}', text: 'Open {{redeemUrl}}{{#message}} — {{message}}{{/message}}' },
      'de-at': { subject: 'Servus von {{organisation}}', text: 'Link: {{redeemUrl}}', html: '<p>{{message}}</p>' },
    };
    const dutch = composeInvitationMail({ ...BASE, language: 'nl-BE', message: 'Tot <b>snel</b>', overrides });
    assert.equal(dutch.language, 'nl');
    assert.equal(dutch.subject, 'Contoso payroll sync nodigt u uit bij Contoso');
    assert.equal(dutch.text, `Open ${BASE.redeemUrl} — Tot <b>snel</b>`);
    assert.equal(dutch.html, undefined);
    const austrian = composeInvitationMail({ ...BASE, language: 'de-AT', message: '<b>', overrides });
    assert.equal(austrian.subject, 'Servus von Contoso');
    assert.equal(austrian.html, '<p>&lt;b&gt;</p>');
    assert.equal(pickTemplate('de-DE', overrides).language, 'de', 'other German variants keep the built-in German');
  });

  it('reads only known placeholders and balanced sections', () => {
    assert.equal(templateProblem('Hello {{ guestName }} from {{organisation}}'), undefined);
    assert.equal(templateProblem('{{#message}}x{{/message}}'), undefined);
    assert.equal(templateProblem('Hi {{name}}'), 'unknown placeholder {{name}} (known: inviter, organisation, redeemUrl, message, guestName, expiresInDays, primaryColor)');
    assert.equal(templateProblem('{{#message}}x'), '{{#message}} is never closed');
    assert.equal(templateProblem('{{#message}}x{{/inviter}}'), '{{/inviter}} closes {{#message}}');
    assert.equal(templateProblem('{{inviter}'), 'unbalanced {{ or }}');
    assert.equal(templateProblem('a }} b'), 'unbalanced {{ or }}');
    assert.equal(parseTemplate('plain').length, 1);
    const values = { inviter: 'I', organisation: 'O', redeemUrl: 'U', message: '', guestName: 'G', expiresInDays: '3', primaryColor: '#000000' };
    assert.equal(renderTemplate('{{#message}}[{{message}}]{{/message}}{{inviter}}', values), 'I');
  });
});
