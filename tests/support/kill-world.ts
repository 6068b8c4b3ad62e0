// The world of a kill typed in a shell with the Kraken key: a fresh PostgreSQL database whose ledger
// records live orders (a kill there cannot say that nothing of this bot is on Kraken) and a fake
// Kraken with the test key holding open orders of this bot. Both closed by the caller's cleanup.
import type { TestDatabase } from './db.js';
import { createPostgresTestDb } from './db.js';
import { startFakeKraken, type FakeKraken } from './fake-kraken.js';
import { TEST_API_KEY, TEST_API_SECRET } from './kraken-test-keys.js';
import { recordLiveOrderEver } from './live-order-ever.js';

export async function liveKillWorld(cleanup: Array<() => Promise<unknown>>, openTxids: string[] = ['OPEN-1']): Promise<{ database: TestDatabase; kraken: FakeKraken }> {
  const database = await createPostgresTestDb();
  cleanup.push(() => database.close());
  await recordLiveOrderEver(database.db);
  const kraken = await startFakeKraken({ apiKey: TEST_API_KEY, secret: TEST_API_SECRET });
  cleanup.push(() => kraken.close());
  for (const txid of openTxids) {
    kraken.addOrder({ txid, pair: 'XBTUSD', type: 'buy', ordertype: 'limit', price: '40000', vol: '0.01', vol_exec: '0', status: 'open', opentm: 1 });
  }
  return { database, kraken };
}
