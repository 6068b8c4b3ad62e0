// Owns what the paper/LIVE badge on every Slack message says: the effective mode, the halt and the
// trading state, read from bot_state once per request and bounded in time. A database outage must
// not stop a kill's answer, so it degrades to "mode unknown" instead of failing.
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

export async function readBadgeState(ctx: BadgeDeps): Promise<BadgeFacts> {
  try {
    // A stalled database never rejects by itself: bound the wait so a kill's answer still goes out.
    const state = await withDeadline(getBotState(ctx.db), ctx.config.KILL_DB_TIMEOUT, 'the database (badge)');
    return badgeStateOf(state, ctx.config.IS_LIVE);
  } catch (err) {
    ctx.logger.warn({ err }, 'could not read bot_state for the message badge');
    return { mode: null, halted: false };
  }
}
