// The lease fence covers writing an order's intent, not sending it (engine/send-deadline.ts): a live
// order reaches Kraken only within ORDER_SEND_DEADLINE_MS of its fence moment, so an engine paused
// between the write and the send — past a standby's takeover and the grace after which its recovery
// closes the intent as never placed — sends nothing, and an order that reaches Kraken late is refused by
// Kraken itself; a flatten's sale likewise. Real executor and flatten, the Kraken simulator over HTTP through the real adapter, PostgreSQL.
// A pause is the engine's manual clock moved on, not a sleep; an order late on its way is the
// simulator's AddOrder held while the simulator's clock moves on.
import { eq, sql } from 'drizzle-orm';
import { afterAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../../src/clock.js';
import { execute } from '../../../src/db/client.js';
import { orderIntents } from '../../../src/db/schema/index.js';
import { acquireLease, type LeaseClaim } from '../../../src/db/queries/engine-lease.js';
import { flattenPositions } from '../../../src/engine/flatten.js';
import { failIntentAfterGrace, NEVER_PLACED_ERROR } from '../../../src/engine/ledger/intents.js';
import { executeOrder, type OrderHooks, type OrderRequestSpec } from '../../../src/engine/order-executor.js';
import { Portfolio } from '../../../src/engine/portfolio.js';
import { NOT_FOUND_GRACE_MS, resolveIntents } from '../../../src/engine/recovery.js';
import { ORDER_SEND_DEADLINE_MS } from '../../../src/engine/send-deadline.js';
import { dec } from '../../../src/money.js';
import { until } from '../../support/held-kraken.js';
import { ageIntentStates, liveContext, startLiveKraken, useLiveKraken, type LiveKraken } from '../../support/live-engine.js';

const bed = useLiveKraken();
const claim = (holderId: string): LeaseClaim => ({ holderId, host: holderId.split(':')[0]!, pid: 42, role: 'worker', feed: 'kraken', armed: true, hasKrakenKeys: true });
const ME = 'engine-host:1:aaaaaaaa';
const OTHER = 'standby-host:2:bbbbbbbb';

const entry = (strategy: string): OrderRequestSpec =>
  ({ purpose: 'entry', strategy, symbol: 'BTC/USD', side: 'buy', quantity: dec('0.01'), reason: 'test', referencePrice: dec(60_000) });
const exit = (strategy: string): OrderRequestSpec =>
  ({ purpose: 'exit', strategy, symbol: 'BTC/USD', side: 'sell', quantity: dec('0.01'), tradeId: 999, reason: 'test', referencePrice: dec(60_000) });

/** One order through the real executor under the lease held by ME; `hooks` run between its steps. */
async function send(kraken: LiveKraken, spec: OrderRequestSpec, hooks: (t: Awaited<ReturnType<typeof liveContext>>) => OrderHooks = () => ({})) {
  const t = await liveContext(bed.database, kraken);
  try {
    await execute(bed.database.db, sql`update bot_state set halted = false where id = 1`);
    await execute(bed.database.db, sql`delete from engine_lease`);
    await acquireLease(bed.database.db, claim(ME), 60_000);
    t.ctx.prices.update({ candle: { symbol: 'BTC/USD', openTime: new Date(t.clock.now().getTime() - 60_000), open: 60_000, high: 60_000, low: 60_000, close: 60_000, volume: 10 } });
    const portfolio = new Portfolio();
    portfolio.setCash(dec(10_000));
    const lost: string[] = [];
    const addOrdersBefore = kraken.addOrders().length;
    const outcome = await executeOrder({
      lease: { kind: 'held', holderId: ME, lost: (r) => lost.push(r) }, ctx: t.ctx, mode: 'live', feed: 'kraken', exchange: t.ctx.exchanges.forMode('live'), portfolio,
      hooks: hooks(t),
    }, spec);
    const [intent] = await bed.database.db.select().from(orderIntents).where(eq(orderIntents.strategy, spec.strategy));
    return { outcome, intent: intent!, portfolio, t, addOrders: kraken.addOrders().slice(addOrdersBefore) };
  } finally {
    await t.ctx.close();
  }
}

describe('a live order is sent only within its deadline from the fence moment', () => {
  it.each([['entry', entry], ['exit', exit]] as const)('%s: paused after its intent past a takeover and the grace, the engine sends nothing, and the intent stays closed as never placed', async (purpose, spec) => {
    const r = await send(bed.kraken, spec(`deadline-takeover-${purpose}`), (t) => ({
      // The process pauses here (GC, SIGSTOP, a slow funds check) past its TTL: a standby takes the
      // lease over and halts, and once the grace has passed its recovery closes the intent, which
      // Kraken does not list, as never placed.
      afterIntent: async (intent) => {
        expect((await acquireLease(bed.database.db, claim(OTHER), 60_000, ME)).acquired).toBe(true);
        await execute(bed.database.db, sql`update bot_state set halted = true where id = 1`);
        t.clock.advance(15_000 + NOT_FOUND_GRACE_MS);
        expect(await failIntentAfterGrace(bed.database.db, { id: intent.id, error: NEVER_PLACED_ERROR, at: new Date(), graceMs: 0 })).toBe('closed');
      },
    }));
    expect(r.addOrders).toEqual([]);
    expect(r.outcome).toMatchObject({ kind: 'refused', message: expect.stringMatching(/^not sent: the order was decided 75 s ago .*nothing was placed$/) });
    // What the new holder's recovery wrote is now a fact of Kraken's: nothing of it was placed.
    expect(r.intent).toMatchObject({ status: 'failed', error: NEVER_PLACED_ERROR });
    expect(r.portfolio.inFlight.size).toBe(0);
  }, 60_000);

  it('a normal live order carries the deadline (fence moment + ORDER_SEND_DEADLINE_MS) in AddOrder and fills', async () => {
    const before = Date.now();
    const r = await send(bed.kraken, entry('deadline-normal'));
    expect(r.outcome).toMatchObject({ kind: 'recorded', outcome: { intentStatus: 'filled' } });
    expect(r.addOrders).toHaveLength(1);
    const deadline = Date.parse(r.addOrders[0]!['deadline']!);
    expect(deadline).toBeGreaterThan(before + ORDER_SEND_DEADLINE_MS - 1_000);
    expect(deadline).toBeLessThanOrEqual(Date.now() + ORDER_SEND_DEADLINE_MS);
  }, 60_000);

  it('with less than 3 s of the deadline left at send time the order is not sent, and its intent says so; with 4 s left it is', async () => {
    const late = await send(bed.kraken, entry('deadline-too-late'), (t) => ({ afterIntent: () => void t.clock.advance(ORDER_SEND_DEADLINE_MS - 2_500) }));
    expect(late.addOrders).toEqual([]);
    expect(late.outcome).toMatchObject({ kind: 'refused' });
    expect(late.intent.status).toBe('refused');
    expect(late.intent.error).toMatch(/^not sent: the order was decided 18 s ago and Kraken must receive it within 20 s of that \(less than 3 s was left\); nothing was placed$/);
    const inTime = await send(bed.kraken, entry('deadline-in-time'), (t) => ({ afterIntent: () => void t.clock.advance(ORDER_SEND_DEADLINE_MS - 4_000) }));
    expect(inTime.outcome).toMatchObject({ kind: 'recorded', outcome: { intentStatus: 'filled' } });
    expect(inTime.addOrders).toHaveLength(1);
  }, 60_000);

  it('a flatten\'s live sale carries the deadline too, and fills', async () => {
    await send(bed.kraken, entry('deadline-flatten'));
    const t = await liveContext(bed.database, bed.kraken);
    try {
      const before = bed.kraken.addOrders().length;
      const started = Date.now();
      const report = await flattenPositions(t.ctx);
      expect(report).toMatchObject({ ok: true, failed: [], pending: [] });
      const sales = bed.kraken.addOrders().slice(before);
      expect(sales.length).toBeGreaterThanOrEqual(1);
      for (const sale of sales) {
        expect(Date.parse(sale['deadline']!)).toBeGreaterThan(started + ORDER_SEND_DEADLINE_MS - 1_000);
        expect(Date.parse(sale['deadline']!)).toBeLessThanOrEqual(Date.now() + ORDER_SEND_DEADLINE_MS);
      }
    } finally {
      await t.ctx.close();
    }
  }, 60_000);

  describe('an order that reaches Kraken after its deadline', () => {
    const simClock = new ManualClock(new Date());
    let late: LiveKraken | undefined;
    afterAll(async () => {
      await late?.sim.close();
    });

    it('is refused by Kraken, not placed, and its intent is left to be resolved by asking Kraken: never placed after the grace', async () => {
      simClock.set(new Date());
      late = await startLiveKraken({ clock: simClock });
      const k = late;
      const release = k.sim.hold('AddOrder');
      const sending = send(k, entry('deadline-kraken-late'));
      // The request is on its way (received, not yet handled) while Kraken's time passes its deadline.
      await until(() => k.addOrders().length > 0);
      simClock.advance(ORDER_SEND_DEADLINE_MS + 5_000);
      release();
      const r = await sending;
      expect(k.sim.state.orders.size).toBe(0);
      expect(r.outcome).toMatchObject({ kind: 'unknown', message: expect.stringContaining('EService:Deadline elapsed') });
      // Neither booked filled nor said to be placed: in flight, for the fill follower to ask Kraken about.
      expect(r.intent).toMatchObject({ status: 'sent', exchangeOrderId: null });
      expect(r.portfolio.inFlight.has(r.intent.id)).toBe(true);
      // Once the grace has passed on the database's clock, Kraken not listing it closes it as never placed.
      await ageIntentStates(bed.database, NOT_FOUND_GRACE_MS + 1_000);
      const t = await liveContext(bed.database, k);
      try {
        const report = await resolveIntents({ ctx: t.ctx, mode: 'live', exchange: t.ctx.exchanges.forMode('live') });
        expect(report.neverPlaced).toBeGreaterThanOrEqual(1);
      } finally {
        await t.ctx.close();
      }
      const [after] = await bed.database.db.select().from(orderIntents).where(eq(orderIntents.id, r.intent.id));
      expect(after).toMatchObject({ status: 'failed', error: NEVER_PLACED_ERROR });
    }, 60_000);

    it('a flatten\'s sale too: not placed, reported pending (not closed), its intent left to be resolved', async () => {
      const k = late!;
      const t0 = await liveContext(bed.database, bed.kraken);
      try {
        expect((await flattenPositions(t0.ctx)).failed).toEqual([]);
      } finally {
        await t0.ctx.close();
      }
      await send(bed.kraken, entry('deadline-flatten-late'));
      simClock.set(new Date());
      const t = await liveContext(bed.database, k);
      try {
        const release = k.sim.hold('AddOrder');
        const before = k.addOrders().length;
        const flattening = flattenPositions(t.ctx);
        await until(() => k.addOrders().length > before);
        simClock.advance(ORDER_SEND_DEADLINE_MS + 5_000);
        release();
        const report = await flattening;
        expect(report).toMatchObject({ ok: false, closed: [], failed: [], pending: [{ note: expect.stringContaining('EService:Deadline elapsed') }] });
        expect(k.sim.state.orders.size).toBe(0);
        const sales = await bed.database.db.select().from(orderIntents).where(eq(orderIntents.purpose, 'flatten'));
        expect(sales.filter((s) => s.status === 'sent')).toHaveLength(1);
      } finally {
        await t.ctx.close();
      }
    }, 60_000);
  });
});
