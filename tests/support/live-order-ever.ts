// A database whose ledger records a live order (cancelled long ago): a keyless kill there cannot say
// that nothing of this bot is on Kraken, so it hands the cancel over or queues it, and says orders may remain.
import type { Db } from '../../src/db/client.js';
import { orderIntents } from '../../src/db/schema/index.js';

let n = 0;

export async function recordLiveOrderEver(db: Db): Promise<void> {
  const at = new Date('2026-01-01T00:00:00Z');
  await db.insert(orderIntents).values({
    clientOrderId: `live-ever-${process.pid}-${++n}`, mode: 'live', feed: 'kraken', strategy: 'test', symbol: 'BTC/USD', side: 'buy', purpose: 'entry',
    type: 'limit', quantity: '0.01', limitPrice: '40000', status: 'canceled', exchangeOrderId: `OLD-${n}`, createdAt: at, updatedAt: at,
  });
}
