// Self-heal resyncs order intents under the order lock the executor holds while it places an order.
// Kraken accepted the order (and filled it, a market order) while the executor's read-back still
// queues behind the rate limit: a self-heal pass that resolved intents then, outside the lock, booked
// the fill into a book of its own, and the executor's read-back found it booked and applied nothing —
// the engine's book never had the position it paid for. Now self-heal waits for the executor, which
// books the order into the engine's book, and finds nothing left to resolve. Live on the Kraken simulator.
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { orderIntents, trades } from '../../src/db/schema/index.js';
import type { Exchange } from '../../src/exchange/types.js';
import { executeOrder } from '../../src/engine/order-executor.js';
import { Portfolio } from '../../src/engine/portfolio.js';
import { dec } from '../../src/money.js';
import { selfHeal, type SelfHealResult } from '../../src/services/self-heal/self-heal.js';
import { createPostgresTestDb, type TestDatabase } from '../support/db.js';
import { liveContext, startLiveKraken, type LiveKraken } from '../support/live-engine.js';

/** Everyone who asks for the order lock, in order: a waiter is seen the moment it asks. */
const lockAsks = vi.hoisted(() => {
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
});

vi.mock('../../src/engine/order-lock.js', async (importOriginal) => {
  const real = await importOriginal<typeof import('../../src/engine/order-lock.js')>();
  return {
    ...real,
    withOrderLock: (...args: Parameters<typeof real.withOrderLock>) => {
      lockAsks.ask();
      return real.withOrderLock(...args);
    },
  };
});

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
  it('waits for the order lock: the executor books the order into the engine\'s book, self-heal finds nothing to resolve', async () => {
    const t = await liveContext(database, kraken);
    try {
      t.ctx.prices.update({ candle: { symbol: 'BTC/USD', openTime: new Date(t.clock.now().getTime() - 60_000), open: 60_000, high: 60_000, low: 60_000, close: 60_000, volume: 10 } });
      const portfolio = new Portfolio();
      portfolio.setCash(dec(10_000));
      let heal: Promise<SelfHealResult> | undefined;
      const exchange = onAcceptance(t.ctx.exchanges.forMode('live'), async () => {
        const asked = lockAsks.count;
        heal = selfHeal(t.ctx, { attempts: 1, alwaysResync: true, reconcile: async () => ({ ok: true, summaryLine: 'reconciled (test)', reportFile: null }) });
        // Self-heal either resolves the intents now (and is done), or asks for the lock the executor holds.
        await Promise.race([heal, lockAsks.reached(asked + 1)]);
      });

      const outcome = await executeOrder({ ctx: t.ctx, mode: 'live', feed: 'kraken', exchange, portfolio }, {
        purpose: 'entry', strategy: 'self-heal-race', symbol: 'BTC/USD', side: 'buy', quantity: dec('0.01'), reason: 'test', referencePrice: dec(60_000),
      });
      const result = await heal!;

      const [intent] = await database.db.select().from(orderIntents).where(eq(orderIntents.strategy, 'self-heal-race'));
      expect(intent).toMatchObject({ status: 'filled' });
      expect(await database.db.select().from(trades).where(eq(trades.entryIntentId, intent!.id))).toHaveLength(1);
      // The executor booked it, and into the book the engine trades from.
      expect(outcome).toMatchObject({ kind: 'recorded', outcome: { intentStatus: 'filled', applied: true } });
      expect([...portfolio.positions.values()].map((p) => ({ symbol: p.symbol, quantity: p.quantity.toFixed() }))).toEqual([{ symbol: 'BTC/USD', quantity: '0.01' }]);
      expect(portfolio.inFlight.size).toBe(0);
      // Self-heal resolved nothing: the order was the executor's to book.
      expect(result.actions.find((a) => a.check === 'exchange')?.detail).toMatch(/intents resolved: 0 recorded, 0 never placed, 0 still open/);
    } finally {
      await t.ctx.close();
    }
  }, 60_000);
});
