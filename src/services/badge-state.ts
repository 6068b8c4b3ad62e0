// Owns what the paper/LIVE badge on every Slack message says: the effective mode, the halt and the
// trading state, read from bot_state and bounded in time. A database outage must not stop a kill's
// answer, so it degrades to "mode unknown" instead of failing. Badges asked for together share one
// read (sharedBotState): under a burst of commands each reply read the same row on its own.
import type { Config } from '../config/env.js';
import type { Db } from '../db/client.js';
import type { BotState } from '../db/schema/index.js';
import type { Logger } from '../logger.js';
import { tradingStateOf, type TradingState } from '../domain/trading-state.js';
import { effectiveMode, getBotState } from './bot-state.js';
import { withDeadline } from './kill/deadline.js';

export interface BadgeFacts {
  /** The mode the engine actually trades in (effectiveMode), or null when it could not be read. */
  mode: 'paper' | 'live' | null;
  halted: boolean;
  /** active | reducing | halted; absent when it could not be read. */
  tradingState?: TradingState;
}

export interface BadgeDeps {
  db: Db;
  config: Pick<Config, 'KILL_DB_TIMEOUT' | 'IS_LIVE'>;
  logger: Logger;
}

/** The badge for a bot_state row as this process sees it (its own arming decides live or paper). */
export function badgeStateOf(state: Pick<BotState, 'mode' | 'halted' | 'entriesPaused'>, armed: boolean): BadgeFacts {
  return { mode: effectiveMode(state, armed), halted: state.halted, tradingState: tradingStateOf(state) };
}

interface Reads {
  /** The read on its way, and when it left (performance.now()). */
  current?: { state: Promise<BotState>; startedAt: number };
  /** The read that starts when the current one ends, shared by everyone who asked meanwhile. */
  next?: Promise<BotState>;
}
const reads = new WeakMap<Db, Reads>();

/**
 * bot_state for a badge, one read shared by the callers that ask while it is on its way. A read
 * never answers a caller who asked after it left: the caller's own request may have written the
 * row in between (a /pause, a /mode paper, then their reply), so such callers wait for it to end
 * and share the next one, which leaves after all of them asked. At most one read is on its way and
 * one waiting per database. A read older than `staleMs` (a hung connection) is not waited for:
 * the next one leaves at once, as each caller's own read did before.
 */
export function sharedBotState(db: Db, staleMs: number): Promise<BotState> {
  let r = reads.get(db);
  if (!r) reads.set(db, (r = {}));
  const slot = r;
  const start = (): Promise<BotState> => {
    const state = getBotState(db);
    const current = { state, startedAt: performance.now() };
    slot.current = current;
    const settled = () => {
      if (slot.current === current) slot.current = undefined;
    };
    state.then(settled, settled);
    return state;
  };
  if (!slot.current) return start();
  if (performance.now() - slot.current.startedAt > staleMs) {
    slot.next = undefined;
    return start();
  }
  if (slot.next) return slot.next;
  const next = slot.current.state
    .then(
      () => undefined,
      () => undefined,
    )
    .then(() => {
      if (slot.next === next) slot.next = undefined;
      return start();
    });
  slot.next = next;
  return next;
}

export async function readBadgeState(ctx: BadgeDeps): Promise<BadgeFacts> {
  try {
    // A stalled database never rejects by itself: bound the wait so a kill's answer still goes out.
    const state = await withDeadline(sharedBotState(ctx.db, ctx.config.KILL_DB_TIMEOUT), ctx.config.KILL_DB_TIMEOUT, 'the database (badge)');
    return badgeStateOf(state, ctx.config.IS_LIVE);
  } catch (err) {
    ctx.logger.warn({ err }, 'could not read bot_state for the message badge');
    return { mode: null, halted: false };
  }
}
