/** External collaboration settings: who may invite, and which email domains may be guests. */
import type { ExternalCollaboration, InviterLevel } from '../config/policy.ts';
import type { Inviter, TraceEntry } from './types.ts';

const layer = 'externalCollaboration';

const ADMITTED: Record<InviterLevel, readonly Inviter['kind'][]> = {
  none: [],
  adminsAndGuestInviters: ['admin'],
  adminsGuestInvitersAndAllMembers: ['admin', 'member'],
  everyone: ['admin', 'member', 'guest'],
};

export function inviterEntry(settings: ExternalCollaboration, inviter: Inviter): TraceEntry {
  const level = settings.allowInvitesFrom;
  const rule = `externalCollaboration.allowInvitesFrom (${level})`;
  const guestInviter = level !== 'none' && settings.guestInviters.includes(inviter.id);
  const allowed = guestInviter || ADMITTED[level].includes(inviter.kind);
  const who = guestInviter ? `guest inviter '${inviter.id}'` : `${inviter.kind} '${inviter.id}'`;
  return { layer, rule, matched: true, effect: allowed ? 'allow' : 'deny', detail: allowed ? `${who} may invite` : `${who} may not invite guests` };
}

/** `*.adatum.com` covers the subdomains of adatum.com, not adatum.com itself. */
export function domainMatches(pattern: string, domain: string): boolean {
  return pattern.startsWith('*.') ? domain.endsWith(pattern.slice(1)) : domain === pattern;
}

export function domainEntry(settings: ExternalCollaboration, domain: string): TraceEntry {
  if (settings.allowedDomains) {
    const hit = settings.allowedDomains.find((pattern) => domainMatches(pattern, domain));
    return hit
      ? { layer, rule: 'externalCollaboration.allowedDomains', matched: true, effect: 'allow', detail: `'${domain}' is allowed (${hit})` }
      : { layer, rule: 'externalCollaboration.allowedDomains', matched: true, effect: 'deny', detail: `'${domain}' is not on the allow-list` };
  }
  if (settings.blockedDomains) {
    const hit = settings.blockedDomains.find((pattern) => domainMatches(pattern, domain));
    return hit
      ? { layer, rule: 'externalCollaboration.blockedDomains', matched: true, effect: 'deny', detail: `'${domain}' is blocked (${hit})` }
      : { layer, rule: 'externalCollaboration.blockedDomains', matched: false, effect: 'allow', detail: `'${domain}' is not blocked` };
  }
  return { layer, rule: 'externalCollaboration', matched: false, effect: 'allow', detail: 'no domain list: every domain may be invited' };
}
