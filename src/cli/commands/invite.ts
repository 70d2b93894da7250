/**
 * `portico invite`: one guest (`--email`) or many from a CSV file (`--csv`), through the same
 * invitation service, store and mail as the server's API. A CSV gets a per-row result on stdout
 * and in `<file>.results.csv`, and progress on stderr (a bar on a terminal, lines otherwise).
 */
import { chmod, readFile, writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import type { TenantConfig } from '../../config/types.ts';
import type { Actor } from '../../directory/audit.ts';
import { InvitationError, type InvitationService } from '../../directory/invitations.ts';
import { normaliseEmail } from '../../shared/email.ts';
import { errorMessage } from '../../shared/errors.ts';
import { newRequestId } from '../../shared/ids.ts';
import { LANGUAGE_TAG } from '../../config/invitations.ts';
import { isLoopbackHost } from '../../config/primitives.ts';
import { openCliContext, openCliDirectory, requireTenant } from '../context.ts';
import { UsageError, type CliIo } from '../types.ts';

export const CSV_MAX_ROWS = 10_000;

/** The actor the CLI's audit entries name; the mail names `inviter` (default: the organisation). */
export const cliActor = (inviter: string): Actor => ({ kind: 'app', appId: 'portico-cli', displayName: inviter });

export function redirectUrlProblem(value: string): string | undefined {
  if (!URL.canParse(value)) return 'must be an absolute URL';
  const url = new URL(value);
  if (url.protocol === 'https:' || (url.protocol === 'http:' && isLoopbackHost(url.hostname))) return undefined;
  return 'must use https (http only for localhost, 127.0.0.1 and [::1])';
}

export async function run(args: string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      tenant: { type: 'string' },
      email: { type: 'string' },
      csv: { type: 'string' },
      'redirect-url': { type: 'string' },
      name: { type: 'string' },
      send: { type: 'boolean' },
      lang: { type: 'string' },
      message: { type: 'string' },
      inviter: { type: 'string' },
      config: { type: 'string' },
    },
  });
  if ((values.email === undefined) === (values.csv === undefined)) throw new UsageError('give either --email or --csv');
  if (values.csv !== undefined && values.name !== undefined) throw new UsageError('--name is for --email; a CSV has a displayName column');
  const redirectUrl = values['redirect-url'];
  if (redirectUrl !== undefined && redirectUrlProblem(redirectUrl)) throw new UsageError(`--redirect-url ${redirectUrlProblem(redirectUrl)}`);
  if (values.email !== undefined && redirectUrl === undefined) throw new UsageError('--redirect-url is required');
  if (values.lang !== undefined && !LANGUAGE_TAG.test(values.lang)) throw new UsageError(`--lang '${values.lang}' is not a language tag (like en or de-CH)`);
  const rows = values.csv === undefined ? undefined : await readCsvRows(values.csv, redirectUrl);

  const context = await openCliContext(io, values.config);
  const { invitations, mailer } = openCliDirectory(context);
  try {
    const tenantId = requireTenant(context.config, values.tenant);
    const tenant = context.config.tenants.find((t) => t.id === tenantId)!;
    const inviter = cliActor(values.inviter ?? tenant.displayName);
    const common = { send: values.send ?? false, ...(values.lang === undefined ? {} : { language: values.lang }), ...(values.message === undefined ? {} : { message: values.message }) };
    if (rows === undefined) {
      const result = await inviteOne(invitations, tenant, inviter, { email: values.email!, displayName: values.name ?? '', redirectUrl: redirectUrl!, ...common });
      if (!result.ok) {
        io.stderr.write(`${values.email}: ${result.error}\n`);
        return 1;
      }
      io.stdout.write(
        `invited ${result.email} as ${result.upn} (user ${result.userId}, invitation ${result.invitationId}): ${describeStatus(result.status, common.send)}\n` +
          `redeem URL (works once, expires in ${tenant.invitations.ticketDays} days): ${result.redeemUrl}\n`,
      );
      return result.status === 'Error' ? 1 : 0;
    }
    return await inviteCsv(io, invitations, tenant, inviter, values.csv!, rows, common);
  } finally {
    await mailer.close();
    await context.close();
  }
}

const describeStatus = (status: string, sent: boolean): string =>
  status === 'Error' ? 'invitation mail NOT sent (resend it later)' : sent ? 'invitation mail sent' : 'pending acceptance (no mail sent)';

interface RowInput {
  readonly email: string;
  readonly displayName: string;
  readonly redirectUrl: string;
  readonly send: boolean;
  readonly language?: string;
  readonly message?: string;
}

type RowResult =
  | { ok: true; email: string; upn: string; userId: string; invitationId: string; status: string; redeemUrl: string }
  | { ok: false; error: string };

async function inviteOne(invitations: InvitationService, tenant: TenantConfig, inviter: Actor, row: RowInput): Promise<RowResult> {
  const email = normaliseEmail(row.email);
  if (!email) return { ok: false, error: 'not an email address' };
  const problem = redirectUrlProblem(row.redirectUrl);
  if (problem) return { ok: false, error: `redirect URL ${problem}` };
  try {
    const issued = await invitations.invite({
      tenantId: tenant.id,
      email,
      inviteRedirectUrl: row.redirectUrl,
      ...(row.displayName.trim() === '' ? {} : { displayName: row.displayName.trim() }),
      sendInvitationMessage: row.send,
      messageInfo: { ...(row.language ? { messageLanguage: row.language } : {}), ...(row.message ? { customizedMessageBody: row.message } : {}), ccRecipients: [] },
      invitedBy: inviter,
      correlationId: newRequestId(),
    });
    return {
      ok: true,
      email,
      upn: issued.user.userPrincipalName,
      userId: issued.user.id,
      invitationId: issued.invitation.id,
      status: issued.invitation.status,
      redeemUrl: issued.inviteRedeemUrl,
    };
  } catch (error) {
    if (error instanceof InvitationError) return { ok: false, error: error.message };
    throw error;
  }
}

// ---------------------------------------------------------------------------------------------
// CSV

interface CsvRow {
  readonly line: number;
  readonly email: string;
  readonly displayName: string;
  readonly redirectUrl: string | undefined;
  readonly language: string | undefined;
  /** Set when the row itself is malformed; the rest of the file still runs. */
  readonly problem?: string;
}

const COLUMNS = ['email', 'displayName', 'redirectUrl', 'language'] as const;

async function readCsvRows(file: string, defaultRedirectUrl: string | undefined): Promise<CsvRow[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new UsageError(`cannot read ${file}: ${errorMessage(error)}`);
  }
  const records = parseCsv(text.replace(/^\uFEFF/, ''));
  const header = records.shift();
  if (!header) throw new UsageError(`${file} is empty: it needs a header line (email,displayName[,redirectUrl][,language])`);
  const names = header.cells.map((cell) => cell.trim());
  const unknown = names.filter((name) => !(COLUMNS as readonly string[]).includes(name));
  if (unknown.length > 0 || !names.includes('email') || !names.includes('displayName')) {
    throw new UsageError(`${file}: the header must name the columns email,displayName[,redirectUrl][,language] (got ${names.join(',')})`);
  }
  if (!names.includes('redirectUrl') && defaultRedirectUrl === undefined) throw new UsageError('--redirect-url is required when the CSV has no redirectUrl column');
  const rows = records.filter((record) => record.cells.some((cell) => cell.trim() !== ''));
  if (rows.length === 0) throw new UsageError(`${file} has no rows after its header`);
  if (rows.length > CSV_MAX_ROWS) throw new UsageError(`${file} has ${rows.length} rows; at most ${CSV_MAX_ROWS} per run`);
  return rows.map((record) => {
    const cell = (name: (typeof COLUMNS)[number]): string | undefined => {
      const index = names.indexOf(name);
      const value = index === -1 ? undefined : record.cells[index]?.trim();
      return value === '' ? undefined : value;
    };
    const language = cell('language');
    const problem =
      record.cells.length !== names.length
        ? `has ${record.cells.length} fields, the header ${names.length}`
        : language !== undefined && !LANGUAGE_TAG.test(language)
          ? `language '${language}' is not a language tag`
          : undefined;
    return {
      line: record.line,
      email: cell('email') ?? '',
      displayName: cell('displayName') ?? '',
      redirectUrl: cell('redirectUrl') ?? defaultRedirectUrl,
      language,
      ...(problem === undefined ? {} : { problem }),
    };
  });
}

/** RFC 4180: commas, double quotes (`""` inside quotes), CRLF or LF; each record with its first line. */
export function parseCsv(text: string): { line: number; cells: string[] }[] {
  const records: { line: number; cells: string[] }[] = [];
  let cells: string[] = [];
  let cell = '';
  let quoted = false;
  let line = 1;
  let recordLine = 1;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (c === '"') {
        quoted = false;
      } else {
        if (c === '\n') line++;
        cell += c;
      }
    } else if (c === '"' && cell === '') {
      quoted = true;
    } else if (c === ',') {
      cells.push(cell);
      cell = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      cells.push(cell);
      records.push({ line: recordLine, cells });
      cells = [];
      cell = '';
      line++;
      recordLine = line;
    } else {
      cell += c;
    }
  }
  if (cell !== '' || cells.length > 0) {
    cells.push(cell);
    records.push({ line: recordLine, cells });
  }
  return records;
}

/** A cell a spreadsheet will not run as a formula, quoted when it needs to be. */
export function csvCell(value: string): string {
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe;
}

async function inviteCsv(
  io: CliIo,
  invitations: InvitationService,
  tenant: TenantConfig,
  inviter: Actor,
  file: string,
  rows: readonly CsvRow[],
  common: { send: boolean; language?: string; message?: string },
): Promise<number> {
  const progress = progressReporter(io, rows.length);
  const results: string[][] = [['email', 'displayName', 'status', 'userId', 'invitationId', 'inviteRedeemUrl', 'error']];
  let invited = 0;
  let mailFailed = 0;
  let failed = 0;
  for (const [index, row] of rows.entries()) {
    const result: RowResult =
      row.problem !== undefined
        ? { ok: false, error: row.problem }
        : row.redirectUrl === undefined
          ? { ok: false, error: 'no redirectUrl (and no --redirect-url)' }
          : await inviteOne(invitations, tenant, inviter, {
              email: row.email,
              displayName: row.displayName,
              redirectUrl: row.redirectUrl,
              send: common.send,
              ...((row.language ?? common.language) ? { language: row.language ?? common.language } : {}),
              ...(common.message === undefined ? {} : { message: common.message }),
            });
    if (result.ok) {
      if (result.status === 'Error') mailFailed++;
      else invited++;
      io.stdout.write(`line ${row.line}: ${result.email}: ${describeStatus(result.status, common.send)} (user ${result.userId})\n`);
      results.push([result.email, row.displayName, result.status, result.userId, result.invitationId, result.redeemUrl, '']);
    } else {
      failed++;
      io.stdout.write(`line ${row.line}: ${row.email || '(no email)'}: FAILED: ${result.error}\n`);
      results.push([row.email, row.displayName, 'Failed', '', '', '', result.error]);
    }
    progress(index + 1);
  }
  const resultsFile = `${file}.results.csv`;
  // The file holds redemption links: readable by its owner only (also when an earlier run left one).
  await writeFile(resultsFile, `${results.map((cells) => cells.map(csvCell).join(',')).join('\r\n')}\r\n`, { mode: 0o600 });
  await chmod(resultsFile, 0o600);
  io.stdout.write(`${rows.length} row(s): ${invited} invited, ${mailFailed} invited but mail not sent, ${failed} failed; results in ${resultsFile}\n`);
  return failed > 0 || mailFailed > 0 ? 1 : 0;
}

/** A bar redrawn in place on a terminal; a line per tenth of the work otherwise (logs, CI). */
export function progressReporter(io: CliIo, total: number): (done: number) => void {
  const tty = (io.stderr as { isTTY?: boolean }).isTTY === true;
  let lastTenth = 0;
  return (done) => {
    if (tty) {
      const width = 30;
      const filled = Math.round((done / total) * width);
      io.stderr.write(`\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total}${done === total ? '\n' : ''}`);
      return;
    }
    const tenth = Math.floor((done * 10) / total);
    if (tenth > lastTenth || done === total) {
      lastTenth = tenth;
      io.stderr.write(`progress: ${done}/${total} (${Math.floor((done * 100) / total)}%)\n`);
    }
  };
}
