// How an alert group reads in Slack: the parent message (count, status, the Acknowledge / Resolve /
// Silence controls answered by listeners/alert-actions.ts) and the thread reply that lists repeats.
// Pure functions of the alert rows the pipeline hands over (alerts/notifier.ts); times are date
// tokens, so each reader sees their own time zone. The notifier adds the paper/LIVE badge.
import type { AlertEvent, AlertGroup } from '../../db/schema/alerts.js';
import { lateText, outageMarkOf, raisedDetails } from '../../domain/alert-outage.js';
import type { StoredAlert } from '../../alerts/store.js';
import { slackDate } from './format.js';
import { badgeText } from './badge.js';
import { fitText, TEXT_LIMIT, type KnownBlock, type SlackMessage } from './message.js';

export const ALERT_ACTIONS = { ack: 'alert_ack', resolve: 'alert_resolve', silence: 'alert_silence' } as const;
export const SILENCE_CHOICES = ['30m', '1h', '4h', '24h'] as const;

const ICON = { info: ':large_blue_circle:', warning: ':large_orange_circle:', critical: ':red_circle:' } as const;
const when = slackDate;

/** The same words as the email subject and the page (alerts/render.ts headline). */
function headline(group: Pick<AlertGroup, 'severity' | 'title' | 'test'>): string {
  return `${group.test ? '[TEST] ' : ''}[${group.severity.toUpperCase()}] ${group.title}`;
}

function who(actor: string | null | undefined): string {
  if (!actor) return 'someone';
  return /^[UW][A-Z0-9]{2,}$/.test(actor) ? `<@${actor}>` : actor;
}

export function statusLine(group: AlertGroup, now: Date): string {
  const parts: string[] = [];
  if (group.status === 'resolved') parts.push(`:white_check_mark: Resolved by ${who(group.resolvedBy)} at ${when(group.resolvedAt ?? now)}`);
  else if (group.status === 'acknowledged') parts.push(`:eyes: Acknowledged by ${who(group.acknowledgedBy)} at ${when(group.acknowledgedAt ?? now)}`);
  else parts.push(':rotating_light: Open — not acknowledged');
  if (group.silencedUntil && group.silencedUntil > now && group.status !== 'resolved') {
    parts.push(`:mute: silenced until ${when(group.silencedUntil)} by ${who(group.silencedBy)}`);
  }
  return parts.join(' · ');
}

function detailLines(details: Record<string, unknown>, max = 8): string {
  const entries = Object.entries(details).slice(0, max);
  if (entries.length === 0) return '';
  const lines = entries.map(([k, v]) => `${k}: ${typeof v === 'string' ? v : JSON.stringify(v)}`.slice(0, 300));
  return `\`\`\`${lines.join('\n')}\`\`\``;
}

/** `update`: an edit of the parent, whose badge is the state now (a late alert's raise-time state is said in its LATE line). */
export function parentMessage(group: AlertGroup, latest: AlertEvent | undefined, now: Date, update = false): SlackMessage {
  const text = `${ICON[group.severity]} ${headline(group)} (×${group.count})`;
  const facts = `source \`${group.source}\` · ×${group.count} · first ${when(group.firstAt)} · last ${when(group.lastAt)}`;
  const blocks: KnownBlock[] = [
    // A title can be as long as the log line it came from: the facts line always shows whole.
    { type: 'section', text: { type: 'mrkdwn', text: `*${ICON[group.severity]} ${fitText(headline(group), TEXT_LIMIT - facts.length - 20)}*\n${facts}` } },
    { type: 'context', elements: [{ type: 'mrkdwn', text: fitText(`${statusLine(group, now)} · fingerprint \`${group.fingerprint}\` · group ${group.id}`) }] },
  ];
  const mark = outageMarkOf(latest?.details);
  if (mark) blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: fitText(`:hourglass: ${lateText(mark, when, {
    badge: true, group: { status: group.status, silencedUntil: group.silencedUntil, now },
    ...(update && mark.state ? { raisedBadge: badgeText({ mode: mark.state.mode, halted: mark.state.halted, ...(mark.state.tradingState ? { tradingState: mark.state.tradingState } : {}) }) } : {}),
  })}`) }] });
  const details = latest ? detailLines(raisedDetails(latest.details)) : '';
  if (details) blocks.push({ type: 'section', text: { type: 'mrkdwn', text: fitText(details) } });
  if (group.status !== 'resolved') {
    const id = String(group.id);
    blocks.push({
      type: 'actions',
      block_id: `alert_actions:${id}`,
      elements: [
        ...(group.status === 'open'
          ? [{ type: 'button' as const, action_id: ALERT_ACTIONS.ack, text: { type: 'plain_text' as const, text: 'Acknowledge' }, style: 'primary' as const, value: id }]
          : []),
        { type: 'button', action_id: ALERT_ACTIONS.resolve, text: { type: 'plain_text', text: 'Resolve' }, value: id },
        {
          type: 'static_select',
          action_id: ALERT_ACTIONS.silence,
          placeholder: { type: 'plain_text', text: 'Silence for…' },
          options: SILENCE_CHOICES.map((d) => ({ text: { type: 'plain_text' as const, text: d }, value: `${id}:${d}` })),
        },
      ],
    });
  }
  return { text, blocks };
}

export function repeatsMessage(events: AlertEvent[], total: number): string {
  const shown = events.slice(-5);
  const head = total === 1 ? 'Again' : `${total} more occurrences`;
  const lines = shown.map((e) => {
    const raised = raisedDetails(e.details);
    const d = Object.keys(raised).length > 0 ? ` — ${JSON.stringify(raised).slice(0, 200)}` : '';
    const mark = outageMarkOf(e.details);
    return `• ${when(e.at)} [${e.severity}] ${e.title}${d}${mark ? `\n   :hourglass: ${lateText(mark, when)}` : ''}`;
  });
  const more = total > shown.length ? `\n…and ${total - shown.length} earlier (all stored; group count is exact)` : '';
  return `${head}:\n${lines.join('\n')}${more}`;
}

/**
 * A critical alert sent straight to the channel while the database refuses the outbox: what it is,
 * and what it is not yet (stored, acknowledgeable, escalating). The notifier adds the badge of the
 * state when it was raised; `dropped` are critical alerts the cap kept from this lane since the last one.
 */
export function directAlertMessage(input: { alert: StoredAlert; raisedAt: Date; process: string; dropped: number; cap: string; modeReadAt?: string | undefined }): SlackMessage {
  const { alert } = input;
  const title = `${ICON[alert.severity]} ${headline({ ...alert })}`;
  const warning = ':warning: *Database unreachable: sent without it.* This alert is not in the outbox yet — no Acknowledge button, '
    + 'no escalation and no on-call page until the database is back. Act on it from this message: it is kept only in this '
    + 'process\'s memory and stored when the database answers; if the process stops first, it is lost. Once stored, this '
    + 'message becomes its alert with the buttons (or says in its thread which alert it joined).';
  const facts = `source \`${alert.source}\` · raised ${when(input.raisedAt)} by \`${input.process}\` · fingerprint \`${alert.fingerprint}\``
    + (input.modeReadAt ? ` · mode as last read from the database at ${when(new Date(input.modeReadAt))}` : ' · mode not read from the database by this process');
  const blocks: KnownBlock[] = [
    { type: 'section', text: { type: 'mrkdwn', text: `*${fitText(title, TEXT_LIMIT - 20)}*` } },
    { type: 'section', text: { type: 'mrkdwn', text: warning } },
    { type: 'context', elements: [{ type: 'mrkdwn', text: fitText(facts) }] },
  ];
  const details = detailLines(alert.details);
  if (details) blocks.push({ type: 'section', text: { type: 'mrkdwn', text: fitText(details) } });
  const dropped = input.dropped > 0
    ? `${input.dropped} more critical ${input.dropped === 1 ? 'alert was' : 'alerts were'} held back by the cap on messages sent without the database (${input.cap}): each is sent here as the cap allows, and stored when the database answers.`
    : '';
  if (dropped) blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: `:no_entry_sign: ${dropped}` }] });
  return { text: `${title} — database unreachable: not in the outbox yet, no escalation until it is back${dropped ? `. ${dropped}` : ''}`, blocks };
}
