/** An Explanation as people read it in a terminal: one heading per question, then its trace. */
import { describeRequirement } from './conditional-access.ts';
import type { Explanation } from './explain.ts';
import type { Decision, TraceEntry } from './types.ts';

const MARKS: Record<TraceEntry['effect'], string> = { allow: '✓', deny: '✗', require: '✗', none: '·', reportOnly: '·' };

function decisionLines(title: string, decision: Decision): string[] {
  const because =
    decision.effect === 'deny' && decision.denial
      ? ` by ${decision.denial.rule}: ${decision.denial.reason}`
      : decision.effect === 'challenge'
        ? ` until ${decision.requirements.map((r) => `${describeRequirement(r)} (conditionalAccess[${r.policyId}])`).join('; and ')}`
        : '';
  const lines = [`${title}: ${decision.effect.toUpperCase()}${because}`];
  for (const entry of decision.trace) {
    const tag = entry.effect === 'reportOnly' ? ' [report-only]' : '';
    lines.push(`  ${MARKS[entry.effect]} ${entry.layer}  ${entry.rule}  ${entry.detail}${tag}`);
  }
  if (decision.effect === 'challenge') {
    lines.push('  still required:');
    for (const requirement of decision.requirements) lines.push(`    - ${describeRequirement(requirement)} (conditionalAccess[${requirement.policyId}])`);
  }
  if (decision.signInFrequencySeconds !== undefined) lines.push(`  sign-in frequency: every ${decision.signInFrequencySeconds / 3600} hours`);
  return lines;
}

export function explanationText(explanation: Explanation, question: { readonly app?: string | undefined }): string {
  const { user } = explanation;
  const who = user.found
    ? `${user.email}: ${user.userType ?? 'user'} ${user.id}${user.externalUserState ? ` (${user.externalUserState})` : ''} in tenant ${explanation.tenantId}`
    : `${user.email}: not in tenant ${explanation.tenantId}'s directory`;
  const sections = [
    [who, `home organisation: ${explanation.organisation.description}`],
    decisionLines('Invitation', explanation.invitation),
    ...(explanation.redemption ? [decisionLines('Redemption', explanation.redemption)] : []),
    ...(explanation.signIn ? [decisionLines(`Sign-in to ${question.app ?? 'the app'}`, explanation.signIn)] : []),
  ];
  return `${sections.map((lines) => lines.join('\n')).join('\n\n')}\n`;
}
