// Text for `ctb oncall …` results.
import type { OncallOverrideClearResult, OncallOverrideResult } from '../../../commands/oncall-override.js';
import type { OncallSetResult } from '../../../commands/oncall-set.js';
import { NOBODY_PAGED, type OncallShowResult } from '../../../commands/oncall-show.js';
import { formatDuration } from '../../config/duration.js';

const t = (iso: string) => iso.replace('T', ' ').replace(/:\d\d\.\d+Z$/, ' UTC');

export function renderOncallShow(r: OncallShowResult): string {
  const lines: string[] = [];
  const unpaged = !r.routes.slack && !r.routes.email;
  if (unpaged) {
    lines.push(`On call now: ${r.now.primary ?? 'nobody'} — but ${NOBODY_PAGED}`);
  } else if (r.now.primary) {
    lines.push(`On call now: ${r.now.primary} (${r.now.via}${r.now.until ? `, until ${t(r.now.until)}` : ''})`);
  } else {
    const fallback = r.routes.slack ? `the approvers (${r.fallback.join(', ') || 'none set: the whole alerts channel'})` : 'ALERT_EMAIL_TO by email (no Slack alerts channel)';
    lines.push(`On call now: nobody — critical alerts page ${fallback}`);
  }
  lines.push(`Next: ${r.now.next ?? 'nobody else in the rotation (escalation goes to the approvers)'}`);
  lines.push(...r.warnings.map((w) => `warning: ${w}`));
  if (r.rotation) {
    lines.push('', `Rotation: ${r.rotation.members.join(' → ')} · handoff ${r.rotation.handoff} ${r.rotation.timeZone} · set by ${r.rotation.updatedBy}`);
    for (const s of r.upcoming) lines.push(`  ${t(s.startsAt)} → ${t(s.endsAt)}  ${s.userId}`);
  } else {
    lines.push('', 'Rotation: not set — run `ctb oncall set --members U012AB3CD,U045EF6GH --handoff "mon 09:00" --tz Europe/London`');
  }
  if (r.overrides.length > 0) {
    lines.push('', 'Overrides:');
    for (const o of r.overrides) lines.push(`  #${o.id} ${o.userId} ${t(o.startsAt)} → ${t(o.endsAt)} (by ${o.createdBy})`);
  }
  lines.push('', 'Escalation policies:');
  for (const p of r.policies) {
    lines.push(`  ${p.severity.padEnd(8)} ${policyRoutes(p, r.routes)} (${policySources(p)})`);
    if (p.envIgnored.length > 0) lines.push(`           warning: ${p.envIgnored.join(', ')} set here but ignored: the stored policy wins; change it with \`ctb oncall set --ack-sla … --max-rounds …\``);
  }
  return lines.join('\n');
}

export function renderOncallSet(r: OncallSetResult): string {
  const rotation = r.members.length > 0 ? `${r.members.join(' → ')} · handoff ${r.handoff} ${r.timeZone}` : 'not set';
  const policy = `${formatDuration(r.policy.ackSlaMs)} to acknowledge, ${r.policy.maxRounds} round(s)`;
  return [
    r.rotationChanged ? `Rotation set: ${rotation}` : `Rotation unchanged: ${rotation}`,
    `On call now: ${r.onCallNow ?? 'nobody'} · next: ${r.next ?? 'nobody'}`,
    `Critical escalation: ${policy} (${r.policyChange === 'changed' ? 'changed, stored' : r.policyChange === 'stored_from_env' ? 'stored now' : 'stored, unchanged'})`,
    ...r.warnings.map((w) => `warning: ${w}`),
  ].join('\n');
}

/** A policy's paging over the routes that are configured only: a ladder without Slack reaches nobody on it. */
function policyRoutes(p: OncallShowResult['policies'][number], routes: OncallShowResult['routes']): string {
  const every = `every ${formatDuration(p.ackSlaMs)}, ${p.maxRounds} round(s)`;
  const email = p.email && routes.email;
  if (p.steps.length === 0) return routes.slack ? 'channel only, no paging' : 'no paging';
  if (routes.slack) return `${p.steps.join(' → ')} ${every}${email ? ', email' : ''}`;
  return email ? `email only (no Slack alerts channel) ${every}` : `nobody paged: no Slack alerts channel, no email (configured ladder: ${p.steps.join(' → ')} ${every})`;
}

const SOURCE = { stored: 'stored', env: 'from env', default: 'built-in default' } as const;

/** "SLA 5m (from env ESCALATION_ACK_SLA), 3 round(s) (built-in default)": where each value comes from. */
function policySources(p: OncallShowResult['policies'][number]): string {
  if (p.stored) return `stored by ${p.source.updatedBy ?? '?'}${p.source.updatedAt ? ` at ${t(p.source.updatedAt)}` : ''}; ESCALATION_* do not apply`;
  return `SLA ${SOURCE[p.source.ackSla]}${p.source.ackSla === 'env' ? ' ESCALATION_ACK_SLA' : ''}, rounds ${SOURCE[p.source.maxRounds]}${p.source.maxRounds === 'env' ? ' ESCALATION_MAX_ROUNDS' : ''}; not stored`;
}

export function renderOncallOverride(r: OncallOverrideResult): string {
  return [`Override #${r.id}: ${r.userId} is on call ${t(r.startsAt)} → ${t(r.endsAt)} (${r.duration}).`, ...r.warnings.map((w) => `warning: ${w}`)].join('\n');
}

export function renderOncallOverrideClear(r: OncallOverrideClearResult): string {
  if (r.cleared.length === 0) return 'No override in force or to come: nothing to clear.';
  return [`Cleared ${r.cleared.length} override(s); the rotation decides who is on call again:`,
    ...r.cleared.map((o) => `  #${o.id} ${o.userId} ${t(o.startsAt)} → ${t(o.endsAt)}`)].join('\n');
}
