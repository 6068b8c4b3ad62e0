import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../../src/db/client.js';
import { liveFillColumns, liveFillRows } from '../../../src/db/queries/reconcile-ledger.js';
import { firstFillAt, loadLiveFills } from '../../../src/services/reconcile/load-ledger.js';
import { createTestDb, type DbKind } from '../../support/db.js';

/** Rows in id order, to compare two reads that promise no order of their own. */
const byId = <T extends { id: number }>(rows: T[]): T[] => [...rows].sort((a, b) => a.id - b.id);

describe.each<DbKind>(['postgres', 'pglite'])('the ledger reconciliation reads, on %s', (kind) => {
  let database: Database;
  beforeAll(async () => {
    database = await createTestDb(kind);
    // Inserted out of time order (a fill booked late), one paper fill, one fill known only by its order.
    await database.db.execute(sql`insert into fills (intent_id, client_order_id, exchange_trade_id, exchange_order_id, mode, feed, symbol, side, quantity, price, fee, fee_currency, filled_at) values
      (1, 'c-late', 'T2', null, 'live', 'kraken', 'BTC/USD', 'buy', 0.01, 30000.5, 0.78, 'USD', '2026-01-02T00:00:00Z'),
      (2, 'c-early', 'T1', 'O1', 'live', 'kraken', 'ETH/USD', 'sell', 0.02, 3000, 0.7, 'USD', '2026-01-01T00:00:00Z'),
      (3, 'c-paper', 'T0', 'O0', 'paper', 'replay', 'BTC/USD', 'sell', 1, 1, 0, 'USD', '2025-12-01T00:00:00Z'),
      (4, 'c-same-time', 'T3', 'O2', 'live', 'kraken', 'BTC/USD', 'sell', 0.005, 30010, 0.1, 'USD', '2026-01-02T00:00:00Z')`);
  }, 60_000);
  afterAll(async () => {
    await database?.close();
  });

  it('loads only live fills, oldest first, with exactly the fields the matcher reads', async () => {
    const ledger = await loadLiveFills(database.db);
    expect(ledger.map((f) => f.clientOrderId)).toEqual(['c-early', 'c-late', 'c-same-time']);
    expect(ledger[0]).toEqual({
      id: expect.any(Number), clientOrderId: 'c-early', exchangeTradeId: 'T1', exchangeOrderId: 'O1', symbol: 'ETH/USD', side: 'sell',
      quantity: '0.020000000000000000', price: '3000.000000000000000000', fee: '0.700000000000000000', filledAtMs: Date.parse('2026-01-01T00:00:00Z'),
    });
    expect(ledger[1]?.exchangeOrderId).toBeNull();
    expect(firstFillAt(ledger)).toEqual(new Date('2026-01-01T00:00:00Z'));
  });

  it('has no first fill when the ledger has no live fill', () => {
    expect(firstFillAt([])).toBeNull();
  });

  it('reads texts, amounts and times exactly as the columns carry them, whatever they hold', async () => {
    await database.db.execute(sql`insert into fills (intent_id, client_order_id, exchange_trade_id, exchange_order_id, mode, feed, symbol, side, quantity, price, fee, fee_currency, filled_at) values
      (5, 'c with spaces', 'T 5', '', 'live', 'kraken', 'XBT / USD', 'buy', 12345678901234567890.123456789012345678, 0.000000000000000001, -0.5, 'USD', '2026-01-03T00:00:00.999999Z'),
      (6, '', '', 'O6', 'live', 'kraken', 'BTC/USD', 'SELL', 0, 1e-18, 0, 'USD', '1969-12-31T23:59:59.9995Z')`);
    const columns = await liveFillColumns(database.db);
    const packed = await liveFillRows(database.db);
    // Neither read promises an order (loadLiveFills sorts what it gets): the same rows, whatever order
    // the table's pages give them in (rows deleted earlier leave room that later rows fill).
    expect(byId(packed)).toEqual(byId(columns));
    const byClient = new Map(packed.map((f) => [f.clientOrderId, f]));
    expect(byClient.get('c with spaces')).toEqual({
      id: expect.any(Number), clientOrderId: 'c with spaces', exchangeTradeId: 'T 5', exchangeOrderId: '', symbol: 'XBT / USD', side: 'buy',
      quantity: '12345678901234567890.123456789012345678', price: '0.000000000000000001', fee: '-0.500000000000000000', filledAtMs: Date.parse('2026-01-03T00:00:00.999Z'),
    });
    expect(byClient.get('')).toMatchObject({ exchangeTradeId: '', exchangeOrderId: 'O6', side: 'SELL', filledAtMs: -1 });
  });

  it('reads rows whose texts are not all ASCII as the columns carry them', async () => {
    await database.db.execute(sql`insert into fills (intent_id, client_order_id, exchange_trade_id, exchange_order_id, mode, feed, symbol, side, quantity, price, fee, fee_currency, filled_at) values
      (7, 'c-é-😀', 'T7-ü', null, 'live', 'kraken', 'ÉTH/USD', 'buy', 1, 2, 0, 'USD', '2026-01-04T00:00:00Z'),
      (8, 'c-8', 'T8-ñ-😀', 'O8', 'live', 'kraken', 'BTC/USD', 'sell', 1, 2, 0, 'USD', '2026-01-05T00:00:00Z')`);
    const ledger = await loadLiveFills(database.db);
    expect(ledger.find((f) => f.exchangeTradeId === 'T7-ü')).toMatchObject({ clientOrderId: 'c-é-😀', exchangeOrderId: null, symbol: 'ÉTH/USD', side: 'buy', quantity: '1.000000000000000000' });
    expect(ledger).toEqual((await liveFillColumns(database.db)).sort((a, b) => a.filledAtMs - b.filledAtMs || a.id - b.id));
    expect(ledger.map((f) => f.clientOrderId)).toEqual(['', 'c-early', 'c-late', 'c-same-time', 'c with spaces', 'c-é-😀', 'c-8']);
    await database.db.execute(sql`delete from fills where client_order_id = 'c-é-😀'`);
    expect((await liveFillRows(database.db)).find((f) => f.clientOrderId === 'c-8')).toMatchObject({ exchangeTradeId: 'T8-ñ-😀', exchangeOrderId: 'O8', side: 'sell' });
    expect(byId(await liveFillRows(database.db))).toEqual(byId(await liveFillColumns(database.db)));
  });

  // What a chunk's text (live-fill-chunks.ts) would read back wrong: each of these makes the columns be read instead.
  const rowLike = `T9b\u00011\u00012\u00010\u00010002f0b0c0d0e0f0\u000199\u0001buy\u0001BTC/USD\u0001c-9b`;
  it.each([
    ['a text holding the packing separator', { symbol: 'BTC\u0001USD' }, '2026-01-06T00:00:00.123456Z', '2026-01-06T00:00:00.123Z'],
    ['the separator in a fill with no order id, which would read as its order id', { clientOrderId: 'c-9\u0001O-not', orderId: null }, '2026-01-06T00:00:00Z', '2026-01-06T00:00:00Z'],
    ['a text holding the fill separator, what follows it read as a fill of its own', { clientOrderId: `c-9\u0002${rowLike}` }, '2026-01-06T00:00:00Z', '2026-01-06T00:00:00Z'],
    // Past 2^53 microseconds a double rounds …999 up to the next millisecond.
    ['a time a double cannot count in microseconds', {}, '2600-01-01T00:00:00.000999Z', '2600-01-01T00:00:00.000Z'],
    ['a time long before 2000', {}, '1900-01-01T00:00:00.0015Z', '1900-01-01T00:00:00.001Z'],
  ])('reads %s as the columns carry it', async (_, texts: { symbol?: string; clientOrderId?: string; orderId?: string | null }, filledAt, ms) => {
    const { symbol = 'BTC/USD', clientOrderId = 'c-9', orderId = 'O9' } = texts;
    await database.db.execute(sql`insert into fills (intent_id, client_order_id, exchange_trade_id, exchange_order_id, mode, feed, symbol, side, quantity, price, fee, fee_currency, filled_at)
      values (9, ${clientOrderId}, 'T9', ${orderId}, 'live', 'kraken', ${symbol}, 'buy', 1, 2, 0, 'USD', ${filledAt})`);
    try {
      const packed = await liveFillRows(database.db);
      expect(byId(packed)).toEqual(byId(await liveFillColumns(database.db)));
      expect(packed.filter((f) => f.exchangeTradeId.startsWith('T9'))).toEqual([expect.objectContaining({
        clientOrderId, exchangeTradeId: 'T9', exchangeOrderId: orderId, symbol, side: 'buy', quantity: '1.000000000000000000', filledAtMs: Date.parse(ms),
      })]);
    } finally {
      await database.db.execute(sql`delete from fills where intent_id = 9`);
    }
  });

  it('reads every fill whatever its id: ids far apart, on either side of where one chunk of ids ends and the next begins', async () => {
    // Ids from the lowest on: 4095 is the last of its first chunk, 4096 the first of the second; chunks between are empty.
    await database.db.execute(sql`insert into fills (id, intent_id, client_order_id, exchange_trade_id, exchange_order_id, mode, feed, symbol, side, quantity, price, fee, fee_currency, filled_at)
      select (select min(id) from fills) + d, 10, 'c-far-' || d, 'T-far-' || d, null, m, 'kraken', 'BTC/USD', 'sell', 1, 2, 0, 'USD', '2026-02-01T00:00:00Z'
      from (values (4095, 'live'), (4096, 'live'), (4097, 'paper'), (100000, 'live'), (100001, 'paper')) as far(d, m)`);
    try {
      const ledger = await loadLiveFills(database.db);
      expect(ledger).toEqual((await liveFillColumns(database.db)).sort((a, b) => a.filledAtMs - b.filledAtMs || a.id - b.id));
      expect(ledger.filter((f) => f.clientOrderId.startsWith('c-far-')).map((f) => f.clientOrderId)).toEqual(['c-far-4095', 'c-far-4096', 'c-far-100000']);
    } finally {
      await database.db.execute(sql`delete from fills where intent_id = 10`);
    }
  });
});
