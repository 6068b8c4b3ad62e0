// The paper/LIVE badge every message the bot posts carries, so nobody mistakes a paper result for
// real money (or the reverse). withBadge() is applied by the reply helpers, not by each view.
import type { EngineMode } from '../../domain/engine-mode.js';
import type { TradingState } from '../../domain/trading-state.js';
import type { KnownBlock, SlackMessage } from './message.js';

export interface BadgeState {
  /**
   * The mode the engine trades in (domain/engine-mode.ts engineMode: unknown while a stale armed holder
   * may resume LIVE trading), or null when it could not be read.
   */
  mode: EngineMode | null;
  halted: boolean;
  /** active | reducing | halted (domain/trading-state.ts); absent when it could not be read. */
  tradingState?: TradingState;
}

const reducing = (state: BadgeState) => !state.halted && state.tradingState === 'reducing';

export function badgeLabel(state: BadgeState): string {
  if (state.mode === null) return 'MODE UNKNOWN';
  if (state.mode === 'unknown') return 'MODE UNKNOWN · MAY RESUME LIVE';
  return state.mode === 'live' ? 'LIVE' : 'PAPER';
}

export function badgeBlock(state: BadgeState): KnownBlock {
  const mode =
    state.mode === null
      ? ':grey_question: *MODE UNKNOWN* (the database could not be read)'
      : state.mode === 'unknown'
        ? ':warning: *MODE UNKNOWN* — the engine stopped renewing its lease while armed and the database says live: it may resume LIVE trading if it wakes (`/mode status` says which; `/kill` cancels from any process)'
        : state.mode === 'live'
        ? ':red_circle: *LIVE* — real money'
        : ':page_facing_up: *PAPER* — simulated fills';
  const text = state.halted ? `${mode} · :octagonal_sign: *HALTED*` : reducing(state) ? `${mode} · :double_vertical_bar: *REDUCING* — no new entries` : mode;
  return { type: 'context', elements: [{ type: 'mrkdwn', text }] };
}

/** The badge as its prefix reads, without brackets: PAPER · HALTED. */
export function badgeText(state: BadgeState): string {
  return `${badgeLabel(state)}${state.halted ? ' · HALTED' : reducing(state) ? ' · REDUCING' : ''}`;
}

export function withBadge(message: SlackMessage, state: BadgeState): SlackMessage {
  const prefix = `[${badgeText(state)}]`;
  return { text: `${prefix} ${message.text}`, blocks: [badgeBlock(state), ...message.blocks] };
}
