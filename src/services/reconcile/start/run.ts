// Owns one reconciliation of the live engine against Kraken (at start, after a takeover, after Kraken
// comes back, when the periodic open-orders look finds an order it cannot explain, when an operator
// resolves a difference): resolve pending intents first, then compare
// Kraken's open orders and its trades since bot_state.reconciled_through with the intents and the
// ledger. Nothing unexplained: reconciled_through advances and a halt this reconciliation placed is
// lifted. Anything unexplained fails closed: reconciliation_blocked with the differences, halted with
// reason "reconciliation", and a critical alert listing them. A block with differences, whoever wrote
// it, is lifted only by an operator's reconciliation (adopt, cancel, `ctb reconcile`): any other run
// that finds nothing now (the halt's own cancel removed the order) leaves it. Read-only on Kraken.
import { ALERTED } from '../../../alerts/log-source.js';
import type { Clock } from '../../../clock.js';
import type { Db } from '../../../db/client.js';
import { readBotStateRow } from '../../../db/queries/bot-state-row.js';
import { earliestLiveIntentAt, liveFillsSinceOrOf, liveIntentsFor } from '../../../db/queries/reconcile-ledger.js';
import { haltLiveAndBlock, liftHaltPlacedBy, markReconciledThrough, markReconciliationBlocked, placeHaltIfRunning } from '../../../db/queries/reconcile-state.js';
import type { BotState } from '../../../db/schema/index.js';
import type { RecordOrderDeps } from '../../../engine/order-executor.js';
import { resolveIntents, type ResolutionReport } from '../../../engine/recovery.js';
import type { ExchangeProvider } from '../../../exchange/provider.js';
import { RECONCILIATION_HALT_ACTOR } from '../../../domain/trading-state.js';
import { AppError } from '../../../errors.js';
import type { Exchange, ExchangeTrade, OrderState } from '../../../exchange/types.js';
import { getBotState } from '../../bot-state.js';
import { fetchAllTrades } from '../fetch-exchange-trades.js';
import type { LedgerFill } from '../match.js';
import { compareWithKraken, type Difference, type IntentView } from './differences.js';

/** Who halts for reconciliation: a halt by anyone else (a kill) is never lifted here. */
export const RECONCILIATION_ACTOR = RECONCILIATION_HALT_ACTOR;
export const RECONCILIATION_REASON = 'reconciliation';
/** Trades this close to the run may not be in Kraken's history yet: the next run looks at them again. */
const SETTLE_MS = 60_000;
/** Kraken's `start` is exclusive and in seconds: look a little before the reconciled point. */
const OVERLAP_MS = 60_000;

/** What a reconciliation needs: the order path's ports (pending intents are resolved through it first) and Kraken. */
export type ReconciliationDeps = RecordOrderDeps & { exchanges: ExchangeProvider };

/** open_orders: the engine's periodic look at Kraken's open orders found one it cannot explain. */
export type ReconciliationCause = 'start' | 'takeover' | 'reconnect' | 'mode_live' | 'open_orders' | 'operator' | 'retry';

export interface ReconciliationDetails {
  at: string;
  cause: ReconciliationCause;
  /** Kraken's history was compared from here. */
  since: string;
  /** True while nothing has been compared yet (a takeover waiting for Kraken). */
  pending?: boolean;
  takenOverFrom?: string | null;
  differences: Difference[];
}

export interface ReconciliationRun {
  ok: boolean;
  at: string;
  cause: ReconciliationCause;
  since: string;
  reconciledThrough: string | null;
  openOrders: number;
  trades: number;
  differences: Difference[];
  resolution: ResolutionReport;
  /** What this run did to the halt: placed it (differences), lifted its own, or left it alone. */
  halt: 'placed' | 'lifted' | 'unchanged';
  /** Found nothing unexplained, but a block stands that only an operator lifts: left as it is (ok is false). */
  heldForOperator: boolean;
  /** What Kraken answered (for adopt, which records from it); not part of any report. */
  observed: { openOrders: OrderState[]; trades: ExchangeTrade[] };
}

async function fillsFor(ctx: { db: Db }, since: Date, tradeIds: string[], orderIds: string[]): Promise<LedgerFill[]> {
  const rows = await liveFillsSinceOrOf(ctx.db, since, tradeIds, orderIds);
  return rows.map((r) => ({
    id: r.id, clientOrderId: r.clientOrderId, exchangeTradeId: r.exchangeTradeId, exchangeOrderId: r.exchangeOrderId,
    symbol: r.symbol, side: r.side, quantity: r.quantity, price: r.price, fee: r.fee, filledAtMs: r.filledAt.getTime(),
  }));
}

const key = (d: Pick<Difference, 'kind' | 'id'>) => `${d.kind}:${d.id}`;

function sameDifferences(a: Difference[], b: Difference[] | undefined): boolean {
  if (!b || a.length !== b.length) return false;
  const seen = new Set(b.map(key));
  return a.every((d) => seen.has(key(d)));
}

/**
 * A block that lists differences (not a takeover waiting for its first look): a person decides about
 * it, even once the differences went away by themselves.
 */
export function blockHeldForOperator(state: Pick<BotState, 'reconciliationBlocked' | 'reconciliationDetails'>): boolean {
  return state.reconciliationBlocked && (state.reconciliationDetails as ReconciliationDetails | null)?.pending !== true;
}

/** record false: compare only — no block, halt or reconciled point written (an adopt looking before it decides). */
export async function runReconciliation(
  ctx: ReconciliationDeps, opts: { cause: ReconciliationCause; exchange?: Exchange; record?: boolean; /** The operator whose action this run follows (shown where the block's alert is resolved). */ by?: string },
): Promise<ReconciliationRun> {
  const exchange = opts.exchange ?? ctx.exchanges.kraken();
  // An intent whose outcome is unknown would look like an unexplained order: resolve them first.
  const resolution = await resolveIntents({ ctx, mode: 'live', exchange });
  if (resolution.unreachable > 0) {
    throw new AppError('retryable', 'intents_unresolved', `${resolution.unreachable} order intent(s) could not be resolved against Kraken yet; reconciliation waits for them.`);
  }
  const before = await getBotState(ctx.db);
  const startedAt = ctx.clock.now();
  const since = before.reconciledThrough ?? (await earliestLiveIntentAt(ctx.db)) ?? startedAt;
  const openOrders = await exchange.fetchOpenOrders();
  const { trades } = await fetchAllTrades(exchange, { since: new Date(since.getTime() - OVERLAP_MS) });
  const orderIds = [...new Set([...openOrders.map((o) => o.exchangeOrderId), ...trades.map((t) => t.orderId)])];
  const clientIds = openOrders.map((o) => o.clientOrderId).filter((c) => c !== '');
  const [intents, ledger] = await Promise.all([
    liveIntentsFor(ctx.db, orderIds, clientIds) satisfies Promise<IntentView[]>,
    fillsFor(ctx, since, trades.map((t) => t.id), trades.map((t) => t.orderId)),
  ]);
  const differences = compareWithKraken({ openOrders, trades, intents, fills: ledger });
  const base = {
    at: startedAt.toISOString(), cause: opts.cause, since: since.toISOString(), openOrders: openOrders.length, trades: trades.length, differences, resolution,
    observed: { openOrders, trades }, heldForOperator: false,
  };
  const unchanged = { reconciledThrough: before.reconciledThrough?.toISOString() ?? null, halt: 'unchanged' as const };
  if (opts.record === false) return { ...base, ...unchanged, ok: differences.length === 0 };

  if (differences.length === 0 && opts.cause !== 'operator' && blockHeldForOperator(before)) {
    ctx.logger.warn({ cause: opts.cause }, 'reconciliation with Kraken finds nothing unexplained now, but the block stays until an operator lifts it (ctb reconcile)');
    return { ...base, ...unchanged, ok: false, heldForOperator: true };
  }
  if (differences.length === 0) {
    const through = new Date(Math.max(since.getTime(), startedAt.getTime() - SETTLE_MS));
    const { lifted, standing } = await recordPassed(ctx, through);
    // A halt that is not reconciliation's (a kill's, the engine's, an operator's) stays: said, so nobody reads the pass as trading again.
    const halt = lifted ? '; the reconciliation halt is lifted'
      : standing ? `; the bot stays halted by ${standing.by ?? 'an unrecorded actor'}${standing.reason ? ` (${standing.reason})` : ''}, a halt reconciliation does not lift` : '';
    if (before.reconciliationBlocked || lifted) {
      ctx.logger.warn({ cause: opts.cause, lifted }, `reconciliation with Kraken passes${halt}`);
      await ctx.alerts.raise({
        source: 'reconciliation', severity: 'info', fingerprint: 'reconciliation-passed',
        title: `Reconciliation with Kraken passes: nothing unexplained${halt}`,
        details: { cause: opts.cause, reconciledThrough: through.toISOString() },
      }).catch((err: unknown) => ctx.logger.error({ err }, 'could not raise the reconciliation alert'));
      // The block is gone: its critical alert is resolved, which stops its escalation.
      await ctx.alerts.resolve?.({
        fingerprint: 'reconciliation-blocked', by: opts.by ?? RECONCILIATION_ACTOR,
        note: `reconciliation with Kraken passes (${opts.cause}): nothing unexplained${halt}`,
      }).catch((err: unknown) => ctx.logger.error({ err }, 'could not resolve the reconciliation alert'));
    }
    return { ...base, ok: true, reconciledThrough: through.toISOString(), halt: lifted ? 'lifted' : 'unchanged' };
  }

  const details: ReconciliationDetails = { at: base.at, cause: opts.cause, since: base.since, differences };
  const placed = await recordBlocked(ctx, details);
  const previous = (before.reconciliationDetails as ReconciliationDetails | null)?.differences;
  if (!sameDifferences(differences, previous)) {
    ctx.logger.error({ ...ALERTED, cause: opts.cause, differences: differences.map((d) => `${d.kind} ${d.id}`) }, 'reconciliation with Kraken found differences it cannot explain: no strategy runs');
    await ctx.alerts.raise({
      source: 'reconciliation', severity: 'critical', fingerprint: 'reconciliation-blocked',
      title: `Reconciliation with Kraken found ${differences.length} unexplained difference(s): trading halted until each is resolved (ctb reconcile)`,
      details: { cause: opts.cause, since: base.since, differences: differences.slice(0, 20).map((d) => `${d.kind} ${d.id}: ${d.summary}`) },
    }).catch((err: unknown) => ctx.logger.error({ err }, 'could not raise the reconciliation alert'));
  }
  return { ...base, ...unchanged, ok: false, halt: placed ? 'placed' : 'unchanged' };
}

/**
 * Advances reconciled_through, clears the block, and lifts a halt only if reconciliation placed it;
 * a halt left standing (someone else's) as the row holds it after.
 */
async function recordPassed(ctx: { db: Db; clock: Clock }, through: Date): Promise<{ lifted: boolean; standing: { by: string | null; reason: string | null } | null }> {
  const now = ctx.clock.now();
  return ctx.db.transaction(async (tx) => {
    await markReconciledThrough(tx, through, now);
    if (await liftHaltPlacedBy(tx, RECONCILIATION_ACTOR, now)) return { lifted: true, standing: null };
    const row = await readBotStateRow(tx);
    return { lifted: false, standing: row?.halted ? { by: row.haltedBy, reason: row.haltedReason } : null };
  });
}

/** Marks the block with its differences and halts (unless something else already halted the bot). */
async function recordBlocked(ctx: { db: Db; clock: Clock }, details: ReconciliationDetails): Promise<boolean> {
  const now = ctx.clock.now();
  return ctx.db.transaction(async (tx) => {
    await markReconciliationBlocked(tx, details as unknown as Record<string, unknown>, now);
    return placeHaltIfRunning(tx, { reason: RECONCILIATION_REASON, actor: RECONCILIATION_ACTOR, now });
  });
}

/**
 * haltForTakeover for an engine that took the lease unarmed and withdraws the live approval, inside
 * that withdrawal's transaction (bot_state says paper there already, so haltLiveAndBlock would not act):
 * the dead predecessor traded on that approval, so its live work is held for reconciliation the same
 * way — halted and blocked — unless something else halts the bot. Whether it placed the halt.
 */
export async function holdTakeoverForReconciliation(tx: Db, now: Date, takenOverFrom: string): Promise<boolean> {
  const details: ReconciliationDetails = { at: now.toISOString(), cause: 'takeover', since: now.toISOString(), pending: true, takenOverFrom, differences: [] };
  const placed = await placeHaltIfRunning(tx, { reason: RECONCILIATION_REASON, actor: RECONCILIATION_ACTOR, now });
  if (placed) await markReconciliationBlocked(tx, details as unknown as Record<string, unknown>, now);
  return placed;
}

/**
 * An armed engine that took the lease from a dead predecessor starts halted: whatever the database
 * says (a kill may have been lost with that process's disk), nothing trades live until a
 * reconciliation passes. Only while the database asks for live and nothing else halts the bot.
 */
export async function haltForTakeover(ctx: { db: Db; clock: Clock }, takenOverFrom: string): Promise<BotState | null> {
  const now = ctx.clock.now();
  const details: ReconciliationDetails = { at: now.toISOString(), cause: 'takeover', since: now.toISOString(), pending: true, takenOverFrom, differences: [] };
  return haltLiveAndBlock(ctx.db, {
    reason: RECONCILIATION_REASON, actor: RECONCILIATION_ACTOR, now, details: details as unknown as Record<string, unknown>,
  });
}
