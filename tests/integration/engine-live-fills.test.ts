// The engine trading live (IS_LIVE=true, bot_state live) against a Kraken that fills: every fill is
// booked from Kraken's own answers, orders in flight count toward the limits, an answer the bot
// cannot read is resolved instead of rejected, an order the account cannot pay for is never sent.
import { eq } from 'drizzle-orm';
import { afterEach, describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/client.js';
import { fills, orderIntents, trades } from '../../src/db/schema/index.js';
import { validateClosedTrades } from '../../src/engine/ledger/validate-trades.js';
import { dec, sum } from '../../src/money.js';
import { createTestDb, ENGINE_TABLES, usePostgresTestDb, type DbKind } from '../support/db.js';
import { candlesFrom, maCross, roundTripCloses } from '../support/engine.js';
import { startFillingKraken, type FillingKraken, type Garble } from '../support/filling-kraken.js';
import { liveContext, liveEngine } from '../support/live-engine.js';

let kraken: FillingKraken | undefined;
let closeCtx: (() => Promise<void>) | undefined;

afterEach(async () => {
  await closeCtx?.();
  await kraken?.close();
  kraken = undefined;
  closeCtx = undefined;
});

/** A Kraken that fills market orders at the engine's latest close, each in two trades. */
async function krakenAtMarket(last: () => number | undefined, extra: Parameters<typeof startFillingKraken>[0] = {}) {
  kraken = await startFillingKraken({ tradesPerOrder: 2, priceOf: () => (last() ?? 60_000).toFixed(1), ...extra });
  return kraken;
}

async function liveRun(db: Database, opts: { strategies?: Parameters<typeof liveEngine>[2]; candles?: Parameters<typeof liveEngine>[1]; before?: (k: FillingKraken) => void; engine?: Parameters<typeof liveEngine>[3] } = {}) {
  let price: (() => number | undefined) = () => undefined;
  const k = await krakenAtMarket(() => price());
  opts.before?.(k);
  const t = await liveContext(db, k);
  closeCtx = () => t.ctx.close();
  price = () => t.ctx.prices.lastCandle('BTC/USD')?.close;
  const engine = liveEngine(t, opts.candles ?? candlesFrom(roundTripCloses()), opts.strategies ?? [maCross()], opts.engine ?? {});
  return { k, t, engine };
}

describe.each<DbKind>(['postgres', 'pglite'])('live round trip on %s', (kind) => {
  it('books the entry and the exit from Kraken’s fills, capital_buffer on close, and the ledger matches Kraken’s balance', async () => {
    const database = await createTestDb(kind);
    try {
      const { k, engine } = await liveRun(database);
      await engine.start();
      const intents = await database.db.select().from(orderIntents).orderBy(orderIntents.id);
      expect(intents.map((i) => [i.purpose, i.status])).toEqual([['entry', 'filled'], ['exit', 'filled']]);
      // Every Kraken trade is a fill in the ledger, once, with the fee as Kraken charged it.
      const booked = await database.db.select().from(fills).orderBy(fills.id);
      const atKraken = k.fake.state.trades;
      expect(booked.map((f) => f.exchangeTradeId).sort()).toEqual(atKraken.map((t) => t.txid).sort());
      expect(booked).toHaveLength(4);
      for (const f of booked) {
        const t = atKraken.find((x) => x.txid === f.exchangeTradeId)!;
        expect(dec(f.quantity).toFixed()).toBe(dec(t.vol).toFixed());
        expect(dec(f.price).toFixed()).toBe(dec(t.price).toFixed());
        expect(dec(f.chargedFee!).toFixed()).toBe(dec(t.fee).toFixed());
        expect(f.chargedFeeCurrency).toBe('USD');
        expect(f.mode).toBe('live');
      }
      const all = await database.db.select().from(trades);
      expect(all).toHaveLength(1);
      expect(all[0]).toMatchObject({ status: 'closed', mode: 'live', feed: 'kraken' });
      expect(all[0]!.capitalBuffer).not.toBeNull();
      expect((await validateClosedTrades(database.db)).offending).toEqual([]);
      // Kraken's cash and the ledger agree to the last digit: start + realized PnL.
      expect(dec(k.fake.state.balances['ZUSD']!).toFixed()).toBe(dec(10_000).plus(sum(all.map((t) => dec(t.realizedPnl!)))).toFixed());
      expect(dec(k.fake.state.balances['XXBT']!).isZero()).toBe(true);
    } finally {
      await closeCtx?.();
      closeCtx = undefined;
      await database.close();
    }
  }, 180_000);
});

describe('live engine with orders in flight and faults', () => {
  const database = usePostgresTestDb({ truncate: ENGINE_TABLES });

  it('holds maxOpenPositions while an entry is in flight (Kraken filled it but lists no trades yet): no second entry on any pair', async () => {
    const btc = candlesFrom(roundTripCloses());
    const eth = candlesFrom(roundTripCloses(3_000), { symbol: 'ETH/USD' });
    const candles = [...btc, ...eth].sort((a, b) => a.openTime.getTime() - b.openTime.getTime());
    const { k, engine } = await liveRun(database(), {
      candles, strategies: [maCross({ pairs: ['BTC/USD', 'ETH/USD'], limits: { maxOpenPositions: 1 } })],
      before: (fk) => fk.holdTradeListing(),
    });
    await engine.start();
    expect(k.addOrders.filter((o) => o['type'] === 'buy')).toHaveLength(1);
    const [intent] = await database().db.select().from(orderIntents);
    expect(intent).toMatchObject({ purpose: 'entry', status: 'open' });
    expect(intent!.exchangeOrderId).not.toBeNull();
    expect(await database().db.select().from(trades)).toHaveLength(0);
    // The in-flight entry counts: exposure and reserved cash.
    expect(engine.portfolio.openCount('test-ma')).toBe(1);
    expect(engine.portfolio.inFlight.size).toBe(1);

    k.releaseTradeListing();
    await engine.followFills();
    expect((await database().db.select().from(orderIntents).where(eq(orderIntents.id, intent!.id)))[0]!.status).toBe('filled');
    expect(await database().db.select().from(fills)).toHaveLength(2);
    expect(await database().db.select().from(trades)).toEqual([expect.objectContaining({ status: 'open', entryIntentId: intent!.id })]);
    expect(engine.portfolio.inFlight.size).toBe(0);
    expect(engine.portfolio.positions.size).toBe(1);
  }, 180_000);

  it('lets an entry in flight hold its strategy and pair even below maxOpenPositions', async () => {
    const { k, engine } = await liveRun(database(), {
      strategies: [maCross({ limits: { maxOpenPositions: 3 } })], before: (fk) => fk.holdTradeListing(),
    });
    await engine.start();
    // The buy signal stands for three candles; only the first sends an order.
    expect(k.addOrders.filter((o) => o['type'] === 'buy')).toHaveLength(1);
    expect(engine.portfolio.entryInFlight('test-ma', 'BTC/USD')).toBe(true);
  }, 180_000);

  it('sends one exit while it is in flight, however many candles say exit, and closes the trade with capital_buffer once its fills are listed', async () => {
    const { k, engine } = await liveRun(database(), {
      strategies: [maCross({ exits: { stopLossPct: 0.05 } })],
      engine: { hooks: { afterIntent: (intent) => { if (intent.purpose === 'exit') kraken!.holdTradeListing(); } } },
    });
    await engine.start();
    expect(k.addOrders.filter((o) => o['type'] === 'sell')).toHaveLength(1);
    expect((await database().db.select().from(trades))[0]).toMatchObject({ status: 'open' });
    k.releaseTradeListing();
    await engine.followFills();
    const [closed] = await database().db.select().from(trades);
    expect(closed).toMatchObject({ status: 'closed' });
    expect(closed!.capitalBuffer).not.toBeNull();
    expect((await validateClosedTrades(database().db)).offending).toEqual([]);
  }, 180_000);

  it.each<Garble>(['truncated', 'empty', 'html'])('resolves an order Kraken placed but answered with a %s body as filled: never rejected, never placed twice', async (how) => {
    const { k, t, engine } = await liveRun(database(), { before: (fk) => fk.garbleNextAddOrder(how) });
    await engine.start();
    const intents = await database().db.select().from(orderIntents).orderBy(orderIntents.id);
    expect(intents[0]).toMatchObject({ purpose: 'entry', status: 'filled', error: expect.stringMatching(/could not be read/) });
    expect(intents.some((i) => i.status === 'rejected')).toBe(false);
    expect(k.addOrders.filter((o) => o['cl_ord_id'] === intents[0]!.clientOrderId)).toHaveLength(1);
    expect((await database().db.select().from(trades))[0]).toMatchObject({ entryIntentId: intents[0]!.id });
    expect(await database().db.select().from(fills).where(eq(fills.intentId, intents[0]!.id))).toHaveLength(2);
    expect(t.alerts.raised).toContainEqual(expect.objectContaining({ severity: 'warning', fingerprint: 'order_unknown:BTC/USD' }));
  }, 180_000);

  it('refuses an entry the account cannot pay for before sending it, marks it refused with the reason and alerts', async () => {
    const { k, t, engine } = await liveRun(database(), {
      // The balance moves after the engine loaded it (another order, a withdrawal): Kraken is the judge.
      engine: { hooks: { afterIntent: (intent) => { if (intent.purpose === 'entry') kraken!.fake.state.balances['ZUSD'] = '50.0000'; } } },
    });
    await engine.start();
    const intents = await database().db.select().from(orderIntents);
    expect(intents.length).toBeGreaterThan(0);
    expect(intents.every((i) => i.status === 'refused')).toBe(true);
    expect(intents[0]!.error).toMatch(/insufficient funds: .* needs \d+\.\d\d USD with fees; the exchange's free balance is 50\.00 USD/);
    expect(k.addOrders).toHaveLength(0);
    expect(t.alerts.raised).toContainEqual(expect.objectContaining({ severity: 'warning', fingerprint: 'order_refused:BTC/USD' }));
  }, 180_000);

  it('raises a warning alert on the first failed order, at once', async () => {
    const { t, engine } = await liveRun(database(), { before: (fk) => fk.fake.failNext('AddOrder', { status: 502 }) });
    await engine.start();
    const warnings = t.alerts.raised.filter((a) => a.fingerprint === 'order_unknown:BTC/USD');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ severity: 'warning', source: 'trade_failure' });
    // Kraken never had it: closed as never placed once the grace period passed (market time moves a minute a candle).
    const [first] = await database().db.select().from(orderIntents).orderBy(orderIntents.id);
    expect(first).toMatchObject({ status: 'failed', error: expect.stringMatching(/never placed/) });
  }, 180_000);

  it('places no live order from a replay feed and raises a critical alert', async () => {
    const { k, t, engine } = await liveRun(database(), { engine: { feed: 'replay' } });
    await engine.start();
    expect(k.addOrders).toHaveLength(0);
    expect(await database().db.select().from(orderIntents)).toHaveLength(0);
    expect(t.alerts.raised).toContainEqual(expect.objectContaining({ severity: 'critical', fingerprint: 'live_feed_not_market' }));
  }, 180_000);
});
