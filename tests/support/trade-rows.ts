// Ledger rows for tests that read trades (/trades, /balance, /exit): an open or closed trade with
// every required column, overridable.
import type { Db } from '../../src/db/client.js';
import { trades, type Trade } from '../../src/db/schema/index.js';

let intentSeq = 10_000;

export async function insertTrade(db: Db, over: Partial<Omit<Trade, 'id'>> = {}): Promise<Trade> {
  const closed = over.status === 'closed';
  const [row] = await db.insert(trades).values({
    mode: 'paper', feed: 'kraken', strategy: 'btc-ma-cross', symbol: 'BTC/USD', status: 'open', quantity: '0.02', entryPrice: '60000', entryFee: '3',
    entryAt: new Date('2026-03-02T08:00:00Z'), entryIntentId: (intentSeq += 1),
    ...(closed ? { exitPrice: '60500', exitFee: '3', exitAt: new Date('2026-03-02T09:00:00Z'), realizedPnl: '4', capitalBuffer: '100', exitIntentId: (intentSeq += 1) } : {}),
    ...over,
  }).returning();
  return row!;
}
