// Owns the trading state the whole product speaks — active | reducing | halted — derived in this one
// place from bot_state: halted (the kill switch's fence) wins, then entries paused (no new entries;
// exits and stop-losses carry on), else active. Every surface (Slack badge, App Home, /healthz,
// /metrics, `ctb mode status`) reads it through tradingStateOf / describeTradingState.
import type { BotState } from '../db/schema/index.js';

export const TRADING_STATES = ['active', 'reducing', 'halted'] as const;
export type TradingState = (typeof TRADING_STATES)[number];

export function tradingStateOf(state: Pick<BotState, 'halted' | 'entriesPaused'>): TradingState {
  if (state.halted) return 'halted';
  if (state.entriesPaused) return 'reducing';
  return 'active';
}

/** The state with who set it, why and when (the halt's for halted, the pause's for reducing). */
export interface TradingStateInfo {
  state: TradingState;
  reason: string | null;
  by: string | null;
  at: Date | null;
  /** Entries stay paused under a halt too: after a resume the bot is still reducing. */
  entriesPaused: boolean;
}

type StateFields = Pick<BotState, 'halted' | 'haltedReason' | 'haltedBy' | 'haltedAt' | 'entriesPaused' | 'entriesPausedReason' | 'entriesPausedBy' | 'entriesPausedAt'>;

export function describeTradingState(s: StateFields): TradingStateInfo {
  const state = tradingStateOf(s);
  if (state === 'halted') return { state, reason: s.haltedReason, by: s.haltedBy, at: s.haltedAt, entriesPaused: s.entriesPaused };
  if (state === 'reducing') return { state, reason: s.entriesPausedReason, by: s.entriesPausedBy, at: s.entriesPausedAt, entriesPaused: true };
  return { state, reason: null, by: null, at: null, entriesPaused: false };
}

/** What each state means, in the words every surface uses. */
export const TRADING_STATE_MEANING: Record<TradingState, string> = {
  active: 'entries and exits',
  reducing: 'no new entries; exits and stop-losses continue',
  halted: 'no orders at all (kill switch)',
};

/** Who halts for reconciliation with Kraken (services/reconcile/start/run.ts): its halt is no kill. */
export const RECONCILIATION_HALT_ACTOR = 'system:reconciliation';

/**
 * The authors whose halt something automatic lifts (reconciliation's, when it passes): any other halt
 * lifts only by an operator's resume. A halt that must wait for an operator (a kill's, the engine's)
 * takes one of these over, so that the automatic lift never lifts it.
 */
export const AUTOMATICALLY_LIFTED_BY: readonly string[] = [RECONCILIATION_HALT_ACTOR];

/** What the state means, a halt named by its cause: reconciliation's own, or the kill switch. */
export function tradingStateMeaning(info: Pick<TradingStateInfo, 'state' | 'by'>): string {
  if (info.state === 'halted' && info.by === RECONCILIATION_HALT_ACTOR) return 'no orders at all (reconciliation with Kraken: halted until it passes)';
  return TRADING_STATE_MEANING[info.state];
}

/** One line for a terminal: `reducing (no new entries; …) — paused by cli:ops at 2026-…: reason`. */
export function tradingStateText(info: TradingStateInfo): string {
  const parts = [`${info.state} (${tradingStateMeaning(info)})`];
  const who = [info.by ? `by ${info.by}` : '', info.at ? `at ${info.at.toISOString()}` : ''].filter(Boolean).join(' ');
  if (who || info.reason) parts.push(`— ${info.state === 'halted' ? 'halted' : 'paused'}${who ? ` ${who}` : ''}${info.reason ? `: ${info.reason}` : ''}`);
  if (info.state === 'halted' && info.entriesPaused) parts.push('(entries also paused: reducing after a resume)');
  return parts.join(' ');
}

/**
 * What lifts a halt, in the words of the surface that says it (the terminal's commands or Slack's):
 * reconciliation's halt lifts by itself once reconciliation passes; a kill's needs a resume, after
 * an audit since the halt and a done incident checklist. Said first wherever a pause or an unpause
 * meets a halt, which comes first.
 */
export function haltLiftText(haltedBy: string | null, surface: 'cli' | 'slack'): string {
  if (haltedBy === RECONCILIATION_HALT_ACTOR) {
    return surface === 'cli'
      ? 'The halt lifts by itself once reconciliation with Kraken passes: `ctb reconcile` lists what is unexplained and how to resolve each.'
      : 'The halt lifts by itself once reconciliation with Kraken passes (`ctb reconcile` lists what is unexplained).';
  }
  return surface === 'cli'
    ? '`ctb resume` lifts the halt, once an audit has passed since the halt (`ctb audit`) and the incident checklist is done (`ctb incident`).'
    : '`/mode resume` lifts the halt, once an audit has passed since the halt (`/golive audit`) and the incident checklist is done.';
}
