// Block Kit for the live switch: the change request approvers react on, the outcome posted in its
// thread, and the rollback notice. Pure functions of plain data; tested on their JSON.
import type { OutcomeAnnouncement, RequestAnnouncement } from '../../services/mode/ports.js';

type Block = Record<string, unknown>;
export interface SlackMessage {
  text: string;
  blocks: Block[];
}

/** Slack mrkdwn: user text must not turn into mentions, links or markup. */
export function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

const section = (text: string): Block => ({ type: 'section', text: { type: 'mrkdwn', text } });
const context = (text: string): Block => ({ type: 'context', elements: [{ type: 'mrkdwn', text }] });
const user = (id: string) => (/^[UW][A-Z0-9]+$/.test(id) ? `<@${id}>` : `\`${escapeMrkdwn(id)}\``);
/** Slack renders it in the reader's time zone; the fallback is UTC ISO. */
const when = (d: Date) => `<!date^${Math.floor(d.getTime() / 1000)}^{date_short_pretty} {time}|${d.toISOString()}>`;
const STATUS_ICON = { pass: ':white_check_mark:', warn: ':warning:', fail: ':x:' } as const;

export function modeBadge(mode: 'paper' | 'live'): string {
  return mode === 'live' ? ':red_circle: *LIVE*' : ':large_blue_circle: *PAPER*';
}

export function renderChangeRequest(r: RequestAnnouncement): SlackMessage {
  const criteria = r.checks.map((c) => {
    const measured = c.value !== undefined ? `: ${escapeMrkdwn(c.value)}${c.threshold !== undefined ? ` (needs ${escapeMrkdwn(c.threshold)})` : ''}` : '';
    return `${STATUS_ICON[c.status]} ${escapeMrkdwn(c.name)}${measured}`;
  });
  const blocks: Block[] = [
    { type: 'header', text: { type: 'plain_text', text: `Request #${r.requestId}: switch to LIVE trading with real funds` } },
    section(`*Requested by* ${user(r.requester)}${r.reason ? `\n*Reason:* ${escapeMrkdwn(r.reason)}` : ''}`),
    section(`*Go-live audit:* ${r.audit.passed ? ':white_check_mark: passed' : ':x: failed'} — ${escapeMrkdwn(r.audit.summary)}${r.audit.auditRunId !== null ? ` (run #${r.audit.auditRunId})` : ''}`),
  ];
  if (criteria.length > 0) blocks.push(section(`*Checks and paper→live criteria*\n${criteria.join('\n')}`.slice(0, 2900)));
  blocks.push(
    section(`*Who may sign* (${r.approvalsNeeded} distinct approvals needed; the requester does not count): ${r.approvers.map(user).join(', ')}`),
    section(`*To approve*, react to this message with :${r.approvalEmoji}:. *To reject*, react with :${r.rejectionEmoji}:. Removing your reaction withdraws your approval.\n*Expires* ${when(r.expiresAt)}; after that no reaction counts.`),
    context(`Now ${modeBadge(r.fromMode)} · the audit runs again at the moment of the switch and must pass · /mode paper rolls back at once`),
  );
  return {
    text: `Request #${r.requestId} by ${user(r.requester)} to switch to LIVE trading: react with :${r.approvalEmoji}: to approve (${r.approvalsNeeded} approvers needed) before ${r.expiresAt.toISOString()}`,
    blocks,
  };
}

export function renderModeOutcome(o: OutcomeAnnouncement): SlackMessage {
  const icon = o.status === 'switched' ? (o.toMode === 'live' ? ':red_circle:' : ':large_blue_circle:') : o.status === 'failed' ? ':warning:' : ':no_entry_sign:';
  const blocks: Block[] = [section(`${icon} *${escapeMrkdwn(o.title)}*`)];
  if (o.approvals && o.approvals.length > 0) {
    blocks.push(section(`*Approved by* ${o.approvals.map((a) => `${user(a.user)} at ${when(a.at)}`).join(' and ')}`));
  }
  if (o.lines.length > 0) blocks.push(section(o.lines.map(escapeMrkdwn).join('\n')));
  blocks.push(context(`Mode now ${modeBadge(o.status === 'switched' ? o.toMode : o.toMode === 'live' ? 'paper' : 'live')}`));
  return { text: `${o.title}${o.lines[0] ? `: ${o.lines[0]}` : ''}`, blocks };
}
