/**
 * Every `portico` subcommand, by command path. To add one, add an entry here and a module
 * exporting `run(args, io)` under ./ (see ../types.ts).
 */
import type { CommandEntry } from '../types.ts';

export const commands: Record<string, CommandEntry> = {
  'config validate': {
    args: '[folder]',
    summary: 'check a config folder (default: $PORTICO_CONFIG or ./config) and report every problem',
    load: () => import('./config-validate.ts'),
  },
  'config reference': {
    args: '[--check] [--out <file>]',
    summary: 'regenerate config/REFERENCE.md from the schema (--check: fail if it is out of date)',
    load: () => import('./config-reference.ts'),
  },
  'keys rotate': {
    args: '--tenant <id> [--config <folder>]',
    summary: "rotate a tenant's signing keys: the published next key starts signing, the current one stays published until its tokens expire",
    load: () => import('./keys-rotate.ts'),
  },
  'keys list': {
    args: '--tenant <id> [--config <folder>]',
    summary: "list a tenant's signing keys with their state (next, current, previous)",
    load: () => import('./keys-list.ts'),
  },
  'mail outbox': {
    args: '[--last] [--to <address>] [--config <folder>]',
    summary: 'list the messages the outbox mail transport wrote (--last: print the newest one, e.g. to read a passcode)',
    load: () => import('./mail-outbox.ts'),
  },
  'guests add': {
    args: '--tenant <id> --email <address> [--name <display name>] [--config <folder>]',
    summary: 'add a guest to a tenant, pending acceptance: their first sign-in with that verified email links their identity',
    load: () => import('./guests-add.ts'),
  },
  'guests list': {
    args: '--tenant <id> [--json] [--config <folder>]',
    summary: "list a tenant's guests with their state and the identities they sign in with",
    load: () => import('./guests-list.ts'),
  },
  invite: {
    args: '--tenant <id> (--email <address> [--name <display name>] | --csv <file>) [--redirect-url <url>] [--send] [--lang <tag>] [--message <text>] [--inviter <name>] [--config <folder>]',
    summary:
      'invite guests as the API does: one address, or a CSV (email,displayName[,redirectUrl][,language]) with per-row results in <file>.results.csv',
    load: () => import('./invite.ts'),
  },
  'guests reset-redemption': {
    args: '--tenant <id> --user <id|upn|address> [--email <new address>] [--redirect-url <url>] [--send] [--lang <tag>] [--config <folder>]',
    summary: 'make a guest redeem again (same object id; identities cleared; optionally a new address) and issue a new invitation',
    load: () => import('./guests-reset-redemption.ts'),
  },
  'policy explain': {
    args: '--tenant <id> --user <address|object id> [--app <id>] [--idp <connector id>] [--mfa] [--device compliant|hybridJoined] [--json] [--config <folder>]',
    summary: 'explain what the collaboration policy decides for a user (invitation, redemption, sign-in to --app) and why, rule by rule',
    load: () => import('./policy-explain.ts'),
  },
  'demo-app': {
    args: '[--tenant <id>] [--app <id>] [--config <folder>]',
    summary: 'run a demo app that signs people in with Portico (default: contoso-web on http://localhost:8080)',
    load: () => import('./demo-app.ts'),
  },
};
