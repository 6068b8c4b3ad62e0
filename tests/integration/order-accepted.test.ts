// An order Kraken has accepted is no longer "on its way": the intent is `sent` with Kraken's order id
// as soon as AddOrder answers, while the read-back (QueryOrders, QueryTrades) may still queue behind
// the rate limit — so a kill's fence neither waits for it nor reports that it "may reach the exchange
// after this kill" (the live soak saw exactly that: an exit accepted before the halt, read back slowly).
import { ALONE_BY_CONSTRUCTION } from '../../src/engine/ledger/intent-lease.js';
import { eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { orderIntents } from '../../src/db/schema/index.js';
import { executeOrder } from '../../src/engine/order-executor.js';
import { Portfolio } from '../../src/engine/portfolio.js';
import { dec } from '../../src/money.js';
import { awaitOrdersInFlight } from '../../src/services/kill/fence.js';
import { liveContext, useLiveKraken } from '../support/live-engine.js';

// A PostgreSQL database and a live Kraken simulator for this file.
const bed = useLiveKraken();

describe('an order Kraken accepted', () => {
  it('is sent (with Kraken\'s order id) before its read-back answers, and the kill\'s fence does not wait for it', async () => {
    const t = await liveContext(bed.database, bed.kraken);
    try {
      t.ctx.prices.update({ candle: { symbol: 'BTC/USD', openTime: new Date(t.clock.now().getTime() - 60_000), open: 60_000, high: 60_000, low: 60_000, close: 60_000, volume: 10 } });
      const portfolio = new Portfolio();
      portfolio.setCash(dec(10_000));
      // The read-back is slow, as when it queues behind the follower's reads at Kraken's rate limit.
      bed.kraken.sim.latency.set('QueryOrders', 2_000);
      const placing = executeOrder({ lease: ALONE_BY_CONSTRUCTION, ctx: t.ctx, mode: 'live', feed: 'kraken', exchange: t.ctx.exchanges.forMode('live'), portfolio }, {
        purpose: 'entry', strategy: 'accepted-test', symbol: 'BTC/USD', side: 'buy', quantity: dec('0.01'), reason: 'test', referencePrice: dec(60_000),
      });
      const started = Date.now();
      while (!bed.kraken.sim.calls.some((c) => c.endpoint === 'QueryOrders') && Date.now() - started < 20_000) await new Promise((r) => setTimeout(r, 20));
      const [order] = [...bed.kraken.sim.state.orders.values()];
      expect(order, 'Kraken has the order').toBeDefined();
      const [intent] = await bed.database.db.select().from(orderIntents).where(eq(orderIntents.clientOrderId, order!.cl_ord_id!));
      expect(intent, 'the intent while its read-back waits').toMatchObject({ status: 'sent', exchangeOrderId: order!.txid });
      expect((await awaitOrdersInFlight(bed.database.db, 300)).unresolved, 'orders the fence would wait for').toEqual([]);
      expect(await placing).toMatchObject({ kind: 'recorded' });
      const [done] = await bed.database.db.select().from(orderIntents).where(eq(orderIntents.id, intent!.id));
      expect(done).toMatchObject({ status: 'filled', exchangeOrderId: order!.txid });
    } finally {
      bed.kraken.sim.latency.clear();
      await t.ctx.close();
    }
  }, 60_000);
});
