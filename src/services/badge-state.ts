// Owns what the paper/LIVE badge on every Slack message says: the mode the running engine trades in
// (the rule of `ctb mode status`: bot_state and the engine lease, so the holder's arming, never the
// answering process's own), the halt and the trading state, bounded in time. A database outage must
// not stop a kill's answer, so it degrades to "mode unknown" instead of failing. Badges asked for
// together share one read (sharedBadgeRead): under a burst of commands each reply read the same rows
// on its own.
import type { Config } from '../config/env.js';
import type { Db } from '../db/client.js';
import type { BotState } from '../db/schema/index.js';
import type { Logger } from '../logger.js';
import { tradingStateOf, type TradingState } from '../domain/trading-state.js';
import { holderView, type EngineHolderView } from '../domain/engine-holder.js';
import { readLease } from '../db/queries/engine-lease.js';
import { getBotState } from './bot-state.js';
import { engineMode, type EngineMode } from '../domain/engine-mode.js';
import { withDeadline } from './kill/deadline.js';

export interface BadgeFacts {
  /** The mode the engine trades in (engineMode: unknown while a stale armed holder may resume LIVE trading), or null when it could not be read. */
  mode: EngineMode | null;
  halted: boolean;
  /** active | reducing | halted; absent when it could not be read. */
  tradingState?: TradingState;
}

export interface BadgeDeps {
  db: Db;
  config: Pick<Config, 'KILL_DB_TIMEOUT' | 'ENGINE_LEASE_TTL'>;
  logger: Logger;
}

/**
 * The badge for a bot_state row and the engine's holder: live only while a running engine is armed
 * and the row says live, unknown while a stale holder that was so may wake and trade LIVE, as
 * `ctb mode status` says it (engineMode), whichever process answers.
 */
export function badgeStateOf(state: Pick<BotState, 'mode' | 'halted' | 'entriesPaused'>, engine: EngineHolderView): BadgeFacts {
  return { mode: engineMode(state, engine), halted: state.halted, tradingState: tradingStateOf(state) };
}

/** What a badge is read from: bot_state and the engine's holder. */
interface BadgeRead {
  state: BotState;
  engine: EngineHolderView;
}

interface Reads {
  /** The read on its way, and when it left (performance.now()). */
  current?: { state: Promise<BadgeRead>; startedAt: number };
  /** The read that starts when the current one ends, shared by everyone who asked meanwhile. */
  next?: Promise<BadgeRead>;
}
const reads = new WeakMap<Db, Reads>();

async function readBadge(db: Db, leaseTtl: number): Promise<BadgeRead> {
  const [state, { lease, dbNow }] = await Promise.all([getBotState(db), readLease(db)]);
  return { state, engine: holderView(lease, dbNow, leaseTtl) };
}

/**
 * bot_state and the engine's holder for a badge, one read shared by the callers that ask while it
 * is on its way. A read never answers a caller who asked after it left: the caller's own request may have written the
 * row in between (a /pause, a /mode paper, then their reply), so such callers wait for it to end
 * and share the next one, which leaves after all of them asked. At most one read is on its way and
 * one waiting per database. A read older than `staleMs` (a hung connection) is not waited for:
 * the next one leaves at once, as each caller's own read did before.
 */
export function sharedBadgeRead(db: Db, staleMs: number, leaseTtl: number): Promise<BadgeRead> {
  let r = reads.get(db);
  if (!r) reads.set(db, (r = {}));
  const slot = r;
  const start = (): Promise<BadgeRead> => {
    const state = readBadge(db, leaseTtl);
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

/** The latest badge each database answered with in this process, and when (for an alert raised without it). */
const lastRead = new WeakMap<Db, { facts: BadgeFacts; at: Date }>();

/**
 * The badge as this process knows it without asking the database: its latest read, halted as well
 * when a kill latched in this process since (`latched`). Never read here: paper when IS_LIVE is unset
 * (`isLive` false: this process cannot trade live), else mode null.
 */
export function badgeKnownNow(db: Db, latched: boolean, isLive = true): BadgeFacts & { readAt?: string } {
  const last = lastRead.get(db);
  const halted = latched || (last?.facts.halted ?? false);
  const tradingState = halted ? 'halted' : last?.facts.tradingState;
  return { mode: last?.facts.mode ?? (isLive ? null : 'paper'), halted, ...(tradingState ? { tradingState } : {}), ...(last ? { readAt: last.at.toISOString() } : {}) };
}

export async function readBadgeState(ctx: BadgeDeps): Promise<BadgeFacts> {
  try {
    // A stalled database never rejects by itself: bound the wait so a kill's answer still goes out.
    const read = sharedBadgeRead(ctx.db, ctx.config.KILL_DB_TIMEOUT, ctx.config.ENGINE_LEASE_TTL);
    const { state, engine } = await withDeadline(read, ctx.config.KILL_DB_TIMEOUT, 'the database (badge)');
    const facts = badgeStateOf(state, engine);
    lastRead.set(ctx.db, { facts, at: new Date() });
    return facts;
  } catch (err) {
    ctx.logger.warn({ err }, 'could not read bot_state or the engine lease for the message badge');
    return { mode: null, halted: false };
  }
}
