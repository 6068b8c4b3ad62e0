// A replay's housekeeping does not hold the candles back while equity snapshots are being written:
// it starts the queued rows on their way and goes on (engine.ts, SnapshotWriter.writeBehind); only
// the end of the run waits until every row is committed.
import { ALONE_BY_CONSTRUCTION } from '../../src/engine/ledger/intent-lease.js';
import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { execute } from '../../src/db/client.js';
import { Engine } from '../../src/engine/engine.js';
import { PacedFeed } from '../../src/market/paced-feed.js';
import { ENGINE_TABLES, usePostgresTestDb } from '../support/db.js';
import { candlesFrom, engineContext, maCross } from '../support/engine.js';

describe('engine housekeeping and equity snapshot writes (postgres)', () => {
  const database = usePostgresTestDb({ truncate: ENGINE_TABLES });

  it('goes through the candles while a snapshot write waits on the database, and commits every row before it returns', async () => {
    const t = await engineContext(database());
    try {
      // 2,500 candles: the paced feed hands them over in two batches (2,000 and 500), housekeeping after each.
      const closes = Array.from({ length: 2_500 }, (_, i) => 60_000 + (i % 50));
      const engine = new Engine({ lease: ALONE_BY_CONSTRUCTION,
        ctx: t.ctx, feed: new PacedFeed('replay', candlesFrom(closes), 0), strategies: [maCross({ limits: { minVolume24hQuote: 1e15 } })],
        marketClock: t.clock, stopWhenFeedEnds: true, housekeepingMs: 0, snapshotEveryMs: 60_000,
      });
      let run: Promise<void> | undefined;
      let candlesWhileHeld = -1;
      // While this transaction holds the table, no snapshot insert can commit.
      await database().db.transaction(async (tx) => {
        await execute(tx, sql`lock table equity_snapshots in exclusive mode`);
        run = engine.start();
        // Every candle is taken in (a batch, housekeeping, the next batch) before the lock goes.
        for (let waited = 0; engine.counts.candles < closes.length && waited < 30_000; waited += 10) await new Promise((resolve) => setTimeout(resolve, 10));
        candlesWhileHeld = engine.counts.candles;
      });
      await run;
      expect(candlesWhileHeld).toBe(2_500);
      const [row] = await execute<{ n: number }>(database().db, sql`select count(*)::int as n from equity_snapshots`);
      expect(row!.n).toBe(2_500);
    } finally {
      await t.ctx.close();
    }
  }, 60_000);
});
