/*
 * Portico's passkey ceremony (WebAuthn), for the forms marked data-passkey="register" or
 * "authenticate". The options come from the form's data-passkey-options (JSON from the server);
 * the credential goes back as JSON with base64url fields in the hidden "credential" field, and the
 * form is submitted. Plain script, no framework, served from Portico's own origin.
 */
/* global atob, btoa, window, navigator, document */
(function () {
  'use strict';

  function fromBase64url(text) {
    var base64 = text.replace(/-/g, '+').replace(/_/g, '/');
    var binary = atob(base64 + '==='.slice((base64.length + 3) % 4));
    var bytes = new Uint8Array(binary.length);
    for (var i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
    return bytes.buffer;
  }

  function toBase64url(buffer) {
    var bytes = new Uint8Array(buffer);
    var binary = '';
    for (var i = 0; i < bytes.length; i++) binary += String.fromCharCode(bytes[i]);
    return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  }

  function descriptors(list) {
    return (list || []).map(function (d) {
      return { type: d.type || 'public-key', id: fromBase64url(d.id), transports: d.transports };
    });
  }

  function creationOptions(o) {
    return Object.assign({}, o, {
      challenge: fromBase64url(o.challenge),
      user: Object.assign({}, o.user, { id: fromBase64url(o.user.id) }),
      excludeCredentials: descriptors(o.excludeCredentials),
    });
  }

  function requestOptions(o) {
    return Object.assign({}, o, { challenge: fromBase64url(o.challenge), allowCredentials: descriptors(o.allowCredentials) });
  }

  function credentialJson(credential, ceremony) {
    var r = credential.response;
    var response =
      ceremony === 'register'
        ? {
            clientDataJSON: toBase64url(r.clientDataJSON),
            attestationObject: toBase64url(r.attestationObject),
            transports: typeof r.getTransports === 'function' ? r.getTransports() : undefined,
          }
        : {
            clientDataJSON: toBase64url(r.clientDataJSON),
            authenticatorData: toBase64url(r.authenticatorData),
            signature: toBase64url(r.signature),
            userHandle: r.userHandle ? toBase64url(r.userHandle) : undefined,
          };
    return {
      id: credential.id,
      rawId: toBase64url(credential.rawId),
      type: credential.type,
      response: response,
      authenticatorAttachment: credential.authenticatorAttachment || undefined,
      clientExtensionResults: credential.getClientExtensionResults(),
    };
  }

  var supported = typeof window.PublicKeyCredential === 'function' && !!navigator.credentials && window.isSecureContext;

  function start(form) {
    var ceremony = form.getAttribute('data-passkey');
    var button = form.querySelector('[data-passkey-start]');
    var unsupported = form.querySelector('[data-passkey-unsupported]');
    var cancelled = form.querySelector('[data-passkey-cancelled]');
    if (!supported || !button) return;
    if (unsupported) unsupported.hidden = true;
    button.hidden = false;
    form.addEventListener('submit', function (event) {
      event.preventDefault();
      if (cancelled) cancelled.hidden = true;
      button.disabled = true;
      var options = JSON.parse(form.getAttribute('data-passkey-options'));
      var ceremonyDone =
        ceremony === 'register'
          ? navigator.credentials.create({ publicKey: creationOptions(options) })
          : navigator.credentials.get({ publicKey: requestOptions(options) });
      ceremonyDone.then(
        function (credential) {
          if (!credential) throw new Error('no credential');
          form.elements.namedItem('credential').value = JSON.stringify(credentialJson(credential, ceremony));
          // submit() does not fire the submit event again.
          form.submit();
        }
      ).catch(function () {
        // Cancelled, timed out, or refused by the authenticator: the options still hold (the
        // challenge is spent only when something is posted), so the person can try again.
        if (cancelled) cancelled.hidden = false;
        button.disabled = false;
      });
    });
  }

  var forms = document.querySelectorAll('form[data-passkey]');
  for (var i = 0; i < forms.length; i++) start(forms[i]);
})();
