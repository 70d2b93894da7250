/**
 * Shared by policy-enforcement.test.ts and mfa-sign-in.test.ts: live edits of a running Portico's
 * tenant file, guests signing in with a mailed passcode, and the sign-in log read back through the
 * management API as a script would.
 */
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseDocument, type Document } from 'yaml';
import type { SignIn } from '../../src/directory/sign-in-log.ts';
import { guestUserPrincipalName, type User } from '../../src/directory/users.ts';
import type { TestPortico } from '../helpers/portico.ts';
import { relyingParty } from '../helpers/relying-party.ts';
import { passcodeIn, SignInSession } from '../helpers/sign-in.ts';
import type { SmtpSink } from '../helpers/smtp.ts';
import { appToken } from './graph-harness.ts';

export interface WebApp {
  readonly id: string;
  readonly secret: string;
  readonly redirectUri: string;
}

export const smtpYaml = (smtp: SmtpSink): string =>
  `mail:\n  transport: smtp\n  from: Contoso <no-reply@contoso.example>\n  smtp:\n    host: 127.0.0.1\n    port: ${smtp.port}\n    secure: false\n`;

/** Edits the running tenant file as a YAML document and applies it as the file watcher would. */
export async function editTenant(portico: TestPortico, edit: (doc: Document) => void, tenant = 'contoso'): Promise<void> {
  const file = join(portico.configDir, 'tenants', `${tenant}.yaml`);
  const doc = parseDocument(await readFile(file, 'utf8'));
  edit(doc);
  await writeFile(file, String(doc));
  const before = portico.portico.liveConfig.status().hash;
  await portico.portico.liveConfig.reload('test edit');
  const status = portico.portico.liveConfig.status();
  assert.equal(status.lastReloadError, undefined, `the edit was refused: ${JSON.stringify(status.lastReloadError)}`);
  assert.notEqual(status.hash, before, 'the edit changed the config in force');
}

/** A guest invited earlier (as the invitations API leaves them), or one who already accepted. */
export function guest(portico: TestPortico, email: string, state: 'PendingAcceptance' | 'Accepted' = 'Accepted'): Promise<User> {
  return portico.portico.users.create({
    tenantId: 'contoso',
    userType: 'Guest',
    userPrincipalName: guestUserPrincipalName(email, 'contoso.example'),
    displayName: email.slice(0, email.indexOf('@')),
    mail: email,
    creationType: 'Invitation',
    externalUserState: state,
  });
}

export async function session(portico: TestPortico, app: WebApp): Promise<SignInSession> {
  return new SignInSession(await relyingParty(portico.issuer, app.id, app.secret), app.redirectUri);
}

/** Starts at the app with the guest's address and enters the mailed passcode. */
export async function passcodeSignIn(portico: TestPortico, smtp: SmtpSink, app: WebApp, email: string, extra: Record<string, string> = {}) {
  const s = await session(portico, app);
  await s.start({ login_hint: email, ...extra });
  assert.match(s.page, /Enter your code/, `${email} is sent a passcode`);
  const mail = await smtp.nextMessageTo(email);
  const response = await s.submit('code', { code: passcodeIn(mail.parsed.text ?? '') });
  return { session: s, response };
}

/** Sign-in log entries matching a `$filter`, newest first, read with a daemon holding AuditLog.Read.All. */
export async function signIns(portico: TestPortico, filter: string, daemon: { id: string; secret: string }): Promise<SignIn[]> {
  const token = await appToken(portico, daemon);
  const response = await fetch(`http://127.0.0.1:${portico.port}/graph/v1.0/auditLogs/signIns?$filter=${encodeURIComponent(filter)}`, {
    headers: { authorization: `Bearer ${token}` },
  });
  assert.equal(response.status, 200);
  return ((await response.json()) as { value: SignIn[] }).value;
}

export const signInsOf = (portico: TestPortico, userId: string, daemon: { id: string; secret: string }): Promise<SignIn[]> =>
  signIns(portico, `userId eq '${userId}'`, daemon);
