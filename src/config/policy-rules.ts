/**
 * Cross-key rules of the collaboration-policy keys: what a policy names (partners, apps,
 * conditional-access ids, partner entries) must exist and be named once, so that a typo never
 * turns into a rule that silently matches nobody. Like rules.ts they read the raw data and skip
 * what has the wrong shape, which zod reports.
 */
import type { Issue } from './messages.ts';
import { isRecord, type PathSegment } from './schema-walk.ts';
import { ALL_APPLICATIONS } from './policy.ts';

const listOf = (value: unknown): unknown[] => (Array.isArray(value) ? value : []);
const idsOf = (value: unknown): string[] =>
  listOf(value).flatMap((entry) => (isRecord(entry) && typeof entry['id'] === 'string' ? [entry['id']] : []));
const known = (what: string, ids: readonly string[]) => (ids.length > 0 ? `known: ${ids.join(', ')}` : `this tenant defines no ${what}`);

export function policyRules(raw: Record<string, unknown>, issues: Issue[]): void {
  const add = (path: PathSegment[], message: string) => issues.push({ path, message });
  const partnerIds = idsOf(raw['partners']);
  const appIds = idsOf(raw['apps']);

  const crossTenant = raw['crossTenantAccess'];
  if (isRecord(crossTenant)) {
    const seen = new Map<string, number>();
    listOf(crossTenant['partners']).forEach((entry, index) => {
      if (!isRecord(entry)) return;
      const at: PathSegment[] = ['crossTenantAccess', 'partners', index];
      const key = typeof entry['partner'] === 'string' ? `partner:${entry['partner']}` : typeof entry['tenant'] === 'string' ? `tenant:${entry['tenant']}` : undefined;
      if (key === undefined) return;
      const first = seen.get(key);
      if (first !== undefined) add(at, `settings for the same organisation as crossTenantAccess.partners[${first}]`);
      else seen.set(key, index);
      if (typeof entry['partner'] === 'string' && !partnerIds.includes(entry['partner'])) {
        add([...at, 'partner'], `unknown partner '${entry['partner']}' (${known('partners', partnerIds)})`);
      }
      if (entry['tenant'] === raw['id']) add([...at, 'tenant'], 'is this tenant itself');
      checkInboundApps(entry, at);
    });
    if (isRecord(crossTenant['default'])) checkInboundApps(crossTenant['default'], ['crossTenantAccess', 'default']);
  }

  function checkInboundApps(settings: Record<string, unknown>, at: PathSegment[]): void {
    const inbound = settings['b2bCollaborationInbound'];
    if (!isRecord(inbound) || !isRecord(inbound['applications'])) return;
    listOf(inbound['applications']['targets']).forEach((target, index) => {
      if (!isRecord(target) || typeof target['target'] !== 'string' || target['target'] === ALL_APPLICATIONS) return;
      if (!appIds.includes(target['target'])) {
        add([...at, 'b2bCollaborationInbound', 'applications', 'targets', index, 'target'], `unknown app '${target['target']}' (${known('apps', appIds)})`);
      }
    });
  }

  const policyIds = new Map<string, number>();
  listOf(raw['conditionalAccess']).forEach((policy, index) => {
    if (!isRecord(policy)) return;
    const at: PathSegment[] = ['conditionalAccess', index];
    if (typeof policy['id'] === 'string') {
      const first = policyIds.get(policy['id']);
      if (first !== undefined) add([...at, 'id'], `'${policy['id']}' is already used by conditionalAccess[${first}]`);
      else policyIds.set(policy['id'], index);
    }
    const conditions = isRecord(policy['conditions']) ? policy['conditions'] : {};
    const applications = isRecord(conditions['applications']) ? conditions['applications'] : {};
    for (const key of ['includeApplications', 'excludeApplications']) {
      listOf(applications[key]).forEach((app, position) => {
        if (typeof app !== 'string' || app === 'All' || app === 'None') return;
        if (!appIds.includes(app)) add([...at, 'conditions', 'applications', key, position], `unknown app '${app}' (${known('apps', appIds)}, or All / None)`);
      });
    }
  });
}
