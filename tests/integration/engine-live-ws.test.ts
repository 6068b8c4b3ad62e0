// The live engine booking Kraken fills from the WebSocket v2 executions channel, against the
// simulator over a real socket, on PostgreSQL: with the link healthy every fill is booked from the
// stream (no REST read-back at all); a socket dropped while an order fills is made good by the
// snapshot on reconnect, and REST polling, seeing the same trades, books none of them twice; a token
// Kraken refuses is one clear error line, and REST polling books everything meanwhile.
import { ALONE_BY_CONSTRUCTION } from '../../src/engine/ledger/intent-lease.js';
import { Writable } from 'node:stream';
import { eq } from 'drizzle-orm';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { Database, Db } from '../../src/db/client.js';
import { fills, orderIntents, trades } from '../../src/db/schema/index.js';
import { Engine } from '../../src/engine/engine.js';
import type { OrderHooks } from '../../src/engine/order-executor.js';
import { validateClosedTrades } from '../../src/engine/ledger/validate-trades.js';
import type { MarketFeed, MarketTick } from '../../src/market/types.js';
import { dec } from '../../src/money.js';
import type { SimulatorOptions } from '../../src/simulator/simulator.js';
import { ENGINE_TABLES, usePostgresTestDb } from '../support/db.js';
import { candlesFrom, maCross, roundTripCloses } from '../support/engine.js';
import { liveContext, SimulatorMarketFeed, startLiveKraken, type LiveKraken } from '../support/live-engine.js';

const REST_READS = ['QueryOrders', 'QueryTrades', 'OpenOrders', 'ClosedOrders'];

let cleanup: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c().catch(() => undefined);
  cleanup = [];
});

/** Hands out the simulator's candles once `ready()` holds (the link subscribed, or refused). */
class FeedAfter implements MarketFeed {
  readonly kind = 'kraken' as const;
  ready: () => boolean = () => true;
  constructor(private readonly inner: SimulatorMarketFeed) {}
  async next(signal: AbortSignal): Promise<MarketTick[] | null> {
    const until = Date.now() + 15_000;
    while (!this.ready()) {
      if (Date.now() > until) throw new Error('the executions link never got ready');
      await new Promise((r) => setTimeout(r, 20));
    }
    return this.inner.next(signal);
  }
}

async function until(what: string, check: () => Promise<boolean> | boolean, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

function captureLogs() {
  const lines: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk, _enc, cb) {
      for (const line of String(chunk).split('\n')) if (line.trim()) lines.push(JSON.parse(line) as Record<string, unknown>);
      cb();
    },
  });
  return { logger: pino({ level: 'info' }, sink), lines };
}

async function wsRun(db: Database, opts: { sim?: SimulatorOptions; hooks?: (k: LiveKraken) => OrderHooks; stopWhenFeedEnds?: boolean } = {}) {
  const k = await startLiveKraken(opts.sim);
  cleanup.push(() => k.sim.close());
  const logs = captureLogs();
  const t = await liveContext(db, k, { KRAKEN_WS_EXECUTIONS: 'on' }, { logger: logs.logger });
  cleanup.push(() => t.ctx.close());
  const feed = new FeedAfter(new SimulatorMarketFeed('kraken', candlesFrom(roundTripCloses()), 30, k.sim));
  const engine = new Engine({ lease: ALONE_BY_CONSTRUCTION,
    ctx: t.ctx, feed, strategies: [maCross()], marketClock: t.clock, stopWhenFeedEnds: opts.stopWhenFeedEnds ?? true, housekeepingMs: 0, fillFollowMs: 50,
    ...(opts.hooks ? { hooks: opts.hooks(k) } : {}),
  });
  cleanup.push(() => engine.stop());
  return { k, t, engine, feed, logs };
}

/** ctb_live_orders_booked_total by `via` (stream = executions channel, poll = REST). */
async function bookedVia(t: { ctx: { metrics: import('prom-client').Registry } }): Promise<Record<string, number>> {
  const metric = t.ctx.metrics.getSingleMetric('ctb_live_orders_booked_total');
  const values = metric ? (await metric.get()).values : [];
  return Object.fromEntries(values.map((v) => [String(v.labels['via']), v.value]));
}

const restReads = (k: LiveKraken) => k.sim.calls.filter((c) => REST_READS.includes(c.endpoint));

async function expectLedgerIsKrakens(db: Db, k: LiveKraken): Promise<void> {
  const booked = await db.select().from(fills).orderBy(fills.id);
  const atKraken = k.sim.state.trades;
  expect(booked.map((f) => f.exchangeTradeId).sort()).toEqual(atKraken.map((x) => x.txid).sort());
  for (const f of booked) {
    const x = atKraken.find((y) => y.txid === f.exchangeTradeId)!;
    expect([dec(f.quantity).toFixed(), dec(f.price).toFixed(), dec(f.chargedFee!).toFixed()]).toEqual([dec(x.vol).toFixed(), dec(x.price).toFixed(), dec(x.fee).toFixed()]);
    expect(f).toMatchObject({ mode: 'live', chargedFeeCurrency: 'USD', feeCurrency: 'USD', exchangeOrderId: x.ordertxid });
  }
}

describe('live fills from Kraken’s executions channel (PostgreSQL, simulator over WebSocket)', () => {
  const database = usePostgresTestDb({ truncate: ENGINE_TABLES });

  it('books entry and exit from the stream with the link healthy: no REST read-back, capital_buffer on close, ledger = Kraken’s trades', async () => {
    const { k, t, engine, feed } = await wsRun(database());
    feed.ready = () => engine.executions.healthy;
    await engine.start();
    const db = database().db;
    const intents = await db.select().from(orderIntents).orderBy(orderIntents.id);
    expect(intents.map((i) => [i.purpose, i.status])).toEqual([['entry', 'filled'], ['exit', 'filled']]);
    await expectLedgerIsKrakens(db, k);
    expect(await db.select().from(fills)).toHaveLength(2);
    const [trade] = await db.select().from(trades);
    expect(trade).toMatchObject({ status: 'closed', mode: 'live' });
    expect(trade!.capitalBuffer).not.toBeNull();
    expect((await validateClosedTrades(db)).offending).toEqual([]);
    // Booked from the stream: Kraken was never asked about an order or a trade over REST.
    expect(restReads(k)).toEqual([]);
    expect(k.sim.calls.filter((c) => c.endpoint === 'GetWebSocketsToken').length).toBeGreaterThanOrEqual(1);
    expect(await bookedVia(t)).toEqual({ stream: 2 });
  }, 120_000);

  it('a socket dropped while an order fills: the reconnect snapshot books the missed trade, REST polling then sees both trades and books neither again', async () => {
    const { k, t, engine, feed } = await wsRun(database(), {
      sim: { fillSlices: 2 }, stopWhenFeedEnds: false,
      hooks: (kk) => ({
        afterSend: (intent) => {
          if (intent.purpose !== 'entry') return;
          // The link drops (and stays down a while), REST cannot answer, and the rest of the order fills meanwhile.
          kk.sim.executions.drop(1_500);
          for (const endpoint of REST_READS) kk.sim.faults.add({ endpoint, kind: 'http_5xx', times: 1_000_000 });
          kk.sim.advance(1);
        },
      }),
    });
    feed.ready = () => engine.executions.healthy;
    const running = engine.start();
    const db = database().db;
    const entryFills = async () => {
      const [entry] = await db.select().from(orderIntents).where(eq(orderIntents.purpose, 'entry'));
      return entry ? db.select().from(fills).where(eq(fills.intentId, entry.id)) : [];
    };
    // First slice booked from the stream at once; the second only by the snapshot after the reconnect.
    await until('the missed trade is booked from the reconnect snapshot', async () => (await entryFills()).length === 2);
    const [entry] = await db.select().from(orderIntents).where(eq(orderIntents.purpose, 'entry'));
    // A snapshot lists trades, not how much of the order filled: the order is finished by REST.
    expect(entry!.status).toBe('open');
    expect(k.sim.state.trades).toHaveLength(2);
    k.sim.faults.clear();
    // The intent turns 'filled' in the booking's statement, and the booking is counted once the engine
    // has its answer: another connection can see the row first, so wait for both.
    await until('REST polling finishes the entry and counts its booking', async () =>
      (await db.select().from(orderIntents).where(eq(orderIntents.id, entry!.id)))[0]!.status === 'filled' && Object.keys(await bookedVia(t)).length > 0);
    expect(restReads(k).length).toBeGreaterThan(0);
    expect(await bookedVia(t)).toEqual({ poll: 1 });
    await engine.stop();
    await running;
    await expectLedgerIsKrakens(db, k);
    const booked = await entryFills();
    expect(booked).toHaveLength(2);
    const [trade] = await db.select().from(trades);
    expect(trade).toMatchObject({ status: 'open', entryIntentId: entry!.id });
    expect(dec(trade!.quantity).toFixed()).toBe(dec(entry!.quantity).toFixed());
  }, 120_000);

  it('a token Kraken refuses: one clear error naming Kraken’s answer, and REST polling books every fill', async () => {
    const { k, t, engine, feed, logs } = await wsRun(database());
    k.sim.executions.rejectTokens = true;
    feed.ready = () => engine.executions.problem?.includes('ESession:Invalid session') ?? false;
    await engine.start();
    const db = database().db;
    const intents = await db.select().from(orderIntents).orderBy(orderIntents.id);
    expect(intents.map((i) => [i.purpose, i.status])).toEqual([['entry', 'filled'], ['exit', 'filled']]);
    await expectLedgerIsKrakens(db, k);
    expect(restReads(k).length).toBeGreaterThan(0);
    expect(await bookedVia(t)).toEqual({ poll: 2 });
    const refusal = logs.lines.find((l) => l['level'] === 50 && String(l['msg']).includes('Kraken refused the executions subscribe'));
    expect(refusal?.['msg']).toBe('Kraken refused the executions subscribe: ESession:Invalid session; fills are followed by REST polling until the link is back');
    // The token never reaches a log line.
    const tokens = k.sim.calls.filter((c) => c.endpoint === 'GetWebSocketsToken').length;
    expect(tokens).toBeGreaterThanOrEqual(1);
    expect(JSON.stringify(logs.lines)).not.toMatch(/"token":"[A-Za-z0-9+/]{20,}/);
  }, 120_000);
});
