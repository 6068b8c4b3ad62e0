import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../../src/db/client.js';
import { firstFillAt, loadLiveFills } from '../../../src/services/reconcile/load-ledger.js';
import { createTestDb, type DbKind } from '../../support/db.js';

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
});
