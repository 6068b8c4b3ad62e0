// Owns resolving order intents whose fills the ledger does not fully hold — at start (a crash between
// intent and fill) and, while the engine runs, on every pass of the fill follower: each intent still
// pending, sent or open is asked about again (by exchange order id in one batch where the venue allows,
// else by client order id), its new fills are booked once, and it becomes final only when every fill
// the exchange reports is booked. An intent the exchange does not know is closed as never placed, but
// only after NOT_FOUND_GRACE_MS on a real venue, counted on the database's clock from when the intent
// was written or last changed: an order whose request timed out may still be in Kraken's queue, and
// closing it early would let the same entry be sent twice.
import type { OrderIntent } from '../db/schema/index.js';
import type { Exchange, OrderState } from '../exchange/types.js';
import type { Mode } from '../services/bot-state.js';
import { inFlightOf, type InFlightOrder } from './in-flight.js';
import { failIntentAfterGrace, intentUnresolvedMs, NEVER_PLACED_ERROR, unresolvedIntents, type NeverPlacedClose } from './ledger/intents.js';
import { openTrades } from './ledger/trades.js';
import { recordOrder, type RecordOrderDeps } from './order-executor.js';
import { Portfolio } from './portfolio.js';

/** How long a live order the exchange does not know may still appear there. */
export const NOT_FOUND_GRACE_MS = 60_000;
/** An intent unresolved this long (since written, on the database's clock) raises a warning: fills Kraken does not list, an order stuck open. */
export const UNRESOLVED_ALERT_AFTER_MS = 5 * 60_000;

export interface ResolutionReport {
  recorded: number;
  neverPlaced: number;
  stillOpen: number;
  unreachable: number;
  /** Intents the follower tracked that another process resolved: the caller reloads its portfolio. */
  resolvedElsewhere: number;
  /** The intents still unresolved afterwards, with what the exchange said of them. */
  inFlight: InFlightOrder[];
}

interface Pass {
  ctx: RecordOrderDeps;
  mode: Mode;
  exchange: Exchange;
  portfolio: Portfolio;
  cashSettled: boolean;
  /** Intents already alerted on as stuck (the follower keeps it across passes). */
  stuckAlerted?: Set<number>;
}

/**
 * Resolves every unresolved intent of `mode` at start. The capital used for capital_buffer is read
 * from the exchange now (after any fill it made), so callers load their own portfolio afterwards,
 * passing `inFlight` so what is still in flight keeps counting.
 */
export async function resolveIntents(p: { ctx: RecordOrderDeps; mode: Mode; exchange: Exchange }): Promise<ResolutionReport> {
  const intents = await unresolvedIntents(p.ctx.db, p.mode);
  if (intents.length === 0) return emptyReport();
  const portfolio = await Portfolio.load(p.exchange, await openTrades(p.ctx.db, p.mode), p.ctx.config.QUOTE_CURRENCY);
  return resolvePass({ ...p, portfolio, cashSettled: true }, intents);
}

/** One pass of the fill follower: new fills of every unresolved intent booked into the engine's portfolio. */
export async function followIntents(p: {
  ctx: RecordOrderDeps; mode: Mode; exchange: Exchange; portfolio: Portfolio; stuckAlerted?: Set<number>;
}): Promise<ResolutionReport> {
  const intents = await unresolvedIntents(p.ctx.db, p.mode);
  // Anything settled elsewhere (another process resolved it) stops counting here too.
  const open = new Set(intents.map((i) => i.id));
  let elsewhere = 0;
  for (const id of [...p.portfolio.inFlight.keys()]) {
    if (open.has(id)) continue;
    p.portfolio.settle(id);
    elsewhere += 1;
  }
  const report = intents.length === 0 ? emptyReport() : await resolvePass({ ...p, cashSettled: false }, intents);
  return { ...report, resolvedElsewhere: report.resolvedElsewhere + elsewhere };
}

function emptyReport(): ResolutionReport {
  return { recorded: 0, neverPlaced: 0, stillOpen: 0, unreachable: 0, resolvedElsewhere: 0, inFlight: [] };
}

async function resolvePass(p: Pass, intents: OrderIntent[]): Promise<ResolutionReport> {
  const { ctx } = p;
  const report = emptyReport();
  const byOrderId = await fetchByOrderId(p, intents);
  for (const intent of intents) {
    try {
      const order = byOrderId.get(intent.id) ?? (await p.exchange.fetchOrderByClientId(intent.clientOrderId, intent.symbol));
      await resolveOne(p, intent, order, report);
    } catch (err) {
      report.unreachable += 1;
      report.inFlight.push(p.portfolio.inFlight.get(intent.id) ?? inFlightOf(intent));
      ctx.logger.warn({ err, clientOrderId: intent.clientOrderId }, 'could not resolve an order intent yet; will retry');
    }
  }
  if (report.recorded + report.neverPlaced > 0) {
    ctx.logger.info({ report: { ...report, inFlight: report.inFlight.length } }, 'order intents resolved against the exchange');
  }
  return report;
}

/** Intents the exchange has an order id for, asked in one batch when the venue can. */
async function fetchByOrderId(p: Pass, intents: OrderIntent[]): Promise<Map<number, OrderState>> {
  const known = intents.filter((i) => i.exchangeOrderId !== null);
  const out = new Map<number, OrderState>();
  if (known.length === 0 || !p.exchange.fetchOrders) return out;
  try {
    const states = await p.exchange.fetchOrders(known.map((i) => ({ exchangeOrderId: i.exchangeOrderId!, symbol: i.symbol })));
    const byId = new Map(states.map((s) => [s.exchangeOrderId, s]));
    for (const i of known) {
      const state = byId.get(i.exchangeOrderId!);
      if (state) out.set(i.id, state);
    }
  } catch (err) {
    p.ctx.logger.warn({ err, orders: known.length }, 'could not query orders by id; asking by client order id');
  }
  return out;
}

async function resolveOne(p: Pass, intent: OrderIntent, order: OrderState | null, report: ResolutionReport): Promise<void> {
  const { ctx } = p;
  const now = ctx.clock.now();
  if (!order) {
    const closed = await closeNeverPlaced(p, intent, now);
    if (closed === 'closed') {
      p.portfolio.settle(intent.id);
      report.neverPlaced += 1;
    } else if (closed === 'resolved') {
      // Another process booked its outcome between our read and the close: not closed here, and
      // nothing said as if it had been; the caller reloads its portfolio as for any resolved elsewhere.
      p.portfolio.settle(intent.id);
      report.resolvedElsewhere += 1;
    } else {
      report.stillOpen += 1;
      report.inFlight.push(p.portfolio.inFlight.get(intent.id) ?? inFlightOf(intent));
    }
    return;
  }
  const outcome = await recordOrder({ ctx, portfolio: p.portfolio }, intent, order, { cashSettled: p.cashSettled });
  if (outcome.intentStatus === 'open') {
    report.stillOpen += 1;
    report.inFlight.push(p.portfolio.inFlight.get(intent.id) ?? inFlightOf(intent, order));
    await alertIfStuck(p, intent, order);
  } else {
    report.recorded += 1;
  }
}

/**
 * Closes an intent the exchange does not know as never placed, only while it is still unresolved: one
 * another process booked since this pass read it keeps its outcome. Live, only once NOT_FOUND_GRACE_MS
 * have passed since it was written or last changed, judged on the database's clock: the engine that
 * sent it may have been another process whose clock (or this one's) is minutes off, and one running
 * fast would close an order still in Kraken's queue and send the same entry again. Paper orders are
 * never queued (no grace), so the paper path, replays included, closes at once as it always did.
 */
async function closeNeverPlaced(p: Pass, intent: OrderIntent, now: Date): Promise<NeverPlacedClose> {
  const graceMs = p.mode === 'live' ? NOT_FOUND_GRACE_MS : 0;
  return failIntentAfterGrace(p.ctx.db, { id: intent.id, error: NEVER_PLACED_ERROR, at: now, graceMs });
}

/**
 * Warns once (per follower) about an intent unresolved for UNRESOLVED_ALERT_AFTER_MS, judged on the
 * database's clock since it was written: created_at is on the clock of the engine that wrote it, and a
 * host minutes fast or slow would warn that early or that late.
 */
async function alertIfStuck(p: Pass, intent: OrderIntent, order: OrderState): Promise<void> {
  if (p.stuckAlerted?.has(intent.id)) return;
  const age = await intentUnresolvedMs(p.ctx.db, intent.id);
  if (age === null || age < UNRESOLVED_ALERT_AFTER_MS) return;
  p.stuckAlerted?.add(intent.id);
  const listed = order.trades.length;
  await p.ctx.alerts.raise({
    source: 'trade_failure', severity: 'warning', fingerprint: `order_unresolved:${intent.symbol}`,
    title: `Order ${order.exchangeOrderId} (${intent.symbol}) is ${order.status} at the exchange with ${order.filledQuantity} filled `
      + `and ${listed} fill${listed === 1 ? '' : 's'} listed, unresolved for ${Math.round(age / 60_000)} min`,
    details: { clientOrderId: intent.clientOrderId, exchangeOrderId: order.exchangeOrderId, status: order.status, filled: order.filledQuantity, listedFills: listed },
  });
}
