// The executor writes an accepted order's intent as `sent` (with Kraken's order id) when AddOrder
// answers. A streamed execution or the fill follower may book the fill before that write lands: the
// booked outcome stays — the intent is never written back to `sent` — Kraken's order id is still
// kept, and the executor's own read-back does not book (nor apply to the portfolio) the fill again.
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/client.js';
import { orderIntents } from '../../src/db/schema/index.js';
import type { Exchange } from '../../src/exchange/types.js';
import { executeOrder } from '../../src/engine/order-executor.js';
import { Portfolio } from '../../src/engine/portfolio.js';
import { dec } from '../../src/money.js';
import { createPostgresTestDb, type TestDatabase } from '../support/db.js';
import { liveContext, startLiveKraken, type LiveKraken } from '../support/live-engine.js';

let database: TestDatabase;
let kraken: LiveKraken;

beforeAll(async () => {
  database = await createPostgresTestDb();
  kraken = await startLiveKraken();
}, 120_000);
afterAll(async () => {
  await kraken?.sim.close();
  await database?.close();
});

interface Seen { status?: string; clientOrderId?: string }

/** `exchange`, but another process books the order's intent as filled just before the executor's `sent` write. */
function bookedBeforeAccepted(exchange: Exchange, db: Database['db'], seen: Seen, opts: { loseAnswer?: boolean } = {}): Exchange {
  return new Proxy(exchange, {
    get(target, key) {
      const value = Reflect.get(target, key) as unknown;
      if (key !== 'createOrder') return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      return async (order: Parameters<Exchange['createOrder']>[0]) => {
        seen.clientOrderId = order.clientOrderId;
        const placed = await target.createOrder({
        ...order,
        onAccepted: async (exchangeOrderId: string) => {
          await db.update(orderIntents).set({ status: 'filled', updatedAt: new Date() }).where(eq(orderIntents.clientOrderId, order.clientOrderId));
          await order.onAccepted?.(exchangeOrderId);
          const [row] = await db.select().from(orderIntents).where(eq(orderIntents.clientOrderId, order.clientOrderId));
          seen.status = row?.status;
        },
        });
        // The read-back's answer lost on the way (a timeout, a reset): the executor cannot tell the outcome.
        if (opts.loseAnswer) throw new Error('read-back lost');
        return placed;
      };
    },
  });
}

describe('an order booked before the executor writes it sent', () => {
  it('stays filled, keeps Kraken\'s order id, and is not booked again by the read-back', async () => {
    const t = await liveContext(database, kraken);
    try {
      t.ctx.prices.update({ candle: { symbol: 'BTC/USD', openTime: new Date(t.clock.now().getTime() - 60_000), open: 60_000, high: 60_000, low: 60_000, close: 60_000, volume: 10 } });
      const portfolio = new Portfolio();
      portfolio.setCash(dec(10_000));
      const seen: Seen = {};
      const exchange = bookedBeforeAccepted(t.ctx.exchanges.forMode('live'), database.db, seen);
      const outcome = await executeOrder({ ctx: t.ctx, mode: 'live', feed: 'kraken', exchange, portfolio }, {
        purpose: 'entry', strategy: 'booked-test', symbol: 'BTC/USD', side: 'buy', quantity: dec('0.01'), reason: 'test', referencePrice: dec(60_000),
      });
      expect(seen.status, 'the intent right after the executor\'s sent write').toBe('filled');
      const [order] = [...kraken.sim.state.orders.values()];
      const [intent] = await database.db.select().from(orderIntents).where(eq(orderIntents.clientOrderId, order!.cl_ord_id!));
      expect(intent).toMatchObject({ status: 'filled', exchangeOrderId: order!.txid, error: null });
      expect(outcome).toMatchObject({ kind: 'recorded', outcome: { applied: false } });
      expect(portfolio.inFlight.size).toBe(0);
    } finally {
      await t.ctx.close();
    }
  }, 60_000);

  it('whose answer is then lost stays filled, is not kept in flight, and is not alerted as of unknown outcome', async () => {
    const t = await liveContext(database, kraken);
    try {
      t.ctx.prices.update({ candle: { symbol: 'BTC/USD', openTime: new Date(t.clock.now().getTime() - 60_000), open: 60_000, high: 60_000, low: 60_000, close: 60_000, volume: 10 } });
      const portfolio = new Portfolio();
      portfolio.setCash(dec(10_000));
      const seen: Seen = {};
      const exchange = bookedBeforeAccepted(t.ctx.exchanges.forMode('live'), database.db, seen, { loseAnswer: true });
      await executeOrder({ ctx: t.ctx, mode: 'live', feed: 'kraken', exchange, portfolio }, {
        purpose: 'entry', strategy: 'booked-lost-test', symbol: 'BTC/USD', side: 'buy', quantity: dec('0.01'), reason: 'test', referencePrice: dec(60_000),
      });
      const [intent] = await database.db.select().from(orderIntents).where(eq(orderIntents.clientOrderId, seen.clientOrderId!));
      expect(intent).toMatchObject({ status: 'filled', error: null });
      expect(intent!.exchangeOrderId).toBeTruthy();
      expect(portfolio.inFlight.size).toBe(0);
      expect(t.alerts.raised.map((a) => a.title).filter((title) => title.startsWith('Order outcome unknown'))).toEqual([]);
    } finally {
      await t.ctx.close();
    }
  }, 60_000);
});
