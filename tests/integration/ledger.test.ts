import { ALONE_BY_CONSTRUCTION } from '../../src/engine/ledger/intent-lease.js';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/client.js';
import { fills, orderIntents, trades } from '../../src/db/schema/index.js';
import { unresolvedIntents, writeIntent } from '../../src/engine/ledger/intents.js';
import { onlyReplayOrders } from '../../src/db/queries/ledger-intents.js';
import { recordExecution } from '../../src/engine/ledger/record-execution.js';
import { validateClosedTrades } from '../../src/engine/ledger/validate-trades.js';
import type { OrderState } from '../../src/exchange/types.js';
import { dec } from '../../src/money.js';
import { createTestDb, type DbKind } from '../support/db.js';
import { updateBotState } from '../../src/services/bot-state.js';

const at = new Date('2026-01-05T10:00:00Z');

function filled(clientOrderId: string, side: 'buy' | 'sell', quantity: string, price: string, fee: string, id: string): OrderState {
  return {
    exchangeOrderId: `O-${id}`, clientOrderId, symbol: 'BTC/USD', side, status: 'closed', quantity, filledQuantity: quantity, averagePrice: price,
    trades: [{ id, orderId: `O-${id}`, clientOrderId, symbol: 'BTC/USD', side, quantity, price, fee, feeCurrency: 'USD', timestamp: at }],
  };
}

describe.each<DbKind>(['postgres', 'pglite'])('ledger on %s', (kind) => {
  let database: Database;
  beforeAll(async () => {
    database = await createTestDb(kind);
    await updateBotState(database.db, { now: () => at }, {});
  }, 180_000);
  afterAll(async () => {
    await database?.close();
  });

  const intentFor = async (purpose: 'entry' | 'exit', side: 'buy' | 'sell', tradeId?: number) =>
    (await writeIntent(database.db, { mode: 'paper', feed: 'replay', strategy: 's', symbol: 'BTC/USD', side, purpose, type: 'market', quantity: '0.1', ...(tradeId ? { tradeId } : {}), at }, { lease: ALONE_BY_CONSTRUCTION, armed: false }))!;

  it('writes no intent while halted, and no entry intent while entries are paused', async () => {
    const clock = { now: () => at };
    await updateBotState(database.db, clock, { halted: true });
    const write = (purpose: 'entry' | 'exit') =>
      writeIntent(database.db, { mode: 'paper', feed: 'replay', strategy: 's', symbol: 'BTC/USD', side: 'buy', purpose, type: 'market', quantity: '0.1', at }, { lease: ALONE_BY_CONSTRUCTION, armed: false });
    expect(await write('exit')).toBeNull();
    await updateBotState(database.db, clock, { halted: false, entriesPaused: true });
    expect(await write('entry')).toBeNull();
    expect(await write('exit')).not.toBeNull();
    await updateBotState(database.db, clock, { entriesPaused: false, mode: 'live' });
    // Armed and requested live: a paper intent no longer matches the effective mode.
    expect(await writeIntent(database.db, { mode: 'paper', feed: 'replay', strategy: 's', symbol: 'BTC/USD', side: 'buy', purpose: 'entry', type: 'market', quantity: '0.1', at }, { lease: ALONE_BY_CONSTRUCTION, armed: true })).toBeNull();
    await updateBotState(database.db, clock, { mode: 'paper' });
  });

  it('keeps an intent pending, with its client order id, until the exchange’s answer is recorded', async () => {
    const intent = await intentFor('entry', 'buy');
    expect(intent.status).toBe('pending');
    expect(intent.clientOrderId).toMatch(/^[0-9a-f-]{36}$/);
    expect((await unresolvedIntents(database.db, 'paper')).map((i) => i.id)).toContain(intent.id);
  });

  it('opens a trade on an entry fill and closes it with exact PnL, fees and capital_buffer', async () => {
    const entry = await intentFor('entry', 'buy');
    const opened = await recordExecution(database.db, { intent: entry, order: filled(entry.clientOrderId, 'buy', '0.1', '60000.1', '15.600026', 'T1'), quoteCurrency: 'USD', reservePct: 20, at });
    expect(opened.trade).toMatchObject({ status: 'open', quantity: '0.100000000000000000', entryFee: '15.600026000000000000' });
    const exit = await intentFor('exit', 'sell', opened.trade!.id);
    const closed = await recordExecution(database.db, {
      intent: exit, order: filled(exit.clientOrderId, 'sell', '0.1', '61000.3', '15.860078', 'T2'), quoteCurrency: 'USD', reservePct: 20, at,
      capitalAtClose: () => ({ uncommittedQuote: dec('10068.56'), equity: dec('10068.56') }),
    });
    // (61000.3 − 60000.1) × 0.1 − 15.600026 − 15.860078 = 68.559896
    expect(dec(closed.trade!.realizedPnl!).toFixed()).toBe('68.559896');
    expect(dec(closed.trade!.capitalBuffer!).toFixed()).toBe(dec('10068.56').times(0.8).toFixed());
    expect(closed.trade!.exitIntentId).toBe(exit.id);
    const intents = await database.db.select().from(orderIntents).where(eq(orderIntents.id, exit.id));
    expect(intents[0]).toMatchObject({ status: 'filled', exchangeOrderId: 'O-T2' });
  });

  it('records the same exchange answer twice without a second fill or a second trade', async () => {
    const entry = await intentFor('entry', 'buy');
    const order = filled(entry.clientOrderId, 'buy', '0.1', '60000', '15.6', 'T3');
    const first = await recordExecution(database.db, { intent: entry, order, quoteCurrency: 'USD', reservePct: 20, at });
    const second = await recordExecution(database.db, { intent: entry, order, quoteCurrency: 'USD', reservePct: 20, at });
    expect(second.trade?.id).toBe(first.trade?.id);
    expect(await database.db.select().from(fills).where(eq(fills.clientOrderId, entry.clientOrderId))).toHaveLength(1);
    expect(await database.db.select().from(trades).where(eq(trades.entryIntentId, entry.id))).toHaveLength(1);
  });

  it('closes a rejected intent without a trade', async () => {
    const entry = await intentFor('entry', 'buy');
    const outcome = await recordExecution(database.db, {
      intent: entry, quoteCurrency: 'USD', reservePct: 20, at,
      order: { exchangeOrderId: 'O-R', clientOrderId: entry.clientOrderId, symbol: 'BTC/USD', side: 'buy', status: 'rejected', quantity: '0.1', filledQuantity: '0', averagePrice: null, trades: [] },
    });
    expect(outcome).toMatchObject({ intentStatus: 'rejected', trade: null });
  });

  it('splits a trade whose exit fills only partly: the filled part closes, the rest stays open, once', async () => {
    const write = (purpose: 'entry' | 'exit', side: 'buy' | 'sell', quantity: string, tradeId?: number) =>
      writeIntent(database.db, { mode: 'paper', feed: 'replay', strategy: 's', symbol: 'BTC/USD', side, purpose, type: 'market', quantity, ...(tradeId ? { tradeId } : {}), at }, { lease: ALONE_BY_CONSTRUCTION, armed: false });
    const capital = () => ({ uncommittedQuote: dec('10000'), equity: dec('10000') });
    const entry = (await write('entry', 'buy', '0.3'))!;
    const opened = await recordExecution(database.db, { intent: entry, order: filled(entry.clientOrderId, 'buy', '0.3', '60000', '30', 'P1'), quoteCurrency: 'USD', reservePct: 20, at });
    const exit = (await write('exit', 'sell', '0.3', opened.trade!.id))!;
    // Kraken cancels the rest of a market order it could not fill: 0.1 of 0.3 sold.
    const partly: OrderState = { ...filled(exit.clientOrderId, 'sell', '0.1', '61000', '12', 'P2'), status: 'canceled', quantity: '0.3' };
    const first = await recordExecution(database.db, { intent: exit, order: partly, quoteCurrency: 'USD', reservePct: 20, at, capitalAtClose: capital });
    expect(first.intentStatus).toBe('filled');
    expect(first.partialExit).toMatchObject({ tradeId: opened.trade!.id });
    expect(first.partialExit!.remaining.toFixed()).toBe('0.2');
    expect(first.trade).toMatchObject({ status: 'closed', splitFromTradeId: opened.trade!.id, exitIntentId: exit.id });
    expect(dec(first.trade!.quantity).toFixed()).toBe('0.1');
    // A third of the entry fee goes with the closed third: (61000 − 60000) × 0.1 − 10 − 12 = 78
    expect(dec(first.trade!.entryFee).toFixed()).toBe('10');
    expect(dec(first.trade!.realizedPnl!).toFixed()).toBe('78');
    const rest = (await database.db.select().from(trades).where(eq(trades.id, opened.trade!.id)))[0]!;
    expect(rest).toMatchObject({ status: 'open', splitFromTradeId: null });
    expect(dec(rest.quantity).toFixed()).toBe('0.2');
    expect(dec(rest.entryFee).toFixed()).toBe('20');

    // The same answer recorded again (a restart resolving the intent): no second split.
    const again = await recordExecution(database.db, { intent: exit, order: partly, quoteCurrency: 'USD', reservePct: 20, at, capitalAtClose: capital });
    expect(again.trade?.id).toBe(first.trade!.id);
    expect(await database.db.select().from(trades).where(eq(trades.entryIntentId, entry.id))).toHaveLength(2);
    expect(dec((await database.db.select().from(trades).where(eq(trades.id, opened.trade!.id)))[0]!.quantity).toFixed()).toBe('0.2');

    // The rest exits in full later; both parts then pass the closed-trade check against the entry's fills.
    const exit2 = (await write('exit', 'sell', '0.2', opened.trade!.id))!;
    const closed = await recordExecution(database.db, { intent: exit2, order: filled(exit2.clientOrderId, 'sell', '0.2', '62000', '24', 'P3'), quoteCurrency: 'USD', reservePct: 20, at, capitalAtClose: capital });
    expect(closed.partialExit).toBeNull();
    expect(closed.trade).toMatchObject({ id: opened.trade!.id, status: 'closed' });
    expect(dec(closed.trade!.realizedPnl!).toFixed()).toBe('356'); // 2000 × 0.2 − 20 − 24
    const family = await database.db.select().from(trades).where(eq(trades.entryIntentId, entry.id));
    const offending = (await validateClosedTrades(database.db)).offending.filter((o) => family.some((t) => t.id === o.tradeId));
    expect(offending).toEqual([]);
  });
});

describe('whether the ledger holds replay orders only (a halted demo is offered a fresh start only then)', () => {
  let database: Database;
  beforeAll(async () => {
    database = await createTestDb('postgres');
    await updateBotState(database.db, { now: () => at }, {});
  });
  afterAll(async () => {
    await database?.close();
  });
  const order = (feed: 'replay' | 'kraken') =>
    writeIntent(database.db, { mode: 'paper', feed, strategy: 's', symbol: 'BTC/USD', side: 'buy', purpose: 'entry', type: 'market', quantity: '0.1', at }, { lease: ALONE_BY_CONSTRUCTION, armed: false });

  it('is true for an empty ledger and one of replay orders, false once an order on the Kraken feed is there', async () => {
    expect(await onlyReplayOrders(database.db)).toBe(true);
    await order('replay');
    expect(await onlyReplayOrders(database.db)).toBe(true);
    await order('kraken');
    expect(await onlyReplayOrders(database.db)).toBe(false);
  });
});
