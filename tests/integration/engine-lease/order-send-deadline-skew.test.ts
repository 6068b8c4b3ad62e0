// AddOrder's deadline is written on Kraken's clock, absolute from the fence (engine/send-deadline.ts,
// exchange/kraken/kraken-time.ts): a host whose clock is tens of seconds off Kraken's still places
// its exits and a kill's flatten, and a slow market load in the adapter does not move the deadline
// past fence + ORDER_SEND_DEADLINE_MS. Real executor and flatten, the Kraken simulator over HTTP
// through the real adapter, PostgreSQL. A skewed host is a simulator whose clock runs off ours.
import { eq, sql } from 'drizzle-orm';
import { afterAll, describe, expect, it } from 'vitest';
import type { Clock } from '../../../src/clock.js';
import { execute } from '../../../src/db/client.js';
import { orderIntents } from '../../../src/db/schema/index.js';
import { acquireLease, type LeaseClaim } from '../../../src/db/queries/engine-lease.js';
import { flattenPositions } from '../../../src/engine/flatten.js';
import { executeOrder, type OrderRequestSpec } from '../../../src/engine/order-executor.js';
import { Portfolio } from '../../../src/engine/portfolio.js';
import { ORDER_SEND_DEADLINE_MS } from '../../../src/engine/send-deadline.js';
import type { Exchange, OrderRequest } from '../../../src/exchange/types.js';
import { dec } from '../../../src/money.js';
import { until } from '../../support/held-kraken.js';
import { liveContext, startLiveKraken, useLiveKraken, type LiveKraken } from '../../support/live-engine.js';

const bed = useLiveKraken();
const claim = (holderId: string): LeaseClaim => ({ holderId, host: holderId.split(':')[0]!, pid: 42, role: 'worker', feed: 'kraken', armed: true, hasKrakenKeys: true });
const ME = 'engine-host:1:aaaaaaaa';

const entry = (strategy: string): OrderRequestSpec =>
  ({ purpose: 'entry', strategy, symbol: 'BTC/USD', side: 'buy', quantity: dec('0.01'), reason: 'test', referencePrice: dec(60_000) });
const exit = (strategy: string): OrderRequestSpec =>
  ({ purpose: 'exit', strategy, symbol: 'BTC/USD', side: 'sell', quantity: dec('0.01'), tradeId: 999, reason: 'test', referencePrice: dec(60_000) });

/** Kraken's clock running `offsetMs` off this host's. */
const skewed = (offsetMs: number): Clock => ({ now: () => new Date(Date.now() + offsetMs) });

/** One order through the real executor under the lease held by ME; `exchange` may stand in front of the real adapter. */
async function send(kraken: LiveKraken, spec: OrderRequestSpec, exchange: (real: Exchange) => Exchange = (real) => real) {
  const t = await liveContext(bed.database, kraken);
  try {
    await execute(bed.database.db, sql`update bot_state set halted = false where id = 1`);
    await execute(bed.database.db, sql`delete from engine_lease`);
    await acquireLease(bed.database.db, claim(ME), 60_000);
    t.ctx.prices.update({ candle: { symbol: 'BTC/USD', openTime: new Date(t.clock.now().getTime() - 60_000), open: 60_000, high: 60_000, low: 60_000, close: 60_000, volume: 10 } });
    const portfolio = new Portfolio();
    portfolio.setCash(dec(10_000));
    const addOrdersBefore = kraken.addOrders().length;
    const outcome = await executeOrder({
      lease: { kind: 'held', holderId: ME, lost: () => undefined }, ctx: t.ctx, mode: 'live', feed: 'kraken', exchange: exchange(t.ctx.exchanges.forMode('live')), portfolio,
    }, spec);
    const [intent] = await bed.database.db.select().from(orderIntents).where(eq(orderIntents.strategy, spec.strategy));
    return { outcome, intent: intent!, addOrders: kraken.addOrders().slice(addOrdersBefore) };
  } finally {
    await t.ctx.close();
  }
}

describe('a host whose clock is off Kraken\'s still places its orders, the deadline on Kraken\'s clock', () => {
  const sims: LiveKraken[] = [];
  afterAll(async () => {
    for (const s of sims) await s.sim.close();
  });

  it.each([['25 s behind', 25_000], ['45 s ahead of', -45_000]] as const)('host %s Kraken: an exit and a kill\'s flatten are placed and fill', async (name, offsetMs) => {
    const k = await startLiveKraken({ clock: skewed(offsetMs), balances: { ZUSD: '100000', XXBT: '1' } });
    sims.push(k);
    const fenced = Date.now();
    const out = await send(k, exit(`skew-exit-${offsetMs}`));
    expect(out.outcome).toMatchObject({ kind: 'recorded', outcome: { intentStatus: 'filled' } });
    // Kraken reads the deadline as about ORDER_SEND_DEADLINE_MS after the decision, on its own clock.
    const deadline = Date.parse(out.addOrders[0]!['deadline']!);
    expect(deadline - (fenced + offsetMs)).toBeGreaterThan(ORDER_SEND_DEADLINE_MS - 2_500);
    expect(deadline - (fenced + offsetMs)).toBeLessThanOrEqual(ORDER_SEND_DEADLINE_MS + 1_000 + (Date.now() - fenced));
    // A position bought through the skewed host, then closed by a flatten, as a kill hands it over.
    expect((await send(k, entry(`skew-entry-${offsetMs}`))).outcome).toMatchObject({ kind: 'recorded', outcome: { intentStatus: 'filled' } });
    const t = await liveContext(bed.database, k);
    try {
      const report = await flattenPositions(t.ctx);
      expect(report).toMatchObject({ ok: true, failed: [], pending: [] });
      expect(report.closed.length).toBeGreaterThanOrEqual(1);
    } finally {
      await t.ctx.close();
    }
    expect([...k.sim.state.orders.values()].map((o) => o.status)).toEqual(['closed', 'closed', 'closed']);
  }, 60_000);
});

describe('a slow market load does not move the deadline', () => {
  it('with AssetPairs held 6 s before the send, the deadline sent is still within fence + ORDER_SEND_DEADLINE_MS on Kraken\'s clock', async () => {
    const k = await startLiveKraken({ balances: { ZUSD: '100000', XXBT: '1' } });
    try {
      const release = k.sim.hold('AssetPairs');
      const sending = send(k, exit('slow-markets-exit'));
      await until(() => k.sim.calls.some((c) => c.endpoint === 'AssetPairs'));
      // The intent is written (and its fence read) before the adapter asks for the markets.
      const asked = Date.now();
      await new Promise((r) => setTimeout(r, 6_000));
      release();
      const r = await sending;
      expect(r.outcome).toMatchObject({ kind: 'recorded', outcome: { intentStatus: 'filled' } });
      expect(Date.parse(r.addOrders[0]!['deadline']!)).toBeLessThanOrEqual(asked + ORDER_SEND_DEADLINE_MS);
    } finally {
      await k.sim.close();
    }
  }, 60_000);
});

describe('the adapter\'s last check, right before the request leaves', () => {
  it('with less than 3 s left of the send-by moment fixed at the fence (on the real clock), the order is not sent and its intent says so', async () => {
    // The engine's clock says the order is fresh; on the real clock its fence was 17.5 s ago (a pause
    // the engine's clock did not see, or a wait inside the adapter).
    const late = (real: Exchange): Exchange => new Proxy(real, {
      get(target, prop) {
        const value = Reflect.get(target, prop, target);
        if (prop !== 'createOrder') return typeof value === 'function' ? value.bind(target) : value;
        return (order: OrderRequest) => target.createOrder({ ...order, ...(order.sendBy ? { sendBy: new Date(order.sendBy.getTime() - 17_500) } : {}) });
      },
    });
    const r = await send(bed.kraken, entry('adapter-too-late'), late);
    expect(r.addOrders).toEqual([]);
    expect(r.outcome).toMatchObject({ kind: 'refused' });
    expect(r.intent.status).toBe('refused');
    expect(r.intent.error).toMatch(/^not sent: Kraken had to receive the order by \S+ and only \d+ ms \(less than 3 s\) was left of that when its request could leave; nothing was placed$/);
  }, 60_000);
});
