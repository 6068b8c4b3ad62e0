// Renders what the person who pressed Acknowledge / Resolve / Silence on an alert sees (only them:
// everyone else sees the timeline line in the thread and the updated parent message).
import type { AlertActionCommandResult } from '../../../commands/alert-actions.js';
import type { AlertAction } from '../../alerts/permissions.js';
import { actorLabel, slackDate } from './format.js';
import { context, escapeText, section, type SlackMessage } from './message.js';

const DONE: Record<AlertAction, string> = { ack: 'Acknowledged', resolve: 'Resolved', silence: 'Silenced' };

function already(r: AlertActionCommandResult, action: AlertAction): string {
  if (action === 'ack') return `already acknowledged${r.acknowledgedBy ? ` by ${actorLabel(r.acknowledgedBy)}` : ''}`;
  if (action === 'resolve') return `already resolved${r.resolvedBy ? ` by ${actorLabel(r.resolvedBy)}` : ''}`;
  return `already silenced${r.silencedBy ? ` by ${actorLabel(r.silencedBy)}` : ''}${r.silencedUntil ? ` until ${slackDate(new Date(r.silencedUntil))}` : ''}`;
}

function silenceEffect(r: AlertActionCommandResult): string {
  const until = r.silencedUntil ? slackDate(new Date(r.silencedUntil)) : 'the silence ends';
  // An acknowledged alert was paging nobody: the silence pauses nothing.
  if (r.status === 'acknowledged') {
    return `Repeats are counted, not posted, until ${until}. Nobody was being paged: it is acknowledged${r.acknowledgedBy ? ` by ${actorLabel(r.acknowledgedBy)}` : ''}.`;
  }
  // A ladder that had run out was paging nobody: the silence pauses nothing.
  if (r.escalationEnded) {
    const e = r.escalationEnded;
    return `Repeats are counted, not posted, until ${until}. Nothing was being paged: the escalation had already run out, at step ${e.step} of round ${e.round}, ${slackDate(new Date(e.at))}. `
      + 'If the alert is still open when the silence ends, paging starts again from the first rung.';
  }
  return `Repeats are counted, not posted, and nobody is paged until ${until}.`;
}

export function renderAlertActionDone(r: AlertActionCommandResult, action: AlertAction): SlackMessage {
  const title = escapeText(r.title);
  if (!r.changed) {
    const text = `Alert group ${r.groupId} (${r.title}) was ${already(r, action).replace(/<@([A-Z0-9]+)>/g, '$1')}; nothing changed.`;
    return { text, blocks: [section(`:information_source: Alert group ${r.groupId} (${title}) was ${already(r, action)}; nothing changed.`)] };
  }
  const ended = r.escalationEnded;
  const effect = action === 'ack'
    ? ended
      ? `The escalation had already finished (step ${ended.step} of round ${ended.round}, ${slackDate(new Date(ended.at))}): nobody was being paged. The alert stays open until someone resolves it.`
      : 'Escalation stopped; the alert stays open until someone resolves it.'
    : action === 'resolve'
      ? 'Escalation stopped; the next alert like it opens a new thread.'
      : silenceEffect(r);
  const text = `${DONE[action]} alert group ${r.groupId} (${r.title}).`;
  return {
    text,
    blocks: [
      section(`:white_check_mark: ${DONE[action]} alert group ${r.groupId} (${title}). ${effect}`),
      context('The thread records who did it; the alert message is refreshed within a few seconds, ahead of any queued alerts (one post a second per channel).'),
    ],
  };
}

/** `refusal` is runCommand's sentence: who may do it, and that nothing was done. */
export function renderAlertActionRefused(refusal: string): SlackMessage {
  const text = `:no_entry: ${refusal}`;
  return { text, blocks: [section(text), context('Operators are listed in SLACK_OPERATORS, approvers in SLACK_APPROVERS; the rotation is `ctb oncall show`.')] };
}
