// Renders `/oncall who`, `/oncall schedule` and `/oncall override`: pure functions of the results
// of commands/oncall-show.ts and commands/oncall-override.ts.
import type { OncallOverrideClearResult, OncallOverrideResult } from '../../../commands/oncall-override.js';
import { NOBODY_PAGED, type OncallShowResult } from '../../../commands/oncall-show.js';
import type { EscalationPolicy } from '../../alerts/policy.js';
import { formatDuration } from '../../config/duration.js';
import { actorLabel, slackDate } from './format.js';
import { context, fields, header, section, sectionsOf, type KnownBlock, type SlackMessage } from './message.js';

const RUNG_WORDS = { oncall: 'on-call', next: 'next in rotation', approvers: 'all approvers' } as const;

const mentionList = (ids: string[]) => ids.map(actorLabel).join(', ');

/**
 * Who gets paged when nobody is on call: the approvers, or the whole channel when there are none —
 * over the routes configured only (the same facts as `ctb oncall show`).
 */
function fallbackLine(fallback: string[], routes: OncallShowResult['routes']): string {
  if (!routes.slack && !routes.email) return `But ${NOBODY_PAGED}.`;
  if (!routes.slack) return 'Alerts page ALERT_EMAIL_TO by email only: there is no Slack alerts channel (SLACK_ALERTS_CHANNEL).';
  return fallback.length > 0
    ? `Alerts page the approvers instead: ${mentionList(fallback)}.`
    : 'There are no approvers either (SLACK_APPROVERS is empty): alerts page the whole alerts channel.';
}

function rotationLine(r: NonNullable<OncallShowResult['rotation']>): string {
  return `Rotation: ${mentionList(r.members)} · handoff every ${r.handoff} (${r.timeZone}) · set by ${actorLabel(r.updatedBy)}`;
}

const MAX_WARNINGS = 5;

/** The people Slack says cannot be paged (or who could not be checked): a few lines, never past the block limits. */
function warningBlocks(warnings: string[]): KnownBlock[] {
  const shown = warnings.slice(0, MAX_WARNINGS).map((w) => context(`:warning: ${w}`));
  const more = warnings.length - MAX_WARNINGS;
  return more > 0 ? [...shown, context(`:warning: …and ${more} more: \`ctb oncall show\` lists them all.`)] : shown;
}

/** A policy over the routes configured only: without a Slack alerts channel the ladder reaches nobody. */
export function policyLine(p: EscalationPolicy, routes: OncallShowResult['routes']): string {
  if (p.steps.length === 0) return routes.slack ? `${p.severity}: posted to the alerts channel, nobody paged` : `${p.severity}: nobody paged`;
  const every = `every ${formatDuration(p.ackSlaMs)} without an ack, up to ${p.maxRounds} round(s)`;
  const email = p.email && routes.email;
  if (!routes.slack) return email ? `${p.severity}: email only (no Slack alerts channel), ${every}` : `${p.severity}: nobody paged (no Slack alerts channel, no email)`;
  const ladder = p.steps.map((s) => RUNG_WORDS[s]).join(' → ');
  return `${p.severity}: ${ladder}, ${every}${email ? ', with email' : ''}`;
}

export function renderOncallWho(r: OncallShowResult): SlackMessage {
  const blocks: KnownBlock[] = [];
  let text: string;
  if (r.now.primary) {
    const via = r.now.via === 'override' ? ' (override)' : '';
    const until = r.now.until ? ` until ${slackDate(new Date(r.now.until))}` : '';
    text = `On call now: ${r.now.primary}${via}; next: ${r.now.next ?? 'nobody else'}`;
    blocks.push(section(`:pager: *On call now:* ${actorLabel(r.now.primary)}${via}${until}`));
    blocks.push(section(r.now.next ? `*Next:* ${actorLabel(r.now.next)}` : `*Next:* nobody else in the rotation. ${fallbackLine(r.fallback, r.routes)}`));
    if (!r.routes.slack && !r.routes.email) {
      text += `; but ${NOBODY_PAGED}`;
      blocks.push(section(`:warning: But ${NOBODY_PAGED}.`));
    }
  } else if (!r.routes.slack && !r.routes.email) {
    text = `Nobody is on call, and ${NOBODY_PAGED}`;
    blocks.push(section(`:warning: *Nobody is on call,* and ${NOBODY_PAGED}.`));
  } else {
    text = `Nobody is on call. ${!r.routes.slack ? 'Alerts page ALERT_EMAIL_TO by email only' : r.fallback.length > 0 ? `Alerts page the approvers: ${r.fallback.join(', ')}` : 'Alerts page the whole channel'}`;
    blocks.push(section(`:warning: *Nobody is on call.* ${fallbackLine(r.fallback, r.routes)}`));
  }
  blocks.push(...warningBlocks(r.warnings));
  blocks.push(context(r.rotation ? rotationLine(r.rotation) : 'No rotation is set: `ctb oncall set --members U012AB3CD,U045EF6GH [--handoff "mon 09:00"] [--tz Europe/London]`.'));
  return { text, blocks };
}

export function renderOncallSchedule(r: OncallShowResult): SlackMessage {
  const blocks: KnownBlock[] = [header('On-call schedule'), ...warningBlocks(r.warnings)];
  if (!r.rotation) {
    blocks.push(section(`No rotation is set. ${fallbackLine(r.fallback, r.routes)}`));
    blocks.push(context('Set one with `ctb oncall set --members U012AB3CD,U045EF6GH [--handoff "mon 09:00"] [--tz Europe/London]`.'));
  } else {
    // 26 weeks of shifts run past Slack's 3,000 characters a section: split, never cut.
    const shifts = r.upcoming.map((s) => `• ${slackDate(new Date(s.startsAt))} → ${slackDate(new Date(s.endsAt))}: ${actorLabel(s.userId)}`);
    blocks.push(...sectionsOf('*Rotation shifts*', shifts));
    blocks.push(context(rotationLine(r.rotation)));
  }
  if (r.overrides.length > 0) {
    const lines = r.overrides.map((o) =>
      `• ${actorLabel(o.userId)} from ${slackDate(new Date(o.startsAt))} to ${slackDate(new Date(o.endsAt))} (set by ${actorLabel(o.createdBy)})`);
    blocks.push(...sectionsOf('*Overrides* (they win over the rotation)', lines));
  } else {
    blocks.push(section('*Overrides:* none'));
  }
  blocks.push(fields([['Escalation', r.policies.map((p) => policyLine(p, r.routes)).join('\n')]]));
  const now = r.now.primary ? `${r.now.primary} on call now` : 'nobody on call now';
  return { text: `On-call schedule: ${now}; ${r.upcoming.length} shift(s), ${r.overrides.length} override(s)`, blocks };
}

export function renderOncallOverride(r: OncallOverrideResult, by: string): SlackMessage {
  const text = `${r.userId} is on call from ${r.startsAt} to ${r.endsAt} (override for ${r.duration}, set by ${by})`;
  return {
    text,
    blocks: [
      section(`:pager: ${actorLabel(r.userId)} is on call from ${slackDate(new Date(r.startsAt))} until ${slackDate(new Date(r.endsAt))} (${r.duration}), over the rotation.`),
      context(`Override ${r.id}, set by ${actorLabel(by)}. Pages for critical alerts go to them first while it lasts.`),
      ...r.warnings.map((w) => context(`:warning: ${w}`)),
    ],
  };
}

export function renderOncallOverrideClear(r: OncallOverrideClearResult, by: string): SlackMessage {
  if (r.cleared.length === 0) return { text: 'No override in force or to come: nothing to clear.', blocks: [section('No override in force or to come: nothing to clear.')] };
  const people = r.cleared.map((o) => actorLabel(o.userId)).join(', ');
  return {
    text: `Overrides cleared by ${by}: ${r.cleared.map((o) => o.userId).join(', ')}; the rotation decides who is on call again`,
    blocks: [
      section(`:pager: Override(s) cleared: ${people}. The rotation decides who is on call again.`),
      context(`Cleared by ${actorLabel(by)}: override(s) ${r.cleared.map((o) => o.id).join(', ')}.`),
    ],
  };
}
