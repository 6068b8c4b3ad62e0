// Block Kit for the live switch: the change request approvers react on, the outcome posted in its
// thread, the replies to /mode live and /mode paper, and the feedback on a reaction that did or did
// not count. Pure functions of plain data; the reply helpers add the paper/LIVE badge.
import type { ModeLiveResult, ModePaperResult } from '../../../commands/mode.js';
import type { OutcomeAnnouncement, RequestAnnouncement } from '../../services/mode/ports.js';
import type { ReactionOutcome } from '../../services/mode/record-reaction.js';
import { actorLabel, slackDate } from './format.js';
import { context, escapeText, header, section, sectionsOf, type KnownBlock, type SlackMessage } from './message.js';

export { escapeText as escapeMrkdwn };

const STATUS_ICON = { pass: ':white_check_mark:', warn: ':warning:', fail: ':x:' } as const;

function checkLines(checks: RequestAnnouncement['checks']): string[] {
  return checks.map((c) => {
    const measured = c.value !== undefined ? `: ${escapeText(c.value)}${c.threshold !== undefined ? ` (needs ${escapeText(c.threshold)})` : ''}` : '';
    return `${STATUS_ICON[c.status]} ${escapeText(c.name)}${measured}`;
  });
}

export function renderChangeRequest(r: RequestAnnouncement): SlackMessage {
  const criteria = checkLines(r.checks);
  const blocks: KnownBlock[] = [
    header(`Request #${r.requestId}: switch to LIVE trading with real funds`),
    section(`*Requested by* ${actorLabel(r.requester)}${r.reason ? `\n*Reason:* ${escapeText(r.reason)}` : ''}`),
    section(`*Go-live audit:* ${r.audit.passed ? ':white_check_mark: passed' : ':x: failed'} — ${escapeText(r.audit.summary)}${r.audit.auditRunId !== null ? ` (run #${r.audit.auditRunId})` : ''}`),
  ];
  if (criteria.length > 0) blocks.push(...sectionsOf('*Checks and paper→live criteria*', criteria));
  blocks.push(
    section(`*Who may sign* (${r.approvalsNeeded} distinct approvals needed; the requester does not count): ${r.approvers.map(actorLabel).join(', ')}`),
    section(`*To approve*, react to this message with :${r.approvalEmoji}:. *To reject*, react with :${r.rejectionEmoji}:. Removing your reaction withdraws your approval.\n*Expires* ${slackDate(r.expiresAt)}; after that no reaction counts.`),
    context('The audit runs again at the moment of the switch and must pass · `/mode paper` rolls back at once'),
  );
  return {
    text: `Request #${r.requestId} by ${actorLabel(r.requester)} to switch to LIVE trading: react with :${r.approvalEmoji}: to approve (${r.approvalsNeeded} approvers needed) before ${r.expiresAt.toISOString()}`,
    blocks,
  };
}

export function renderModeOutcome(o: OutcomeAnnouncement): SlackMessage {
  const icon = o.status === 'switched' ? (o.toMode === 'live' ? ':red_circle:' : ':page_facing_up:') : o.status === 'failed' ? ':warning:' : ':no_entry_sign:';
  const blocks: KnownBlock[] = [section(`${icon} *${escapeText(o.title)}*`)];
  if (o.approvals && o.approvals.length > 0) {
    blocks.push(section(`*Approved by* ${o.approvals.map((a) => `${actorLabel(a.user)} at ${slackDate(a.at)}`).join(' and ')}`));
  }
  if (o.lines.length > 0) blocks.push(section(o.lines.map(escapeText).join('\n')));
  return { text: `${o.title}${o.lines[0] ? `: ${o.lines[0]}` : ''}`, blocks };
}

/** The requester's answer to /mode live. */
export function renderModeLiveReply(r: ModeLiveResult): SlackMessage {
  if (r.opened) {
    const where = r.message ? `<#${r.message.channel}>` : 'the ops channel';
    const text = `Request #${r.requestId} is posted in ${where}. Two of ${r.approvers.map(actorLabel).join(', ')} must react before it expires (${r.expiresAt}).`;
    return { text, blocks: [section(`:hourglass_flowing_sand: ${text}`)] };
  }
  const failing = r.audit.checks.filter((c) => c.status === 'fail');
  const lines = failing.map((c) => `${STATUS_ICON.fail} *${escapeText(c.name)}*${c.value ? `: ${escapeText(c.value)}` : ''}${c.fix ? `\n    ↳ ${escapeText(c.fix)}` : ''}`);
  return {
    text: `Not requested: the go-live audit failed (${r.audit.summary}).`,
    blocks: [section(`:x: *Not requested: the go-live audit failed* — ${escapeText(r.audit.summary)}`), ...(lines.length ? sectionsOf('', lines) : [])],
  };
}

export function renderModePaperReply(r: ModePaperResult): SlackMessage {
  const head = r.changed ? `:page_facing_up: *Switched to paper trading* (was ${r.previousMode}); recorded as #${r.requestId}.` : 'Already in paper mode; nothing to switch.';
  const withdrawn = r.withdrawnRequests.length > 0 ? ` Withdrew open live request ${r.withdrawnRequests.map((id) => `#${id}`).join(', ')}.` : '';
  return { text: `${head}${withdrawn}`.replace(/[:*]/g, '').trim(), blocks: [section(`${head}${withdrawn}`)] };
}

/** What a reaction on a request did, for its thread (counted) or for the reactor alone (ignored). */
/** `refusal` is runCommand's sentence (who may vote; nothing was done): only the reactor sees it. */
export function renderVoteRefused(refusal: string): SlackMessage {
  const text = `:no_entry: ${refusal}`;
  return { text, blocks: [section(escapeText(text)), context('Approvers are listed in SLACK_APPROVERS; the requester may withdraw the request with the rejection reaction.')] };
}

/** Recorded approvals withdrawn because Slack no longer shows their reaction on the request. */
function goneLines(gone: readonly string[]): Array<{ text: string; mrkdwn: string }> {
  const why = 'their approval reaction is no longer on this request (Slack\'s reactions, read before counting the quorum)';
  return gone.map((u) => ({ text: `Approval by ${u} withdrawn: ${why}`, mrkdwn: `:leftwards_arrow_with_hook: Approval by ${actorLabel(u)} withdrawn: ${why}` }));
}

function lines(parts: Array<{ text: string; mrkdwn: string }>): SlackMessage | null {
  if (parts.length === 0) return null;
  return { text: parts.map((p) => p.text).join('\n'), blocks: parts.map((p) => section(p.mrkdwn)) };
}

export function renderVoteFeedback(outcome: ReactionOutcome, user: string, needed: number): SlackMessage | null {
  switch (outcome.kind) {
    case 'counted': {
      const gone = outcome.gone ?? [];
      const count = gone.includes(user)
        ? { text: `${outcome.approvals} of ${needed} approvals stand`, mrkdwn: `${outcome.approvals} of ${needed} approvals stand` }
        : outcome.already
          ? { text: `${user}'s approval was already counted (${outcome.approvals} of ${needed})`, mrkdwn: `${actorLabel(user)}'s approval was already counted (${outcome.approvals} of ${needed})` }
        : { text: `Approval ${outcome.approvals} of ${needed}: ${user}`, mrkdwn: `:ballot_box_with_check: Approval ${outcome.approvals} of ${needed}: ${actorLabel(user)}` };
      return lines([...goneLines(gone), count]);
    }
    case 'quorum':
      return lines(goneLines(outcome.gone ?? []));
    case 'unconfirmed': {
      const text = `Quorum not confirmed for request #${outcome.requestId}: Slack's reactions on it could not be read (${outcome.why}). Not approved: the request stays pending with ${outcome.approvals} of ${needed} recorded approvals, and nothing retries by itself. To try again once Slack answers (after the wait it named, if rate limited): an approver removes and re-adds their approval reaction.`;
      return { text, blocks: [section(`:warning: ${escapeText(text)}`)] };
    }
    case 'withdrawn':
      return { text: `${user} withdrew their approval (${outcome.approvals} of ${needed} stand)`, blocks: [section(`:leftwards_arrow_with_hook: ${actorLabel(user)} withdrew their approval (${outcome.approvals} of ${needed} stand)`)] };
    case 'ignored':
      return { text: `Your reaction did not count: ${outcome.reason}.`, blocks: [section(`Your reaction on request #${outcome.requestId} did not count: ${escapeText(outcome.reason)}.`)] };
    default:
      return null;
  }
}
