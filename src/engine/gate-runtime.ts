// Owns running the pre-trade gate (pre-trade-gate.ts) on an order intent the executor just wrote,
// before anything is sent: it gathers the inputs — our unsettled orders from the intent log, the
// engine's last price, the venue's mid, the pair's rate counter (kept per context and mode, seeded
// from the last ten minutes of intents so a restart does not forget what Kraken still counts) — and
// on a refusal closes the intent as `refused` with its reason, logs it, counts
// ctb_risk_refusals_total{check} and raises an alert when one check keeps refusing.
import type { Registry } from 'prom-client';
import type { AlertSink } from '../alerts/types.js';
import type { Clock } from '../clock.js';
import type { Config } from '../config/env.js';
import type { Db } from '../db/client.js';
import { recentIntents, unsettledIntents, type UnsettledIntent } from '../db/queries/ledger-intents.js';
import type { OrderIntent } from '../db/schema/index.js';
import type { Exchange } from '../exchange/types.js';
import type { Logger } from '../logger.js';
import type { PriceBoard } from '../market/price-board.js';
import { tradingMetrics } from '../metrics/trading-metrics.js';
import type { Decimal } from '../money.js';
import type { Mode } from '../services/bot-state.js';
import { markIntent } from './ledger/intents.js';
import type { Portfolio } from './portfolio.js';
import { checkOrder, type GateMarket, type RiskCheck } from './pre-trade-gate.js';
import { budgetFor, entryReserve, RateCounter } from './rate-counter.js';

/** A check that refuses this many times within the window raises an alert (then every further time, grouped). */
export const REFUSALS_BEFORE_ALERT = 3;
export const REFUSAL_WINDOW_MS = 10 * 60_000;
const SEED_WINDOW_MS = 10 * 60_000;

export interface GateRefusal {
  kind: 'refused';
  check: RiskCheck;
  message: string;
}

/**
 * What the gate reads and reports to: the intent log, the limits, the clock, the last prices, the
 * refusal counter, the log and the alerts. The object is also the key of the gate's per-context state
 * (rate counters, recent refusals), so one running bot passes the same one every time.
 */
export interface GateRuntimeDeps {
  db: Db;
  config: Pick<Config, 'RISK_MAX_ORDERS_PER_MINUTE' | 'RISK_MAX_ORDER_NOTIONAL' | 'RISK_PRICE_BAND_PCT' | 'RISK_MAX_OPEN_ORDERS'>;
  clock: Clock;
  prices: PriceBoard;
  metrics: Registry;
  logger: Logger;
  alerts: AlertSink;
}

export interface GateDeps {
  ctx: GateRuntimeDeps;
  mode: Mode;
  exchange: Exchange;
  portfolio: Portfolio;
}

interface GateState {
  counters: Map<Mode, Promise<RateCounter>>;
  refusals: Map<RiskCheck, number[]>;
}

const states = new WeakMap<object, GateState>();

function stateOf(ctx: GateRuntimeDeps): GateState {
  let s = states.get(ctx);
  if (!s) {
    s = { counters: new Map(), refusals: new Map() };
    states.set(ctx, s);
  }
  return s;
}

/**
 * The mode's rate counters, seeded once from the intents Kraken may still be counting (`current`,
 * the intent being gated when the seed happens, is counted by the gate itself if it passes).
 */
function countersFor(ctx: GateRuntimeDeps, mode: Mode, current?: number): Promise<RateCounter> {
  const s = stateOf(ctx);
  let counter = s.counters.get(mode);
  if (!counter) {
    counter = (async () => {
      const c = new RateCounter(budgetFor(ctx.config.RISK_MAX_ORDERS_PER_MINUTE));
      const since = new Date(ctx.clock.now().getTime() - SEED_WINDOW_MS);
      const recent = await recentIntents(ctx.db, { mode, since, except: current });
      const events = recent.flatMap((i) => [
        { at: i.createdAt.getTime(), apply: () => c.recordAdd(i.symbol, i.createdAt.getTime()) },
        ...(i.status === 'canceled' ? [{ at: i.updatedAt.getTime(), apply: () => c.recordCancel(i.symbol, i.updatedAt.getTime(), i.createdAt.getTime()) }] : []),
      ]).sort((a, b) => a.at - b.at);
      for (const e of events) e.apply();
      return c;
    })();
    counter.catch(() => s.counters.delete(mode));
    s.counters.set(mode, counter);
  }
  return counter;
}

/** A cancel the bot sent (never refused) still counts on Kraken's counter: tell the gate. */
export async function noteCancel(ctx: GateRuntimeDeps, mode: Mode, symbol: string, placedAt: Date): Promise<void> {
  // Not seeded yet: its seed reads this cancel from the intent log (counting it here too would double it).
  const counter = stateOf(ctx).counters.get(mode);
  if (!counter) return;
  // A seed that failed is dropped and retried by the next gate; the order path never fails for it.
  (await counter.catch(() => null))?.recordCancel(symbol, ctx.clock.now().getTime(), placedAt.getTime());
}

async function midOf(exchange: Exchange, symbol: string): Promise<Pick<GateMarket, 'mid' | 'midProblem'>> {
  try {
    const t = await exchange.fetchTicker(symbol);
    const bid = Number(t.bid);
    const ask = Number(t.ask);
    if (bid > 0 && ask > 0) return { mid: (bid + ask) / 2 };
    return Number(t.last) > 0 ? { mid: Number(t.last) } : { mid: null, midProblem: 'the ticker has no bid, ask or last price' };
  } catch (err) {
    return { mid: null, midProblem: err instanceof Error ? err.message : String(err) };
  }
}

/** What the gate judges: an intent already written (the stepwise path) or one about to be written with its outcome (id unknown yet). */
export type GateSubject = Pick<OrderIntent, 'symbol' | 'side' | 'purpose' | 'type' | 'quantity' | 'limitPrice'> & { id?: number };

/** The gate's verdict; `admit` counts the order on the pair's rate counter once it is on its way. */
export type GateVerdict = { ok: true; admit: () => void } | { ok: false; check: RiskCheck; message: string };

/**
 * The gate's decision on `subject`, nothing written: the unsettled intents (all but `subject.id`),
 * the rate counter, the venue's mid and the engine's last price against the configured limits.
 * `unsettled`, when given, is taken as the unsettled intents instead of reading them: the caller
 * then owns checking, in the statement that writes the order, that they are still what it passed.
 */
export async function judgeIntent(deps: GateDeps, subject: GateSubject, referencePrice?: Decimal, unsettled?: UnsettledIntent[]): Promise<GateVerdict> {
  const { ctx, mode } = deps;
  const now = ctx.clock.now().getTime();
  const counter = await countersFor(ctx, mode, subject.id);
  // Before every order, unless the caller knows them.
  // Ids start at 1, so 0 excludes nothing when the subject is not written yet.
  const others = unsettled ?? (await unsettledIntents(ctx.db, mode, subject.id ?? 0));
  const onPair = others.filter((o) => o.symbol === subject.symbol);
  const priced = subject.purpose === 'entry' || subject.type === 'limit';
  // The price the entry was sized at, else the engine's last candle.
  const lastPrice = referencePrice?.toNumber() ?? ctx.prices.lastCandle(subject.symbol)?.close ?? null;
  const market: GateMarket = { lastPrice, ...(priced ? await midOf(deps.exchange, subject.symbol) : { mid: null }) };
  // Room kept for what is never refused: an exit for every position on the pair and for this entry,
  // and a cancel (or an exit) for every order of ours still resting there.
  let positions = 0;
  for (const p of deps.portfolio.positions.values()) if (p.symbol === subject.symbol) positions += 1;
  const restingAgesMs = onPair.filter((o) => o.status === 'open').map((o) => now - o.createdAt.getTime());
  const reserve = entryReserve({ positionsOnPair: positions, restingAgesMs, resting: subject.type === 'limit' });
  const level = counter.level(subject.symbol, now);
  const decision = checkOrder(
    { symbol: subject.symbol, side: subject.side, purpose: subject.purpose, type: subject.type, quantity: subject.quantity, limitPrice: subject.limitPrice },
    market,
    { openOnPair: onPair.length, openTotal: others.length, rateFits: counter.fits(subject.symbol, now, reserve), rateText: `counter ${level.toFixed(1)} + 1 with ${reserve} kept for exits and cancels would pass ${counter.budget.threshold}` },
    { maxOrderNotional: ctx.config.RISK_MAX_ORDER_NOTIONAL, priceBandPct: ctx.config.RISK_PRICE_BAND_PCT, maxOpenOrdersPerPair: ctx.config.RISK_MAX_OPEN_ORDERS.perPair, maxOpenOrdersTotal: ctx.config.RISK_MAX_OPEN_ORDERS.total },
  );
  if (decision.ok) return { ok: true, admit: () => counter.recordAdd(subject.symbol, now) };
  return decision;
}

/**
 * Runs the gate on `intent` (written, not sent). Returns null when it may be sent — counted on the
 * pair's rate counter — or the refusal, with the intent already closed as refused.
 */
export async function gateIntent(deps: GateDeps, intent: OrderIntent, referencePrice?: Decimal): Promise<GateRefusal | null> {
  const verdict = await judgeIntent(deps, intent, referencePrice);
  if (verdict.ok) {
    verdict.admit();
    return null;
  }
  await markIntent(deps.ctx.db, { id: intent.id, status: 'refused', error: refusalError(verdict.check, verdict.message), at: deps.ctx.clock.now() });
  await reportRefusal(deps.ctx, intent, verdict.check, verdict.message);
  return { kind: 'refused', check: verdict.check, message: verdict.message };
}

/** The error a refused intent is closed with. */
export const refusalError = (check: RiskCheck, message: string): string => `pre-trade gate (${check}): ${message}`;

/** A refusal, once its intent is closed as refused: counted, logged, and alerted when one check keeps refusing. */
export async function reportRefusal(ctx: GateRuntimeDeps, intent: OrderIntent, check: RiskCheck, message: string): Promise<void> {
  const now = ctx.clock.now().getTime();
  tradingMetrics(ctx.metrics).riskRefusals.inc({ check });
  const details = { check, clientOrderId: intent.clientOrderId, symbol: intent.symbol, side: intent.side, purpose: intent.purpose, quantity: intent.quantity, mode: intent.mode };
  ctx.logger.warn(details, `pre-trade gate refused an order: ${message}`);
  const s = stateOf(ctx);
  const recent = (s.refusals.get(check) ?? []).filter((t) => now - t < REFUSAL_WINDOW_MS);
  recent.push(now);
  s.refusals.set(check, recent);
  if (recent.length >= REFUSALS_BEFORE_ALERT) {
    await ctx.alerts.raise({
      source: 'risk', severity: 'warning', fingerprint: `risk_refusals:${check}`,
      title: `The pre-trade gate keeps refusing orders (${check}): ${recent.length} in ${REFUSAL_WINDOW_MS / 60_000} minutes — ${message}`,
      details: { ...details, refusals: recent.length },
    }).catch((err: unknown) => ctx.logger.error({ err }, 'could not raise the pre-trade gate alert'));
  }
}
