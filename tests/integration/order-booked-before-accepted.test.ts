// The executor writes an accepted order's intent as `sent` (with Kraken's order id) when AddOrder
// answers. A streamed execution or the fill follower may book the fill before that write lands: the
// booked outcome stays — the intent is never written back to `sent` — Kraken's order id is still
// kept, and the executor's own read-back does not book (nor apply to the portfolio) the fill again.
// When the read-back's answer is then lost, or the request ends in a refusal, the order's outcome is
// the booked one: the executor reports it, not "unknown" or "rejected"; and a flatten whose sale was
// booked so reports the position closed, not a sale that "may have been placed", nor a failed one.
// Self-heal, whose pass books orders too, resyncs intents only under the order lock the executor
// holds: while the executor sends, it leaves the intents alone, and the executor books the order into
// the engine's book — where outside the lock self-heal booked the fill into a book of its own and the
// engine's never had the position. It never waits for the lock either: while another holder (in this
// process or another) keeps it, the pass says the intents are not resolved, queues nothing, does not
// reconcile against Kraken (the holder may be halfway through its work), and still checks the engine's
// heartbeat — an engine stuck holding the lock is reported stale. The watchdog's next pass resyncs
// even though its probe answers at once; `ctb self-heal`, which has no next pass, says to run it again.
import { ALONE_BY_CONSTRUCTION } from '../../src/engine/ledger/intent-lease.js';
import { eq, sql } from 'drizzle-orm';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ADVISORY_LOCKS, takeAdvisoryLock } from '../../src/db/advisory-lock.js';
import { botState, orderIntents, trades } from '../../src/db/schema/index.js';
import { AppError } from '../../src/errors.js';
import type { ExchangeProvider } from '../../src/exchange/provider.js';
import type { Exchange } from '../../src/exchange/types.js';
import { flattenPositions } from '../../src/engine/flatten.js';
import { writeIntent } from '../../src/engine/ledger/intents.js';
import { executeOrder, recordOrder, type OrderPathDeps } from '../../src/engine/order-executor.js';
import { withOrderLock, type OrderLockDeps } from '../../src/engine/order-lock.js';
import { Portfolio } from '../../src/engine/portfolio.js';
import { NOT_FOUND_GRACE_MS, resolveIntents } from '../../src/engine/recovery.js';
import { dec } from '../../src/money.js';
import { selfHeal, type HealAction, type SelfHealResult } from '../../src/services/self-heal/self-heal.js';
import { startWatchdog } from '../../src/services/self-heal/watchdog.js';
import type { EngineTestContext } from '../support/engine.js';
import { ageIntentStates, liveContext, useLiveKraken } from '../support/live-engine.js';

/** Everyone who asks for the order lock (OrderLockDeps.orderLockAsked), in order: a waiter is seen the moment it asks. */
function lockAsks() {
  const waiters: Array<{ count: number; done: () => void }> = [];
  let count = 0;
  return {
    ask() {
      count += 1;
      for (const w of waiters.splice(0)) {
        if (count >= w.count) w.done();
        else waiters.push(w);
      }
    },
    /** Resolves once the lock has been asked for `n` times in all. */
    reached(n: number): Promise<void> {
      return count >= n ? Promise.resolve() : new Promise((done) => waiters.push({ count: n, done }));
    },
    get count() {
      return count;
    },
  };
}

// A PostgreSQL database and a live Kraken simulator for this file.
const bed = useLiveKraken();
afterEach(() => {
  vi.restoreAllMocks();
});

/** BTC priced at 60,000 a minute ago, and the engine's book: 10,000 of cash. */
function bookAt60k(t: Awaited<ReturnType<typeof liveContext>>): Portfolio {
  t.ctx.prices.update({ candle: { symbol: 'BTC/USD', openTime: new Date(t.clock.now().getTime() - 60_000), open: 60_000, high: 60_000, low: 60_000, close: 60_000, volume: 10 } });
  const portfolio = new Portfolio();
  portfolio.setCash(dec(10_000));
  return portfolio;
}

/** `exchange`, but once Kraken accepted the order (before the read-back) `meanwhile` runs. */
function onAcceptance(exchange: Exchange, meanwhile: () => Promise<void>): Exchange {
  return new Proxy(exchange, {
    get(target, key) {
      const value = Reflect.get(target, key) as unknown;
      if (key !== 'createOrder') return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      return (order: Parameters<Exchange['createOrder']>[0]) => target.createOrder({
        ...order,
        onAccepted: async (exchangeOrderId: string) => {
          await order.onAccepted?.(exchangeOrderId);
          await meanwhile();
        },
      });
    },
  });
}

describe('self-heal while the executor places a live order', () => {
  it('leaves the intents to the order lock\'s holder: the executor books the order into the engine\'s book', async () => {
    const t = await liveContext(bed.database, bed.kraken);
    try {
      const portfolio = bookAt60k(t);
      const asks = lockAsks();
      // The executor and self-heal share one context, which tells of every wait for the order lock.
      const ctx: typeof t.ctx & OrderLockDeps = { ...t.ctx, orderLockAsked: () => asks.ask() };
      let heal: Promise<SelfHealResult> | undefined;
      const exchange = onAcceptance(ctx.exchanges.forMode('live'), async () => {
        const asked = asks.count;
        heal = selfHeal(ctx, { attempts: 1, alwaysResync: true, reconcile: async () => ({ ok: true, summaryLine: 'reconciled (test)', reportFile: null }) });
        // Self-heal is done at once (the lock is the executor's), or asks for the lock and waits behind it.
        await Promise.race([heal, asks.reached(asked + 1)]);
      });

      const outcome = await executeOrder({ lease: ALONE_BY_CONSTRUCTION, ctx, mode: 'live', feed: 'kraken', exchange, portfolio }, {
        purpose: 'entry', strategy: 'self-heal-race', symbol: 'BTC/USD', side: 'buy', quantity: dec('0.01'), reason: 'test', referencePrice: dec(60_000),
      });
      const result = await heal!;

      const [intent] = await bed.database.db.select().from(orderIntents).where(eq(orderIntents.strategy, 'self-heal-race'));
      expect(intent).toMatchObject({ status: 'filled' });
      expect(await bed.database.db.select().from(trades).where(eq(trades.entryIntentId, intent!.id))).toHaveLength(1);
      // The executor booked it, and into the book the engine trades from.
      expect(outcome).toMatchObject({ kind: 'recorded', outcome: { intentStatus: 'filled', applied: true } });
      expect([...portfolio.positions.values()].map((p) => ({ symbol: p.symbol, quantity: p.quantity.toFixed() }))).toEqual([{ symbol: 'BTC/USD', quantity: '0.01' }]);
      expect(portfolio.inFlight.size).toBe(0);
      // Self-heal resolved nothing: the order was the executor's to book.
      expect(result.actions.find((a) => a.check === 'intents')).toMatchObject({ status: 'busy', detail: expect.stringMatching(/^not resolved: the order lock is taken/) });
      expect(result.ok).toBe(false);
    } finally {
      await t.ctx.close();
    }
  }, 60_000);
});

interface Seen { status?: string; clientOrderId?: string }

/**
 * `exchange`, but another process books the order (its fills, the trade, the intent filled) into a
 * book of its own just before the executor's `sent` write; then the answer may be lost, or refused.
 */
function bookedBeforeAccepted(exchange: Exchange, ctx: OrderPathDeps, seen: Seen, opts: { loseAnswer?: boolean; refuse?: boolean } = {}): Exchange {
  const db = ctx.db;
  return new Proxy(exchange, {
    get(target, key) {
      const value = Reflect.get(target, key) as unknown;
      if (key !== 'createOrder') return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      return async (order: Parameters<Exchange['createOrder']>[0]) => {
        seen.clientOrderId = order.clientOrderId;
        const placed = await target.createOrder({
        ...order,
        onAccepted: async (exchangeOrderId: string) => {
          const [intent] = await db.select().from(orderIntents).where(eq(orderIntents.clientOrderId, order.clientOrderId));
          const elsewhere = new Portfolio();
          elsewhere.setCash(dec(10_000));
          await recordOrder({ ctx, portfolio: elsewhere }, intent!, (await target.fetchOrderByClientId(order.clientOrderId, order.symbol))!, { cashSettled: true });
          await order.onAccepted?.(exchangeOrderId);
          const [row] = await db.select().from(orderIntents).where(eq(orderIntents.clientOrderId, order.clientOrderId));
          seen.status = row?.status;
        },
        });
        // The read-back's answer lost on the way (a timeout, a reset): the executor cannot tell the outcome.
        if (opts.loseAnswer) throw new Error('read-back lost');
        // A refusal of the request (a retry Kraken refused as a duplicate): the order exists all the same.
        if (opts.refuse) throw new AppError('rejected', 'order_rejected', 'EOrder:Duplicate order');
        return placed;
      };
    },
  });
}

describe('an order booked before the executor writes it sent', () => {
  it('stays filled, keeps Kraken\'s order id, and is not booked again by the read-back', async () => {
    const t = await liveContext(bed.database, bed.kraken);
    try {
      const portfolio = bookAt60k(t);
      const seen: Seen = {};
      const exchange = bookedBeforeAccepted(t.ctx.exchanges.forMode('live'), t.ctx, seen);
      const outcome = await executeOrder({ lease: ALONE_BY_CONSTRUCTION, ctx: t.ctx, mode: 'live', feed: 'kraken', exchange, portfolio }, {
        purpose: 'entry', strategy: 'booked-test', symbol: 'BTC/USD', side: 'buy', quantity: dec('0.01'), reason: 'test', referencePrice: dec(60_000),
      });
      expect(seen.status, 'the intent right after the executor\'s sent write').toBe('filled');
      const [order] = [...bed.kraken.sim.state.orders.values()];
      const [intent] = await bed.database.db.select().from(orderIntents).where(eq(orderIntents.clientOrderId, order!.cl_ord_id!));
      expect(intent).toMatchObject({ status: 'filled', exchangeOrderId: order!.txid, error: null });
      expect(outcome).toMatchObject({ kind: 'recorded', outcome: { applied: false } });
      expect(portfolio.inFlight.size).toBe(0);
    } finally {
      await t.ctx.close();
    }
  }, 60_000);

  it.each([
    ['whose answer is then lost', { loseAnswer: true }, 'Order outcome unknown'],
    ['whose request then ends in a refusal', { refuse: true }, 'Order rejected'],
  ] as const)('%s stays filled, is reported as booked (not unknown, not rejected), not kept in flight nor alerted', async (_, how, wrongAlert) => {
    const t = await liveContext(bed.database, bed.kraken);
    try {
      const portfolio = bookAt60k(t);
      const seen: Seen = {};
      const exchange = bookedBeforeAccepted(t.ctx.exchanges.forMode('live'), t.ctx, seen, how);
      const outcome = await executeOrder({ lease: ALONE_BY_CONSTRUCTION, ctx: t.ctx, mode: 'live', feed: 'kraken', exchange, portfolio }, {
        purpose: 'entry', strategy: 'booked-lost-test', symbol: 'BTC/USD', side: 'buy', quantity: dec('0.01'), reason: 'test', referencePrice: dec(60_000),
      });
      const [intent] = await bed.database.db.select().from(orderIntents).where(eq(orderIntents.clientOrderId, seen.clientOrderId!));
      expect(intent).toMatchObject({ status: 'filled', error: null });
      expect(intent!.exchangeOrderId).toBeTruthy();
      const [trade] = await bed.database.db.select().from(trades).where(eq(trades.entryIntentId, intent!.id));
      // The outcome is the booked one: the order filled and opened this trade (applied by its booker, not here).
      expect(outcome).toMatchObject({ kind: 'recorded', outcome: { intentStatus: 'filled', applied: false, partialExit: null, trade: { id: trade!.id, status: 'open', quantity: trade!.quantity } } });
      if (outcome.kind === 'recorded') {
        expect(outcome.outcome.execution?.quantity.toFixed()).toBe('0.01');
        expect(outcome.outcome.execution?.averagePrice.toFixed()).toBe(dec(trade!.entryPrice).toFixed());
      }
      expect(portfolio.inFlight.size).toBe(0);
      expect(t.alerts.raised.map((a) => a.title).filter((title) => title.startsWith(wrongAlert))).toEqual([]);
    } finally {
      await t.ctx.close();
    }
  }, 60_000);

  it('booked in part (Kraken has not listed its fills) whose answer is then lost is reported open and stays in flight here', async () => {
    const t = await liveContext(bed.database, bed.kraken);
    bed.kraken.hideTrades();
    try {
      const portfolio = bookAt60k(t);
      const seen: Seen = {};
      const exchange = bookedBeforeAccepted(t.ctx.exchanges.forMode('live'), t.ctx, seen, { loseAnswer: true });
      const outcome = await executeOrder({ lease: ALONE_BY_CONSTRUCTION, ctx: t.ctx, mode: 'live', feed: 'kraken', exchange, portfolio }, {
        purpose: 'entry', strategy: 'booked-open-test', symbol: 'BTC/USD', side: 'buy', quantity: dec('0.01'), reason: 'test', referencePrice: dec(60_000),
      });
      const [intent] = await bed.database.db.select().from(orderIntents).where(eq(orderIntents.clientOrderId, seen.clientOrderId!));
      expect(intent).toMatchObject({ status: 'open', error: null });
      expect(outcome).toMatchObject({ kind: 'recorded', outcome: { intentStatus: 'open', applied: false, trade: null, execution: null } });
      // Still to be followed: it counts as in flight in this book, as a read-back that found it open would.
      expect([...portfolio.inFlight.keys()]).toEqual([intent!.id]);
      expect(t.alerts.raised.map((a) => a.title).filter((title) => title.startsWith('Order outcome unknown'))).toEqual([]);
    } finally {
      bed.kraken.showTrades();
      await t.ctx.close();
    }
  }, 60_000);
});

/** `exchange`, but once Kraken took the sale a recovery pass books it, and then the request fails with `failure`. */
function bookedThenFailed(t: EngineTestContext, exchange: Exchange, failure: () => Error): Exchange {
  return new Proxy(exchange, {
    get(target, key) {
      const value = Reflect.get(target, key) as unknown;
      if (key !== 'createOrder') return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      return async (order: Parameters<Exchange['createOrder']>[0]) => {
        await target.createOrder(order);
        await resolveIntents({ ctx: t.ctx, mode: 'live', exchange: target });
        throw failure();
      };
    },
  });
}

describe('a flatten whose sale was booked while its request failed', () => {
  it.each([
    ['whose answer is then lost', () => new Error('read-back lost')],
    ['whose request then ends in a refusal', () => new AppError('rejected', 'order_rejected', 'EOrder:Duplicate order')],
  ] as const)('%s reports the position closed', async (_, failure) => {
    const t = await liveContext(bed.database, bed.kraken);
    try {
      const portfolio = bookAt60k(t);
      const live = t.ctx.exchanges.forMode('live');
      const entry = await executeOrder({ lease: ALONE_BY_CONSTRUCTION, ctx: t.ctx, mode: 'live', feed: 'kraken', exchange: live, portfolio }, {
        purpose: 'entry', strategy: 'flatten-booked', symbol: 'BTC/USD', side: 'buy', quantity: dec('0.01'), reason: 'test', referencePrice: dec(60_000),
      });
      expect(entry).toMatchObject({ kind: 'recorded', outcome: { intentStatus: 'filled' } });
      const tradeId = entry.kind === 'recorded' ? entry.outcome.trade!.id : -1;

      // The orders above left positions open too (one still in flight: booked now, as the follower
      // would): the flatten sells every one, each booked so.
      await resolveIntents({ ctx: t.ctx, mode: 'live', exchange: live });
      const open = (await bed.database.db.select().from(trades).where(eq(trades.status, 'open'))).map((x) => x.id).sort((a, b) => a - b);
      expect(open).toContain(tradeId);

      const exchange = bookedThenFailed(t, live, failure);
      const report = await flattenPositions({ ...t.ctx, exchanges: { forMode: () => exchange } as unknown as ExchangeProvider });

      expect((await bed.database.db.select().from(trades).where(eq(trades.status, 'open')))).toEqual([]);
      expect(report).toMatchObject({ ok: true, failed: [], pending: [] });
      expect([...report.closed].sort((a, b) => a - b)).toEqual(open);
      expect(report.summary).toBe(`Closed ${open.length} of ${open.length} open positions.`);
    } finally {
      await t.ctx.close();
    }
  }, 60_000);
});

describe('self-heal while another holds the order lock', () => {
  /** A live intent Kraken never got, past its grace: what a pass that resolves intents closes as never placed. */
  async function neverPlacedIntent(t: EngineTestContext) {
    const intent = await writeIntent(t.ctx.db, {
      mode: 'live', feed: 'kraken', strategy: 'self-heal-lock-held', symbol: 'BTC/USD', side: 'buy', purpose: 'entry', type: 'market', quantity: '0.01', at: t.clock.now(),
    }, { lease: ALONE_BY_CONSTRUCTION, armed: true });
    await ageIntentStates(bed.database, NOT_FOUND_GRACE_MS + 60_000);
    return intent!;
  }
  const statusOf = async (id: number) => (await bed.database.db.select().from(orderIntents).where(eq(orderIntents.id, id)))[0]?.status;
  const reconcile = async () => ({ ok: true, summaryLine: 'reconciled (test)', reportFile: null });
  /** The pass resolved no intent: not ok (nobody paged), and says what follows. */
  const notResolved = (then: string) => ({ check: 'intents', status: 'busy', detail: `not resolved: the order lock is taken by another holder (orders are being placed, cancelled or booked); ${then}` });
  const reconcileSkipped = { check: 'reconcile', status: 'skipped', detail: 'the order lock is taken; a pass that takes it reconciles' };

  it('held in this process (an order path stuck): the watchdog\'s pass ends, resolves nothing, queues nothing, and reports the engine stale', async () => {
    const t = await liveContext(bed.database, bed.kraken);
    let release: (() => void) | undefined;
    try {
      await bed.database.db.update(botState).set({ engineHeartbeatAt: sql`now() - interval '5 minutes'` });
      const intent = await neverPlacedIntent(t);
      const held = new Promise<void>((entered) => {
        void withOrderLock(t.ctx, async () => {
          entered();
          await new Promise<void>((r) => { release = r; });
        });
      });
      await held;

      // The watchdog as the bot starts it (no alwaysResync): this pass resyncs because its probe was retried.
      const stale: HealAction[] = [];
      const reconciled = vi.fn(reconcile);
      vi.spyOn(t.ctx.exchanges.forMode('live'), 'fetchOpenOrders').mockRejectedValueOnce(new Error('socket hang up'));
      const watchdog = startWatchdog(t.ctx, { timer: false, attempts: 2, sleep: async () => {}, reconcile: reconciled, onEngineStale: (a) => stale.push(a) });
      const result = await watchdog.tick();

      expect(result?.actions.find((a) => a.check === 'exchange')).toMatchObject({ status: 'healed', detail: expect.stringMatching(/; resynced: \d+ open order\(s\) on kraken$/) });
      expect(result?.actions.find((a) => a.check === 'intents')).toEqual(notResolved('the next pass tries again'));
      expect(result?.ok).toBe(false);
      expect(result?.actions.find((a) => a.check === 'reconcile')).toEqual(reconcileSkipped);
      expect(reconciled).not.toHaveBeenCalled();
      expect(result?.actions.find((a) => a.check === 'engine')).toMatchObject({ status: 'failed', detail: expect.stringMatching(/^heartbeat stale for \d+s/) });
      expect(stale).toHaveLength(1);
      expect(await statusOf(intent.id)).toBe('pending');

      // Nothing of the pass waited in the lock's queue: once the holder is done, the intent is still there…
      release?.();
      await withOrderLock(t.ctx, async () => {});
      expect(await statusOf(intent.id)).toBe('pending');
      // …for the watchdog's next pass, which (its probe answering at once) resyncs all the same, takes
      // the free lock, resolves it and reconciles.
      const next = await watchdog.tick();
      expect(next?.actions.find((a) => a.check === 'exchange')).toMatchObject({ status: 'ok', detail: expect.stringMatching(/intents resolved: \d+ recorded, [1-9]\d* never placed/) });
      expect(next?.actions.find((a) => a.check === 'intents')).toBeUndefined();
      expect(await statusOf(intent.id)).toBe('failed');
      expect(reconciled).toHaveBeenCalledTimes(1);
      // Nothing left: the pass after that resyncs no more.
      const after = await watchdog.tick();
      await watchdog.stop();
      expect(after?.actions.find((a) => a.check === 'exchange')).toMatchObject({ status: 'ok', detail: expect.not.stringMatching(/resynced/) });
      expect(reconciled).toHaveBeenCalledTimes(1);
    } finally {
      release?.();
      await bed.database.db.update(botState).set({ engineHeartbeatAt: null });
      await t.ctx.close();
    }
  }, 60_000);

  it('held by a holder that changes no intent (an adopt, a cancel): the pass does not read Kraken to reconcile, nobody is paged', async () => {
    const t = await liveContext(bed.database, bed.kraken);
    let release: (() => void) | undefined;
    try {
      const held = new Promise<void>((entered) => {
        void withOrderLock(t.ctx, async () => {
          entered();
          await new Promise<void>((r) => { release = r; });
        });
      });
      await held;
      // What a reconciliation could find halfway through the holder's work.
      const reconciled = vi.fn(async () => ({ ok: false, summaryLine: '1 order at Kraken not in the ledger', reportFile: null }));
      const raised = vi.spyOn(t.ctx.alerts, 'raise');

      const result = await selfHeal(t.ctx, { attempts: 1, alwaysResync: true, reconcile: reconciled });

      expect(reconciled).not.toHaveBeenCalled();
      expect(result.actions.find((a) => a.check === 'reconcile')).toEqual(reconcileSkipped);
      expect(raised.mock.calls.filter(([a]) => a.severity === 'critical')).toEqual([]);
    } finally {
      release?.();
      await t.ctx.close();
    }
  }, 60_000);

  it('held by another process (its advisory lock): ctb self-heal\'s pass ends, resolves nothing, and reports the engine stale', async () => {
    const t = await liveContext(bed.database, bed.kraken);
    const other = await takeAdvisoryLock(bed.database, ADVISORY_LOCKS.orders, { wait: true });
    try {
      await bed.database.db.update(botState).set({ engineHeartbeatAt: sql`now() - interval '5 minutes'` });
      const intent = await neverPlacedIntent(t);

      const result = await selfHeal(t.ctx, { attempts: 1, alwaysResync: true, reconcile });

      // One pass, no next one: the operator is told to run it again.
      expect(result.actions.find((a) => a.check === 'exchange')).toMatchObject({ status: 'ok', detail: expect.stringMatching(/^answers; resynced: \d+ open order\(s\) on kraken$/) });
      expect(result.actions.find((a) => a.check === 'intents')).toEqual(notResolved('run `ctb self-heal` again once the lock is free'));
      expect(result.ok).toBe(false);
      expect(result.actions.find((a) => a.check === 'reconcile')).toEqual(reconcileSkipped);
      expect(result.actions.find((a) => a.check === 'engine')).toMatchObject({ status: 'failed', detail: expect.stringMatching(/^heartbeat stale for \d+s/) });
      expect(await statusOf(intent.id)).toBe('pending');
      // The try left this process's side of the lock free: an order path takes it at once.
      await withOrderLock(t.ctx, async () => {}, { crossProcess: false });
    } finally {
      await other?.release();
      await bed.database.db.update(botState).set({ engineHeartbeatAt: null });
      await t.ctx.close();
    }
  }, 60_000);
});
