// Block Kit for /pause and /unpause: the new trading state, who set it and why, and — after a
// risk-guard pause — which breach set it and whether it cleared. Pure functions of result objects.
import { rearmText } from '../../domain/risk-rearm.js';
import { haltLiftText, TRADING_STATE_MEANING, tradingStateMeaning } from '../../domain/trading-state.js';
import type { HaltFacts, OperatorPauseResult, UnpauseResult } from '../../services/entries-pause.js';
import { actorLabel, slackDate } from './format.js';
import { context, escapeText, section, type SlackMessage } from './message.js';

export function renderPause(r: OperatorPauseResult): SlackMessage {
  const text = `New entries paused by ${r.pausedBy}: trading state ${r.state}${r.reason ? ` — ${r.reason}` : ''}`;
  const paused = `By ${actorLabel(r.pausedBy)} ${slackDate(r.pausedAt)}${r.reason ? `\n*Reason:* ${escapeText(r.reason)}` : ''}`;
  if (r.halt) {
    // The halt comes first (nothing trades, exits included): said first, with what lifts it.
    return {
      text,
      blocks: [
        section(`${haltHead(r.halt)}\n:double_vertical_bar: *New entries paused too* — the halt comes first: nothing trades, exits and stop-losses included\n${paused}`),
        context(`${haltLiftText(r.halt.by, 'slack')} Then the bot is reducing (${TRADING_STATE_MEANING.reducing}) until \`/unpause\`.`),
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

/** The halt, said first wherever it comes first: what it means, who halted, when and why. */
function haltHead(halt: HaltFacts): string {
  return `:octagonal_sign: *HALTED* — ${tradingStateMeaning({ state: 'halted', by: halt.by })}${halt.by ? ` · halted by ${actorLabel(halt.by)}` : ''}${halt.at ? ` ${slackDate(halt.at)}` : ''}${halt.reason ? ` — ${escapeText(halt.reason)}` : ''}`;
}

export function renderUnpause(r: UnpauseResult): SlackMessage {
  // Halted, the unpause makes nothing trade: the halt is said first, with what lifts it.
  const lines = r.halt
    ? [haltHead(r.halt), ':arrow_forward: *New entries unpaused* — but the halt comes first: nothing trades, exits and stop-losses included']
    : [`:arrow_forward: *New entries resumed* — trading state *${r.state.toUpperCase()}*`];
  lines.push(`Was paused${r.was.by ? ` by ${actorLabel(r.was.by)}` : ''}${r.was.at ? ` ${slackDate(r.was.at)}` : ''}${r.was.reason ? ` — ${escapeText(r.was.reason)}` : ''}`);
  if (r.breach) {
    lines.push(r.forced
      ? `:warning: *Forced* past the uncleared ${r.breach.kind} breach (${escapeText(r.breach.now)}): ${escapeText(r.forceReason ?? '')}`
      : `The ${r.breach.kind} breach has cleared: ${escapeText(r.breach.now)}`);
  }
  if (r.rearm) lines.push(`*Re-armed:* ${rearmText(r.rearm)}.`);
  const forced = r.forced ? ' (forced past a risk breach)' : '';
  if (r.halt) {
    return {
      text: `New entries unpaused, but the bot is halted: nothing trades until the halt is lifted${forced}`,
      blocks: [section(lines.join('\n')), context(`${haltLiftText(r.halt.by, 'slack')} Then the bot is active (${TRADING_STATE_MEANING.active}).`)],
    };
  }
  return { text: `New entries resumed: trading state ${r.state}${forced}`, blocks: [section(lines.join('\n'))] };
}
