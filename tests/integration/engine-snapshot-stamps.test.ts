// A candle's equity snapshot is stamped before that candle's orders, and the ROI audit counts a trade
// as held at a snapshot when its entry_at ≤ the snapshot's at: so no order or fill of a step may be
// stamped in (or before) its snapshot's millisecond. The market clock of a replay forces the tie on
// every candle (the snapshot and the candle's orders both read the candle's close), so a replay that
// trades must still give an audit whose ledger ROI and snapshot ROI agree at every boundary.
import { ALONE_BY_CONSTRUCTION } from '../../src/engine/ledger/intent-lease.js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import { execute, type Database } from '../../src/db/client.js';
import { equitySnapshots, trades } from '../../src/db/schema/index.js';
import { Engine } from '../../src/engine/engine.js';
import { PacedFeed } from '../../src/market/paced-feed.js';
import { auditRoi } from '../../src/services/roi/roi-audit.js';
import { createTestDb, emptyTablesSql } from '../support/db.js';
import { candlesFrom, engineContext, maCross, roundTripCloses, type EngineTestContext } from '../support/engine.js';

describe('equity snapshots and the orders of the same step', () => {
  let database: Database;
  let t: EngineTestContext | undefined;
  beforeAll(async () => {
    database = await createTestDb('postgres');
  }, 180_000);
  afterAll(async () => {
    await database?.close();
  });
  afterEach(async () => {
    await t?.ctx.close();
    await execute(database.db, sql.raw(emptyTablesSql(['order_intents', 'fills', 'trades', 'equity_snapshots', 'paper_balances', 'paper_orders', 'risk_events', 'bot_state'])));
  });

  it('stamps every fill after the snapshot taken before it, so the ROI audit agrees at a snapshot taken while a position was opening', async () => {
    t = await engineContext(database);
    // Flat, then a round trip, and flat again: the entry's candle is where the tie used to be.
    const closes = roundTripCloses();
    const engine = new Engine({ lease: ALONE_BY_CONSTRUCTION,
      ctx: t.ctx, feed: new PacedFeed('replay', candlesFrom(closes), 0), strategies: [maCross()], marketClock: t.clock, stopWhenFeedEnds: true,
      snapshotEveryMs: 60_000,
    });
    await engine.start();
    const [trade] = await database.db.select().from(trades);
    expect(trade?.status).toBe('closed');
    const snaps = await database.db.select().from(equitySnapshots).orderBy(equitySnapshots.at);
    expect(snaps.length).toBeGreaterThan(20);
    const stamps = new Set(snaps.map((s) => s.at.getTime()));
    // No fill shares a millisecond with a snapshot: each is strictly after the one taken before it.
    expect(stamps.has(trade!.entryAt.getTime())).toBe(false);
    expect(stamps.has(trade!.exitAt!.getTime())).toBe(false);
    // A snapshot counts the trade as held exactly when its cash paid for it.
    const start = snaps[0]!;
    for (const s of snaps) {
      const held = trade!.entryAt <= s.at && trade!.exitAt! > s.at;
      expect({ at: s.at.toISOString(), held, paid: s.cash !== start.cash }).toEqual({ at: s.at.toISOString(), held, paid: held || (trade!.exitAt! <= s.at) });
    }
    // The audit over the last 24 h, from the snapshot at (or just before) the entry: the tie's snapshot
    // when there was one — its cash from before the buy, the trade counted as held at it.
    t.clock.set(new Date(trade!.entryAt.getTime() + 86_400_000));
    const report = await auditRoi({ db: t.ctx.db, clock: t.clock, config: { ...t.ctx.config, ROI_TOLERANCE_PCT: 0.0001 } }, { writeReport: false });
    for (const period of ['24h', 'all'] as const) {
      const row = report.rows.find((r) => r.period === period)!;
      expect(row.status, JSON.stringify(row)).toBe('agrees');
    }
    expect(report.ok).toBe(true);
  });
});
