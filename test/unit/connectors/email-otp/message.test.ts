import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { passcodeMessage } from '../../../../src/connectors/email-otp/message.ts';

describe('passcodeMessage', () => {
  it('names the tenant, the code and its lifetime, and says to ignore it when unexpected', () => {
    const message = passcodeMessage({ tenantDisplayName: 'Contoso', code: '01234567', lifetimeMinutes: 1 });
    assert.equal(message.subject, 'Your Contoso verification code');
    assert.match(message.text, /^ {4}01234567$/m);
    assert.match(message.text, /expires in 1 minute and works only once/);
    assert.match(message.text, /If you did not try to sign in to Contoso, ignore this email/);
    assert.match(message.html, /<p[^>]*>01234567<\/p>/);
    assert.doesNotMatch(message.text + message.html, /https?:|<a[\s>]/);
  });

  it('escapes the tenant name in HTML and keeps it to one clean line in the subject', () => {
    const message = passcodeMessage({ tenantDisplayName: 'Fabrikam <b>&</b> "Co"\r\nBcc: eve@evil.example', code: '12345678', lifetimeMinutes: 10 });
    assert.equal(message.subject, 'Your Fabrikam <b>&</b> "Co" Bcc: eve@evil.example verification code');
    assert.ok(message.html.includes('Fabrikam &lt;b&gt;&amp;&lt;/b&gt; &quot;Co&quot; Bcc'));
    assert.ok(!message.html.includes('<b>&</b>'));
    assert.match(message.text, /expires in 10 minutes/);
  });
});
