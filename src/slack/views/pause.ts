// Block Kit for /pause and /unpause: the new trading state, who set it and why, and — after a
// risk-guard pause — which breach set it and whether it cleared. Pure functions of result objects.
import { rearmText } from '../../domain/risk-rearm.js';
import { RECONCILIATION_HALT_ACTOR, TRADING_STATE_MEANING, tradingStateMeaning } from '../../domain/trading-state.js';
import type { OperatorPauseResult, UnpauseResult } from '../../services/entries-pause.js';
import { actorLabel, slackDate } from './format.js';
import { context, escapeText, section, type SlackMessage } from './message.js';

export function renderPause(r: OperatorPauseResult): SlackMessage {
  const text = `New entries paused by ${r.pausedBy}: trading state ${r.state}${r.reason ? ` — ${r.reason}` : ''}`;
  const paused = `By ${actorLabel(r.pausedBy)} ${slackDate(r.pausedAt)}${r.reason ? `\n*Reason:* ${escapeText(r.reason)}` : ''}`;
  if (r.halt) {
    // The halt comes first (nothing trades, exits included): said first, with what lifts it.
    const halt = r.halt;
    const lift = halt.by === RECONCILIATION_HALT_ACTOR
      ? 'The halt lifts by itself once reconciliation with Kraken passes (`ctb reconcile` lists what is unexplained).'
      : '`/mode resume` lifts the halt, once an audit has passed since the halt (`/golive audit`) and the incident checklist is done.';
    return {
      text,
      blocks: [
        section(`:octagonal_sign: *HALTED* — ${tradingStateMeaning({ state: 'halted', by: halt.by })}${halt.by ? ` · halted by ${actorLabel(halt.by)}` : ''}${halt.at ? ` ${slackDate(halt.at)}` : ''}${halt.reason ? ` — ${escapeText(halt.reason)}` : ''}`
          + `\n:double_vertical_bar: *New entries paused too* — the halt comes first: nothing trades, exits and stop-losses included\n${paused}`),
        context(`${lift} Then the bot is reducing (${TRADING_STATE_MEANING.reducing}) until \`/unpause\`.`),
      ],
    };
  }
  return {
    text,
    blocks: [
      section(`:double_vertical_bar: *New entries paused* — trading state *${r.state.toUpperCase()}*\n${paused}`),
      context('Exits and stop-losses continue · `/unpause` resumes entries'),
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
