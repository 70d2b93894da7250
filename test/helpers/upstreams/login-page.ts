import { escapeHtml } from './http-server.ts';
import type { StandInAccount } from './accounts.ts';

/**
 * The stand-ins' sign-in page: labelled fields, no scripts. HTTP tests post the same fields
 * (`account` = an account id, or `email`) to the form's action; the driver in browser.ts finds
 * forms by their `data-stand-in` attribute.
 */
export function loginPage(options: {
  readonly title: string;
  readonly note?: string;
  readonly action: string;
  readonly abortAction?: string;
  readonly accounts: readonly StandInAccount[];
  readonly selected?: string;
  readonly hidden?: Readonly<Record<string, string>>;
}): string {
  const e = escapeHtml;
  const radios = options.accounts
    .map((account, index) => {
      const label = [account.name, account.email].filter((part) => part !== undefined).join(', ') || account.id;
      const checked = options.selected === account.id || (options.selected === undefined && index === 0) ? ' checked' : '';
      return `<div><input type="radio" id="account-${index}" name="account" value="${e(account.id)}"${checked}> <label for="account-${index}">${e(label)} <small>(${e(account.id)})</small></label></div>`;
    })
    .join('\n');
  const hidden = Object.entries(options.hidden ?? {})
    .map(([name, value]) => `<input type="hidden" name="${e(name)}" value="${e(value)}">`)
    .join('\n');
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>${e(options.title)}</title></head>
<body>
<h1>${e(options.title)}</h1>
<p>This is a test stand-in, not a real identity provider.${options.note ? ` ${e(options.note)}` : ''}</p>
<form method="post" action="${e(options.action)}" data-stand-in="login">
${hidden}
<fieldset><legend>Pick an account</legend>
${radios || '<p>No accounts yet: type an email below.</p>'}
</fieldset>
<p><label for="email">Or type an email</label> <input id="email" name="email" type="email" autocomplete="off"></p>
<button type="submit">Sign in</button>
</form>
${options.abortAction ? `<form method="post" action="${e(options.abortAction)}" data-stand-in="abort">${hidden}<button type="submit">Cancel</button></form>` : ''}
</body>
</html>`;
}
