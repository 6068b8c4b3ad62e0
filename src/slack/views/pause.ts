// Block Kit for /pause and /unpause: the new trading state, who set it and why, and — after a
// risk-guard pause — which breach set it and whether it cleared. Pure functions of result objects.
import { rearmText } from '../../domain/risk-rearm.js';
import type { OperatorPauseResult, UnpauseResult } from '../../services/entries-pause.js';
import { actorLabel, slackDate } from './format.js';
import { context, escapeText, section, type SlackMessage } from './message.js';

export function renderPause(r: OperatorPauseResult): SlackMessage {
  const text = `New entries paused by ${r.pausedBy}: trading state ${r.state}${r.reason ? ` — ${r.reason}` : ''}`;
  return {
    text,
    blocks: [
      section(`:double_vertical_bar: *New entries paused* — trading state *${r.state.toUpperCase()}*\nBy ${actorLabel(r.pausedBy)} ${slackDate(r.pausedAt)}${r.reason ? `\n*Reason:* ${escapeText(r.reason)}` : ''}`),
      context(r.halted
        ? 'The bot is also halted: after `/mode resume` it stays reducing until `/unpause`.'
        : 'Exits and stop-losses continue · `/unpause` resumes entries'),
    ],
  };
}

export function renderUnpause(r: UnpauseResult): SlackMessage {
  const lines = [`:arrow_forward: *New entries resumed* — trading state *${r.state.toUpperCase()}*`];
  lines.push(`Was paused${r.was.by ? ` by ${actorLabel(r.was.by)}` : ''}${r.was.at ? ` ${slackDate(r.was.at)}` : ''}${r.was.reason ? ` — ${escapeText(r.was.reason)}` : ''}`);
  if (r.breach) {
    lines.push(r.forced
      ? `:warning: *Forced* past the uncleared ${r.breach.kind} breach (${escapeText(r.breach.now)}): ${escapeText(r.forceReason ?? '')}`
      : `The ${r.breach.kind} breach has cleared: ${escapeText(r.breach.now)}`);
  }
  if (r.rearm) lines.push(`*Re-armed:* ${rearmText(r.rearm)}.`);
  if (r.state === 'halted') lines.push('The bot is still halted: `/mode resume` lifts the halt.');
  const text = `New entries resumed: trading state ${r.state}${r.forced ? ' (forced past a risk breach)' : ''}`;
  return { text, blocks: [section(lines.join('\n'))] };
}
