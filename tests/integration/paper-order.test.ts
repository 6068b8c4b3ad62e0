// A paper order is one statement: the intent, the paper venue's order and balances, the fill and the
// trade commit together or not at all; bot_state's check still decides whether anything is written,
// and an order the venue refuses leaves only its intent, closed as rejected; an engine's order is
// written only while the engine lease's row names it. On both databases.
import { ALONE_BY_CONSTRUCTION } from '../../src/engine/ledger/intent-lease.js';
import { sql } from 'drizzle-orm';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { execute, type Database } from '../../src/db/client.js';
import { fills, orderIntents, paperBalances, paperOrders, trades } from '../../src/db/schema/index.js';
import { acquireLease } from '../../src/db/queries/engine-lease.js';
import { validateClosedTrades } from '../../src/engine/ledger/validate-trades.js';
import { executePaperOrder, type PaperDeps } from '../../src/engine/paper-order.js';
import { Portfolio } from '../../src/engine/portfolio.js';
import type { OrderRequestSpec } from '../../src/engine/order-executor.js';
import { PaperExchange } from '../../src/exchange/paper/paper-exchange.js';
import { dec } from '../../src/money.js';
import { updateBotState } from '../../src/services/bot-state.js';
import { createTestDb, emptyTablesSql, type DbKind } from '../support/db.js';
import { engineContext, type EngineTestContext } from '../support/engine.js';

describe.each<DbKind>(['postgres', 'pglite'])('a paper order in one statement, on %s', (kind) => {
  let database: Database;
  let t: EngineTestContext;
  beforeAll(async () => {
    database = await createTestDb(kind);
  }, 60_000);
  afterAll(async () => {
    await database?.close();
  });
  beforeEach(async () => {
    await execute(database.db, sql.raw(emptyTablesSql(['order_intents', 'fills', 'trades', 'paper_orders', 'paper_balances', 'equity_snapshots', 'bot_state'])));
    // The notional limit is lifted so the venue, not the gate, is what refuses an order it cannot pay.
    t = await engineContext(database, { RISK_MAX_ORDER_NOTIONAL: '1000000' });
    await updateBotState(database.db, t.clock, { mode: 'paper' });
    price(50_000);
  });
  afterEach(async () => {
    await execute(database.db, sql`drop trigger if exists refuse_fills on fills`);
    await t?.ctx.close();
  });

  function price(close: number): void {
    t.ctx.prices.update({ candle: { symbol: 'BTC/USD', openTime: new Date(t.clock.now().getTime() - 60_000), open: close, high: close, low: close, close, volume: 1_000 } });
  }

  async function deps(): Promise<PaperDeps> {
    const exchange = t.ctx.exchanges.paper();
    if (!PaperExchange.isVenue(exchange)) throw new Error('the context should hold the paper venue itself');
    const portfolio = await Portfolio.load(exchange, [], 'USD');
    return { ctx: t.ctx, mode: 'paper', feed: 'replay', exchange, portfolio, lease: ALONE_BY_CONSTRUCTION };
  }

  const entry = (quantity: string): OrderRequestSpec => ({ purpose: 'entry', strategy: 'one-statement', symbol: 'BTC/USD', side: 'buy', quantity: dec(quantity), reason: 'test', referencePrice: dec(50_000) });
  const usd = async () => (await database.db.select().from(paperBalances)).find((b) => b.asset === 'USD')?.total;

  it('writes the intent filled, the venue order and balances, the fill and the trade together, and closes it the same way', async () => {
    const d = await deps();
    const opened = await executePaperOrder(d, entry('0.01'));
    expect(opened.kind).toBe('recorded');
    const [intent] = await database.db.select().from(orderIntents);
    const [venue] = await database.db.select().from(paperOrders);
    const [fill] = await database.db.select().from(fills);
    const [trade] = await database.db.select().from(trades);
    expect(intent).toMatchObject({ status: 'filled', purpose: 'entry', exchangeOrderId: venue!.exchangeOrderId, tradeId: trade!.id, error: null });
    expect(venue).toMatchObject({ clientOrderId: intent!.clientOrderId, status: 'closed' });
    expect(fill).toMatchObject({ intentId: intent!.id, clientOrderId: intent!.clientOrderId, exchangeTradeId: venue!.exchangeTradeId, mode: 'paper' });
    expect(trade).toMatchObject({ status: 'open', entryIntentId: intent!.id });
    const cost = dec(venue!.price!).times(venue!.quantity).plus(venue!.fee!);
    expect(dec((await usd())!).toFixed()).toBe(dec(10_000).minus(cost).toFixed());
    expect(d.portfolio.positions.get(trade!.id)?.quantity.toFixed()).toBe('0.01');

    price(51_000);
    const closed = await executePaperOrder(d, { purpose: 'exit', strategy: 'one-statement', symbol: 'BTC/USD', side: 'sell', quantity: dec('0.01'), tradeId: trade!.id, reason: 'test' });
    expect(closed.kind).toBe('recorded');
    const [after] = await database.db.select().from(trades);
    expect(after).toMatchObject({ status: 'closed', exitIntentId: expect.any(Number) });
    expect(after!.capitalBuffer).not.toBeNull();
    expect(dec((await usd())!).toFixed()).toBe(dec(10_000).plus(after!.realizedPnl!).toFixed());
    expect(await database.db.select().from(fills)).toHaveLength(2);
    expect((await validateClosedTrades(database.db)).offending).toEqual([]);
    expect(d.portfolio.positions.size).toBe(0);
  });

  // The first entry and exit on a database handle are built from the ledger's pieces; the next ones
  // run the text kept from them (paper-order-statement.ts) and must book the same rows. A database of
  // its own, so that its first orders are this test's.
  it('books the next entry and exit from the text kept from the first ones, as the first ones were booked', async () => {
    const own = await createTestDb(kind);
    await t.ctx.close();
    t = await engineContext(own, { RISK_MAX_ORDER_NOTIONAL: '1000000' });
    await updateBotState(own.db, t.clock, { mode: 'paper' });
    try {
      await bookedAlike(own);
    } finally {
      await t.ctx.close();
      await own.close();
      t = await engineContext(database, { RISK_MAX_ORDER_NOTIONAL: '1000000' });
    }
  });

  async function bookedAlike(own: Database): Promise<void> {
    const exchange = t.ctx.exchanges.paper();
    if (!PaperExchange.isVenue(exchange)) throw new Error('the context should hold the paper venue itself');
    const d: PaperDeps = { lease: ALONE_BY_CONSTRUCTION, ctx: t.ctx, mode: 'paper', feed: 'replay', exchange, portfolio: await Portfolio.load(exchange, [], 'USD') };
    const usd = async () => (await own.db.select().from(paperBalances)).find((b) => b.asset === 'USD')?.total;
    const roundTrip = async (close: number) => {
      price(50_000);
      const opened = await executePaperOrder(d, entry('0.01'));
      if (opened.kind !== 'recorded') throw new Error(`entry not recorded: ${opened.kind}`);
      price(close);
      const tradeId = opened.outcome.trade!.id;
      expect((await executePaperOrder(d, { purpose: 'exit', strategy: 'one-statement', symbol: 'BTC/USD', side: 'sell', quantity: dec('0.01'), tradeId, reason: 'test' })).kind).toBe('recorded');
      const [trade] = await own.db.select().from(trades).where(sql`id = ${tradeId}`);
      const intents = await own.db.select().from(orderIntents).where(sql`trade_id = ${tradeId}`).orderBy(orderIntents.id);
      const booked = await own.db.select().from(fills).where(sql`intent_id in (${intents[0]!.id}, ${intents[1]!.id})`).orderBy(fills.id);
      const venue = await own.db.select().from(paperOrders).where(sql`client_order_id in (${intents[0]!.clientOrderId}, ${intents[1]!.clientOrderId})`).orderBy(paperOrders.id);
      return { trade: trade!, intents, fills: booked, venue };
    };
    const first = await roundTrip(51_000);
    const usdAfterFirst = dec((await usd())!);
    const next = await roundTrip(51_000);
    for (const r of [first, next]) {
      expect(r.intents.map((i) => [i.purpose, i.status, i.tradeId, i.error])).toEqual([['entry', 'filled', r.trade.id, null], ['exit', 'filled', r.trade.id, null]]);
      expect(r.intents.map((i) => i.exchangeOrderId)).toEqual(r.venue.map((v) => v.exchangeOrderId));
      expect(r.fills.map((f) => [f.intentId, f.clientOrderId, f.exchangeTradeId])).toEqual(r.intents.map((i, k) => [i.id, i.clientOrderId, r.venue[k]!.exchangeTradeId]));
      expect(r.trade).toMatchObject({ status: 'closed', entryIntentId: r.intents[0]!.id, exitIntentId: r.intents[1]!.id });
    }
    // The same prices, the same figures: the second round trip is booked as the first was.
    const figures = (r: typeof first) => [
      [r.trade.mode, r.trade.feed, r.trade.strategy, r.trade.symbol, r.trade.quantity, r.trade.entryPrice, r.trade.entryFee, r.trade.exitPrice, r.trade.exitFee, r.trade.realizedPnl],
      ...r.intents.map((i) => [i.mode, i.feed, i.strategy, i.symbol, i.side, i.type, i.quantity, i.limitPrice]),
      ...r.fills.map((f) => [f.mode, f.feed, f.symbol, f.side, f.quantity, f.price, f.fee, f.feeCurrency, f.chargedFee, f.chargedFeeCurrency]),
      ...r.venue.map((v) => [v.symbol, v.side, v.type, v.status, v.quantity, v.limitPrice, v.price, v.fee, v.feeCurrency, v.liquidity]),
    ];
    expect(figures(next)).toEqual(figures(first));
    expect(dec((await usd())!).toFixed()).toBe(usdAfterFirst.plus(next.trade.realizedPnl!).toFixed());
    expect((await validateClosedTrades(own.db)).offending).toEqual([]);
    expect(d.portfolio.positions.size).toBe(0);
  }

  it("writes nothing of an order once another engine holds the lease, tells the engine it lost it, and writes it under its own", async () => {
    const lost: string[] = [];
    const d: PaperDeps = { ...(await deps()), lease: { kind: 'held', holderId: 'engine-host:1:aaaaaaaa', lost: (reason) => lost.push(reason) } };
    await acquireLease(database.db, { holderId: 'standby-host:2:bbbbbbbb', host: 'standby-host', pid: 2, role: 'worker', feed: 'replay', armed: false, hasKrakenKeys: false }, 60_000);
    try {
      const before = await usd();
      expect(await executePaperOrder(d, entry('0.01'))).toEqual({ kind: 'skipped', reason: 'lease_lost', leaseHolder: 'standby-host:2:bbbbbbbb' });
      expect(lost).toEqual(['the lease row names standby-host:2:bbbbbbbb: an order intent was refused']);
      for (const table of [orderIntents, paperOrders, fills, trades]) expect(await database.db.select().from(table)).toEqual([]);
      expect(await usd()).toBe(before);
      // Its own lease: the same order is written whole.
      const mine: PaperDeps = { ...d, lease: { kind: 'held', holderId: 'standby-host:2:bbbbbbbb', lost: (reason) => lost.push(reason) } };
      expect(await executePaperOrder(mine, entry('0.01'))).toMatchObject({ kind: 'recorded' });
      expect(lost).toHaveLength(1);
    } finally {
      await execute(database.db, sql`delete from engine_lease`);
    }
  });

  it('writes nothing of an order whose ledger rows fail, and the venue does not count it', async () => {
    const d = await deps();
    await execute(database.db, sql`create or replace function refuse_fills() returns trigger language plpgsql as $$ begin raise exception 'fills refused by the test'; end $$`);
    await execute(database.db, sql`create trigger refuse_fills before insert on fills for each row execute function refuse_fills()`);
    await expect(executePaperOrder(d, entry('0.01'))).rejects.toThrow();
    expect(await database.db.select().from(orderIntents)).toEqual([]);
    expect(await database.db.select().from(paperOrders)).toEqual([]);
    expect(await database.db.select().from(trades)).toEqual([]);
    expect(dec((await usd())!).toFixed()).toBe('10000');

    // The venue's own account is untouched too: the next order pays from the full balance, once.
    await execute(database.db, sql`drop trigger refuse_fills on fills`);
    expect((await executePaperOrder(d, entry('0.01'))).kind).toBe('recorded');
    const [venue] = await database.db.select().from(paperOrders);
    expect(dec((await usd())!).toFixed()).toBe(dec(10_000).minus(dec(venue!.price!).times(venue!.quantity).plus(venue!.fee!)).toFixed());
    expect(await database.db.select().from(orderIntents)).toHaveLength(1);
  });

  it('writes nothing while halted, and says the order was skipped for it', async () => {
    const d = await deps();
    await updateBotState(database.db, t.clock, { halted: true, haltedReason: 'test', haltedAt: t.clock.now(), haltedBy: 'test' });
    expect(await executePaperOrder(d, entry('0.01'))).toEqual({ kind: 'skipped', reason: 'halted' });
    expect(await database.db.select().from(orderIntents)).toEqual([]);
    expect(await database.db.select().from(paperOrders)).toEqual([]);
  });

  it('closes the intent as rejected, with nothing at the venue, when the paper account cannot pay', async () => {
    const d = await deps();
    const outcome = await executePaperOrder(d, entry('1'));
    expect(outcome).toMatchObject({ kind: 'rejected', message: expect.stringContaining('Insufficient funds') });
    const all = await database.db.select().from(orderIntents);
    expect(all).toHaveLength(1);
    expect(all[0]).toMatchObject({ status: 'rejected', error: expect.stringContaining('Insufficient funds') });
    expect(await database.db.select().from(paperOrders)).toEqual([]);
    expect(await database.db.select().from(fills)).toEqual([]);
    expect(dec((await usd())!).toFixed()).toBe('10000');
    expect(t.alerts.raised.map((a) => a.fingerprint)).toContain('order_rejected:BTC/USD');
  });

  it('closes the intent as refused, with nothing at the venue, when the pre-trade gate refuses it', async () => {
    const d = await deps();
    // Sized at 60,000 while the venue's mid is 50,000: outside the price band.
    const outcome = await executePaperOrder(d, { ...entry('0.01'), referencePrice: dec(60_000) });
    expect(outcome).toMatchObject({ kind: 'refused', check: 'price_band' });
    const all = await database.db.select().from(orderIntents);
    expect(all).toHaveLength(1);
    expect(all[0]).toMatchObject({ status: 'refused', error: expect.stringContaining('pre-trade gate (price_band)') });
    expect(await database.db.select().from(paperOrders)).toEqual([]);
    expect(dec((await usd())!).toFixed()).toBe('10000');
  });

  // The gate does not read the unsettled intents before every order: the order's statement checks
  // that they are still the ones the gate last saw, so one written meanwhile by anything else counts.
  let elsewhere = 0;
  async function unsettledElsewhere(n: number): Promise<void> {
    for (let i = 0; i < n; i++, elsewhere++) {
      await execute(database.db, sql`insert into order_intents (client_order_id, mode, feed, strategy, symbol, side, purpose, type, quantity, status, created_at, updated_at)
        values (${`elsewhere-${elsewhere}`}, 'paper', 'replay', 'other', 'BTC/USD', 'buy', 'entry', 'market', 0.01, 'sent', now(), now())`);
    }
  }

  it('refuses an order past the open-orders limit when the unsettled intents were written after its previous order', async () => {
    await t.ctx.close();
    t = await engineContext(database, { RISK_MAX_ORDER_NOTIONAL: '1000000', RISK_MAX_OPEN_ORDERS: '2,5' });
    price(50_000);
    const d = await deps();
    expect((await executePaperOrder(d, entry('0.01'))).kind).toBe('recorded');
    await unsettledElsewhere(2);
    expect(await executePaperOrder(d, entry('0.01'))).toMatchObject({ kind: 'refused', check: 'open_orders', message: '2 orders on BTC/USD are not settled yet; the limit is 2 per pair (RISK_MAX_OPEN_ORDERS)' });
    expect(await database.db.select().from(paperOrders)).toHaveLength(1);
    expect((await database.db.select().from(orderIntents)).map((i) => i.status).sort()).toEqual(['filled', 'refused', 'sent', 'sent']);
  });

  it('places an order whose unsettled intents changed since its previous order when they are still within the limits, and refuses the next once they are not', async () => {
    await t.ctx.close();
    t = await engineContext(database, { RISK_MAX_ORDER_NOTIONAL: '1000000', RISK_MAX_OPEN_ORDERS: '2,5' });
    price(50_000);
    const d = await deps();
    expect((await executePaperOrder(d, entry('0.01'))).kind).toBe('recorded');
    await unsettledElsewhere(1);
    expect((await executePaperOrder(d, entry('0.01'))).kind).toBe('recorded');
    expect(await database.db.select().from(paperOrders)).toHaveLength(2);
    await unsettledElsewhere(1);
    expect(await executePaperOrder(d, entry('0.01'))).toMatchObject({ kind: 'refused', check: 'open_orders' });
    expect(await database.db.select().from(paperOrders)).toHaveLength(2);
  });
});
