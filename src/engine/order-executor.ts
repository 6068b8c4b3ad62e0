// Owns one order's path, under the order lock: re-read bot_state (never trade while halted; no
// entries while paused), write the intent (committed before anything is sent), check a live entry
// can be paid for, send it, book the fills the exchange lists and update the portfolio. What the
// exchange says decides what happens next: a definite refusal → the intent is closed as rejected;
// anything else (timeout, an answer that cannot be read) → the outcome is unknown, so the intent stays
// in flight and the fill follower resolves it by client order id; auth/permission or halt → the bot
// halts and pages. Every order that fails or ends unknown raises a warning alert at once. A live order
// carries Kraken's deadline (send-deadline.ts) and is not sent once too little of it is left.
import { ALERTED } from '../alerts/log-source.js';
import type { Config } from '../config/env.js';
import type { Database } from '../db/client.js';
import type { OrderIntent } from '../db/schema/index.js';
import { isUnsettled } from '../domain/order-status.js';
import { isAppError } from '../errors.js';
import { NOT_SENT_LATE } from '../exchange/send-by.js';
import { ctbMetrics } from '../metrics/instruments.js';
import { venueWideRefusal } from '../exchange/errors.js';
import type { Exchange, OrderState } from '../exchange/types.js';
import type { FeedKind } from '../market/types.js';
import { ZERO, dec, str, type Decimal } from '../money.js';
import { effectiveMode, getBotState, type Mode } from '../services/bot-state.js';
import { alreadyHaltedText, engineHaltedText, haltByEngine } from '../services/engine-halt.js';
import { isHaltLatched, type KillPorts } from '../services/kill/runtime.js';
import type { Logger } from '../logger.js';
import type { AlertSink } from '../alerts/types.js';
import { engineMetrics } from './engine-metrics.js';
import { checkFunds, type FundsCheckDeps } from './funds-check.js';
import { inFlightOf } from './in-flight.js';
import { gateIntent, noteCancel, type GateRefusal, type GateRuntimeDeps } from './gate-runtime.js';
import { markIntent, writeIntent } from './ledger/intents.js';
import { refusedByLease, type IntentLease, type LeaseRefusal } from './ledger/intent-lease.js';
import type { CapitalAtClose } from './ledger/capital-buffer.js';
import { bookedOutcome, recordExecution, type Execution, type RecordOutcome } from './ledger/record-execution.js';
import { withOrderLock } from './order-lock.js';
import type { Portfolio } from './portfolio.js';
import { sendByMonoFromNow, sendWindow } from './send-deadline.js';
import { logExecution, logOrderSent } from './trade-log.js';

export interface OrderRequestSpec {
  purpose: 'entry' | 'exit';
  strategy: string;
  symbol: string;
  side: 'buy' | 'sell';
  quantity: Decimal;
  tradeId?: number;
  reason: string;
  /** The price the order was sized at (the candle's close): what a live entry must be able to pay. */
  referencePrice?: Decimal;
}

export type OrderOutcome =
  | { kind: 'recorded'; outcome: RecordOutcome }
  /** lease_lost: the engine lease's row names another holder, or is gone (intent-lease.ts): this engine stops trading. */
  | { kind: 'skipped'; reason: 'halted' | 'entries_paused' | 'mode_changed' }
  | ({ kind: 'skipped'; reason: 'lease_lost' } & LeaseRefusal)
  /** Refused before anything was sent: the account cannot pay for it, or live on a feed that is not a market. */
  | { kind: 'refused'; message: string }
  /** venueWide: Kraken refused for a reason of the whole venue (rate_limited, exchange_unavailable, exchange_maintenance). */
  | { kind: 'rejected'; message: string; venueWide?: string }
  | { kind: 'unknown'; message: string }
  | { kind: 'halted'; message: string }
  | GateRefusal;

/** Test hooks for the crash test: pause between the steps an order goes through. */
export interface OrderHooks {
  afterIntent?: (intent: OrderIntent) => Promise<void> | void;
  afterSend?: (intent: OrderIntent, order: OrderState) => Promise<void> | void;
}

/** What booking an exchange answer needs: the gate's members (a cancel is counted there) and the ledger's settings. */
export type RecordOrderDeps = GateRuntimeDeps & { config: Pick<Config, 'QUOTE_CURRENCY' | 'CAPITAL_RESERVE_PCT'> };

/**
 * What one order's path needs beside that: the funds check, the order lock's database, this process's
 * halt latch, and whether it is armed.
 */
export type OrderPathDeps = RecordOrderDeps & FundsCheckDeps & {
  database: Database;
  kill: KillPorts;
  config: Pick<Config, 'IS_LIVE'>;
};

export interface ExecutorDeps {
  ctx: OrderPathDeps;
  mode: Mode;
  feed: FeedKind;
  exchange: Exchange;
  portfolio: Portfolio;
  /** Whose engine lease its intents are written under (intent-lease.ts): the engine's choice, never a default. */
  lease: IntentLease;
  hooks?: OrderHooks | undefined;
}

export async function executeOrder(deps: ExecutorDeps, spec: OrderRequestSpec): Promise<OrderOutcome> {
  const { ctx } = deps;
  return withOrderLock(ctx, async () => {
    // A kill latches this process before it can write the halt: honour both.
    if (isHaltLatched(ctx)) return { kind: 'skipped', reason: 'halted' };
    // The last line behind the start and switch checks: a live order is never priced from history.
    if (deps.mode === 'live' && deps.feed !== 'kraken') {
      return { kind: 'refused', message: `live orders are never priced from the ${deps.feed} feed` };
    }
    // bot_state (and the engine lease) are checked in the same statement that writes the intent:
    // never while halted, never once another engine took the lease over. The fence moment is read
    // before that statement: a live order's send deadline counts from it (send-deadline.ts), fixed
    // then as an absolute moment on the monotonic clock, which the adapter writes for Kraken.
    const fencedAt = ctx.clock.now();
    const sendByMono = sendByMonoFromNow();
    const intent = await writeIntent(ctx.db, {
      mode: deps.mode, feed: deps.feed, strategy: spec.strategy, symbol: spec.symbol, side: spec.side, purpose: spec.purpose,
      type: 'market', quantity: str(spec.quantity), ...(spec.tradeId !== undefined ? { tradeId: spec.tradeId } : {}), at: fencedAt,
    }, { armed: ctx.config.IS_LIVE, lease: deps.lease });
    if (!intent) {
      const byLease = await refusedByLease(ctx, deps.lease);
      if (byLease) return { kind: 'skipped', reason: 'lease_lost', ...byLease };
      const state = await getBotState(ctx.db);
      if (state.halted) return { kind: 'skipped', reason: 'halted' };
      if (effectiveMode(state, ctx.config.IS_LIVE) !== deps.mode) return { kind: 'skipped', reason: 'mode_changed' };
      return { kind: 'skipped', reason: 'entries_paused' };
    }
    // The pre-trade gate (gate-runtime.ts): a refused intent is closed as refused and nothing is sent.
    const refusal = await gateIntent(deps, intent, spec.referencePrice);
    if (refusal) return refusal;
    await deps.hooks?.afterIntent?.(intent);
    if (deps.mode === 'live' && spec.purpose === 'entry') {
      const funds = await checkFunds({ ctx, exchange: deps.exchange, portfolio: deps.portfolio, intent, referencePrice: spec.referencePrice });
      if (!funds.ok) return refuse(deps, intent, funds.reason);
    }
    // The gate and the funds check are calls of their own (seconds each on a slow Kraken): a halt
    // latched meanwhile stops the order here, before it is sent, and closes its intent at once, so a
    // kill's wait for orders on their way ends instead of outlasting it.
    if (isHaltLatched(ctx)) {
      await markIntent(ctx.db, { id: intent.id, status: 'refused', error: 'halted before it was sent', at: ctx.clock.now() });
      return { kind: 'skipped', reason: 'halted' };
    }
    // The fence held when the intent was written, not necessarily now: a live order reaches Kraken
    // only before its deadline, so that once recovery's grace has passed, an intent Kraken does not
    // list was never placed — also for a process paused here while another engine took over.
    const within = deps.mode === 'live' ? sendWindow(fencedAt, ctx.clock.now()) : null;
    if (within && 'notSent' in within) return refuse(deps, intent, within.notSent);
    let order: OrderState;
    try {
      order = await deps.exchange.createOrder({
        clientOrderId: intent.clientOrderId, symbol: spec.symbol, side: spec.side, type: 'market', quantity: intent.quantity,
        ...(within ? { sendByMono } : {}),
        // Accepted by the venue: no longer pending, so a kill's fence does not wait for (or report) it
        // while the read-back queues behind the rate limit.
        // Forward only: a streamed execution or the fill follower may have booked it already, and
        // that outcome stays (markIntent keeps Kraken's order id on it all the same).
        onAccepted: async (exchangeOrderId) => {
          await markIntent(ctx.db, { id: intent.id, status: 'sent', exchangeOrderId, at: ctx.clock.now() });
        },
      });
      ctbMetrics(ctx.metrics).ordersSent.inc({ mode: deps.mode, side: spec.side });
      logOrderSent(ctx.logger, { ...spec, mode: deps.mode, quantity: intent.quantity, clientOrderId: intent.clientOrderId });
    } catch (err) {
      // The adapter's own check right before the request would leave (after its market load): not sent.
      if (isAppError(err) && err.code === NOT_SENT_LATE) return refuse(deps, intent, err.message);
      const kind = isAppError(err) ? err.kind : 'unknown';
      ctbMetrics(ctx.metrics).exchangeErrors.inc({ kind });
      return sendFailed(deps, intent, err, spec.referencePrice);
    }
    await deps.hooks?.afterSend?.(intent, order);
    const outcome = await recordOrder(deps, intent, order, { ...(spec.referencePrice ? { referencePrice: spec.referencePrice } : {}) });
    return { kind: 'recorded', outcome };
  }, { crossProcess: deps.mode === 'live' });
}

async function refuse(deps: ExecutorDeps, intent: OrderIntent, reason: string): Promise<OrderOutcome> {
  const { ctx } = deps;
  await markIntent(ctx.db, { id: intent.id, status: 'refused', error: reason, at: ctx.clock.now() });
  const details = { clientOrderId: intent.clientOrderId, symbol: intent.symbol, side: intent.side, purpose: intent.purpose, mode: intent.mode, reason };
  ctx.logger.warn(details, 'order refused before it was sent');
  await ctx.alerts.raise({ source: 'trade_failure', severity: 'warning', title: `Order refused before sending: ${reason}`, fingerprint: `order_refused:${intent.symbol}`, details });
  return { kind: 'refused', message: reason };
}

/**
 * Books an exchange answer for an intent and applies it to the portfolio once, when the intent
 * becomes final; while its fills are not all booked it is tracked as in flight. `cashSettled`: the
 * portfolio's cash was read from the exchange after this fill (restart resolution), so the fill's
 * cash effect is already in it and only the positions change.
 */
export async function recordOrder(
  deps: { ctx: RecordOrderDeps; portfolio: Portfolio }, intent: OrderIntent, order: OrderState, opts: { cashSettled?: boolean; referencePrice?: Decimal } = {},
): Promise<RecordOutcome> {
  const { ctx, portfolio } = deps;
  const settled = opts.cashSettled ?? false;
  const outcome = await recordExecution(ctx.db, {
    intent, order, quoteCurrency: ctx.config.QUOTE_CURRENCY, reservePct: ctx.config.CAPITAL_RESERVE_PCT, at: ctx.clock.now(),
    capitalAtClose: (execution) => capitalAtClose(deps, intent, execution, settled),
  });
  if (outcome.intentStatus === 'open') {
    const known = portfolio.inFlight.get(intent.id);
    portfolio.track(inFlightOf(intent, order, opts.referencePrice ?? known?.referencePrice ?? undefined));
    return outcome;
  }
  await applyRecorded(deps, intent, order, outcome, settled);
  return outcome;
}

/** The capital right after `intent`'s execution closes its trade, for capital_buffer (capital-buffer.ts). */
export function capitalAtClose(deps: { ctx: Pick<RecordOrderDeps, 'prices'>; portfolio: Portfolio }, intent: OrderIntent, execution: Execution, settled: boolean): CapitalAtClose {
  const { ctx, portfolio } = deps;
  const cashAfter = settled ? portfolio.cash : portfolio.cash.plus(execution.quantity.times(execution.averagePrice)).minus(execution.feeQuote);
  const others = portfolio.exactEquity(ctx.prices, intent.tradeId ?? undefined).minus(portfolio.cash);
  // A partial exit leaves part of this position open: it is still equity (at the fill price).
  const rest = dec(intent.quantity).minus(execution.quantity);
  const kept = rest.gt(0) ? rest.times(execution.averagePrice) : ZERO;
  // Uncommitted: less what the other orders in flight hold or already spent.
  const committed = portfolio.committed(ctx.prices, intent.id) ?? ZERO;
  return { uncommittedQuote: cashAfter.minus(committed), equity: cashAfter.plus(others).plus(kept) };
}

/**
 * A final intent's recorded outcome applied once: out of flight, into the portfolio (when this
 * record moved it to final), logged, a partial exit alerted, a cancel counted for the gate.
 */
export async function applyRecorded(
  deps: { ctx: RecordOrderDeps; portfolio: Portfolio }, intent: OrderIntent, order: OrderState, outcome: RecordOutcome, settled: boolean,
): Promise<void> {
  const { ctx, portfolio } = deps;
  portfolio.settle(intent.id);
  if (!outcome.applied) return;
  if (intent.mode === 'live') engineMetrics(ctx.metrics).liveBooked.inc({ via: order.via ?? 'poll' });
  if (outcome.execution) logExecution(ctx.logger, intent, outcome.execution, outcome.trade, ctx.config.QUOTE_CURRENCY);
  if (outcome.execution && outcome.trade) {
    const cash = portfolio.cash;
    if (intent.purpose === 'entry') portfolio.applyEntry(outcome.trade, outcome.execution);
    else if (outcome.partialExit) portfolio.applyPartialExit(outcome.partialExit.tradeId, outcome.execution, outcome.partialExit.remaining);
    else if (intent.tradeId !== null) portfolio.applyExit(intent.tradeId, outcome.execution);
    if (settled) portfolio.setCash(cash);
  }
  if (outcome.partialExit) {
    const { tradeId, filled, remaining } = outcome.partialExit;
    const details = { tradeId, clientOrderId: intent.clientOrderId, symbol: intent.symbol, filled: filled.toFixed(), remaining: remaining.toFixed(), mode: intent.mode };
    ctx.logger.warn(details, 'exit order filled only partly; the rest of the position stays open');
    await ctx.alerts.raise({
      source: 'trade_failure', severity: 'warning', fingerprint: `partial_exit:${intent.symbol}`,
      title: `Exit of trade ${tradeId} (${intent.symbol}) filled ${filled.toFixed()} of ${dec(intent.quantity).toFixed()}: ${remaining.toFixed()} stays open and will be exited on the next signal`,
      details,
    });
  }
  // Whoever cancelled it (a kill's CancelAll from any process, a halt's, a person on Kraken), the
  // cancel counts on Kraken's trading counter for the pair: the pre-trade gate's counter learns it here.
  if (order.status === 'canceled') await noteCancel(ctx, intent.mode, intent.symbol, intent.createdAt);
}

/** An order the venue refused, its intent closed as rejected: logged and alerted. */
export async function reportRejected(ctx: { logger: Logger; alerts: AlertSink }, intent: OrderIntent, err: unknown, message: string): Promise<void> {
  const details = { clientOrderId: intent.clientOrderId, symbol: intent.symbol, side: intent.side, purpose: intent.purpose, mode: intent.mode };
  ctx.logger.warn({ err, ...details }, 'order rejected by the exchange');
  await ctx.alerts.raise({ source: 'trade_failure', severity: 'warning', title: `Order rejected: ${message}`, fingerprint: `order_rejected:${intent.symbol}`, details });
}

async function sendFailed(deps: ExecutorDeps, intent: OrderIntent, err: unknown, referencePrice?: Decimal): Promise<OrderOutcome> {
  const { ctx } = deps;
  const message = err instanceof Error ? err.message : String(err);
  const at = ctx.clock.now();
  const details = { clientOrderId: intent.clientOrderId, symbol: intent.symbol, side: intent.side, purpose: intent.purpose, mode: intent.mode };
  if (isAppError(err, 'rejected')) {
    if (!(await markIntent(ctx.db, { id: intent.id, status: 'rejected', error: message, at }))) {
      const booked = await bookedMeanwhile(deps, intent, err, referencePrice);
      if (booked) return booked;
    }
    // A refusal of the whole venue (offline, cancel_only, rate limit): the engine holds the order and
    // alerts once per hold (venue-hold.ts), not once per try.
    const venueWide = venueWideRefusal(err);
    if (venueWide) {
      ctx.logger.warn({ err, ...details }, 'order rejected by the exchange for a venue-wide reason');
      return { kind: 'rejected', message, venueWide };
    }
    await reportRejected(ctx, intent, err, message);
    return { kind: 'rejected', message };
  }
  if (isAppError(err, 'auth') || isAppError(err, 'halt') || isAppError(err, 'conflict')) {
    // Refused before anything was placed (bad key, missing permission, not armed): nothing is pending.
    await markIntent(ctx.db, { id: intent.id, status: 'failed', error: message, at });
    // Over a kill's or an operator's halt, that halt stays as it is: its author decides what lifts it.
    // One an automatic lift would lift (reconciliation's) the engine takes over: its cause waits for an operator.
    const halt = await haltByEngine(ctx.db, ctx.clock, `exchange refused an order: ${message}`, at);
    if (halt.placed) {
      const title = engineHaltedText(halt, `the exchange refused an order (${message})`);
      ctx.logger.error({ ...ALERTED, err, ...details, ...(halt.tookOver ? { tookOver: halt.tookOver } : {}) }, halt.tookOver ? title : 'exchange refused an order; trading halted');
      await ctx.alerts.raise({ source: 'exchange', severity: 'critical', title, fingerprint: 'engine_halted_auth', details: { ...details, ...(halt.tookOver ? { tookOver: halt.tookOver } : {}) } });
    } else {
      const title = alreadyHaltedText(halt.standing, `the exchange refused an order (${message})`);
      ctx.logger.error({ ...ALERTED, err, ...details, standingHalt: halt.standing }, title);
      await ctx.alerts.raise({ source: 'exchange', severity: 'critical', title, fingerprint: 'engine_halted_auth', details: { ...details, standingHalt: halt.standing } });
    }
    return { kind: 'halted', message };
  }
  // Timeout, network, an answer that cannot be read: the order may exist. Keep the intent in flight;
  // the fill follower asks the exchange by client order id before anything is sent again.
  if (!(await markIntent(ctx.db, { id: intent.id, status: 'sent', error: message, at }))) {
    const booked = await bookedMeanwhile(deps, intent, err, referencePrice);
    if (booked) return booked;
  }
  deps.portfolio.track(inFlightOf({ ...intent, status: 'sent' }, null, referencePrice));
  ctx.logger.warn({ err, ...details }, 'order outcome unknown; will resolve against the exchange');
  await ctx.alerts.raise({
    source: 'trade_failure', severity: 'warning', title: `Order outcome unknown, resolving with the exchange: ${message}`,
    fingerprint: `order_unknown:${intent.symbol}`, details,
  });
  return { kind: 'unknown', message };
}

/**
 * The send failed (its answer lost, or refused), but the order's outcome was booked meanwhile — by a
 * fill follower or streamed execution that took the order lock after this session lost it, or a
 * recovery pass: that outcome is the order's, and what the executor reports (its booker applied it to
 * its book and alerted what it had to). One booked in part stays in flight here too. Null when nothing
 * the venue said is booked.
 */
async function bookedMeanwhile(deps: ExecutorDeps, intent: OrderIntent, err: unknown, referencePrice?: Decimal): Promise<OrderOutcome | null> {
  const outcome = await bookedOutcome(deps.ctx.db, intent);
  if (!outcome) return null;
  if (isUnsettled(outcome.intentStatus) && !deps.portfolio.inFlight.has(intent.id)) {
    deps.portfolio.track(inFlightOf({ ...intent, status: outcome.intentStatus }, null, referencePrice));
  }
  deps.ctx.logger.info({ err, clientOrderId: intent.clientOrderId, symbol: intent.symbol, side: intent.side, purpose: intent.purpose, mode: intent.mode, status: outcome.intentStatus },
    `order request failed, but its outcome was booked meanwhile: ${outcome.intentStatus}`);
  return { kind: 'recorded', outcome };
}
