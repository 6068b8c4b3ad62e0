import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execute, type Database } from '../../../src/db/client.js';
import { closedTradesByStrategy, type ClosedGroupRow, type StatsWindow } from '../../../src/db/queries/stats-ledger.js';
import { trades } from '../../../src/db/schema/index.js';
import { createTestDb, type DbKind } from '../../support/db.js';
import { closedTrade, insertTrades, openTrade } from '../../support/factories/ledger.js';

/** The same figures summed straight from `trades`: what the rollup must always agree with. */
async function rawAggregate(database: Database, w: StatsWindow): Promise<ClosedGroupRow[]> {
  const from = w.from ? sql`and exit_at >= ${w.from.toISOString()}::timestamptz` : sql``;
  return execute<ClosedGroupRow>(database.db, sql`
    select mode, feed, strategy, count(*)::int as closed, count(*) filter (where realized_pnl > 0)::int as wins,
           count(*) filter (where realized_pnl < 0)::int as losses, sum(realized_pnl)::text as realized,
           sum(entry_fee + exit_fee)::text as fees, sum(quantity * entry_price)::text as deployed
    from trades where status = 'closed' and exit_at <= ${w.to.toISOString()}::timestamptz ${from}
    group by 1, 2, 3 order by 1, 2, 3`);
}

const normalise = (rows: ClosedGroupRow[]) =>
  rows.map((r) => ({ ...r, realized: Number(r.realized).toFixed(8), fees: Number(r.fees).toFixed(8), deployed: Number(r.deployed).toFixed(8) }));

describe.each<DbKind>(['postgres', 'pglite'])('daily rollup of closed trades, on %s', (kind) => {
  let database: Database;
  beforeAll(async () => {
    database = await createTestDb(kind);
  }, 60_000);
  afterAll(async () => {
    await database?.close();
  });

  it('agrees with the raw ledger for windows that cut through days', async () => {
    // A seeded walk: 400 trades over ~5 days, at minute resolution, three strategies, two books.
    let seed = 42;
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const start = Date.parse('2026-02-01T00:00:00Z');
    const rows = Array.from({ length: 400 }, (_, i) =>
      closedTrade({
        mode: i % 7 === 0 ? 'live' : 'paper',
        strategy: ['a', 'b', 'c'][i % 3]!,
        at: new Date(start + Math.floor(rand() * 5 * 24 * 60) * 60_000 + Math.floor(rand() * 60_000)),
        entryPrice: (90 + Math.floor(rand() * 20)).toString(),
        exitPrice: (90 + Math.floor(rand() * 20)).toString(),
        quantity: (rand() * 2).toFixed(6),
        entryFee: (rand() / 10).toFixed(6),
        exitFee: (rand() / 10).toFixed(6),
      }),
    );
    await insertTrades(database.db, rows.slice(0, 150));
    await insertTrades(database.db, rows.slice(150));
    const windows: StatsWindow[] = [
      { from: null, to: new Date('2026-02-10T00:00:00Z') },
      { from: new Date('2026-02-02T03:17:41.5Z'), to: new Date('2026-02-04T19:02:03Z') },
      { from: new Date('2026-02-03T10:05:00Z'), to: new Date('2026-02-03T10:55:00Z') }, // inside one day
      { from: new Date('2026-02-03T10:00:00Z'), to: new Date('2026-02-04T10:00:00Z') }, // across one midnight
      { from: new Date('2026-02-02T00:00:00Z'), to: new Date('2026-02-05T00:00:00Z') }, // midnight to midnight
      { from: null, to: new Date('2026-02-03T12:30:00Z') },
    ];
    for (const w of windows) {
      const fromRollup = await closedTradesByStrategy(database.db, w);
      expect(normalise(fromRollup), JSON.stringify(w)).toEqual(normalise(await rawAggregate(database, w)));
    }
  });

  it('follows a trade from open to closed, a correction of its PnL, and its deletion', async () => {
    const w: StatsWindow = { from: new Date('2026-03-01T00:00:00Z'), to: new Date('2026-03-02T00:00:00Z') };
    const mine = (rows: ClosedGroupRow[]) => rows.find((r) => r.strategy === 'lifecycle');
    await insertTrades(database.db, [openTrade({ strategy: 'lifecycle', at: '2026-03-01T09:00:00Z' })]);
    expect(mine(await closedTradesByStrategy(database.db, w))).toBeUndefined();

    const [row] = await database.db.select({ id: trades.id }).from(trades).where(eq(trades.strategy, 'lifecycle'));
    const close = { status: 'closed' as const, exitPrice: '90', exitFee: '0.5', exitAt: new Date('2026-03-01T10:00:00Z'), realizedPnl: '-10.5', capitalBuffer: '100' };
    await database.db.update(trades).set(close).where(eq(trades.id, row!.id));
    expect(mine(await closedTradesByStrategy(database.db, w))).toMatchObject({ closed: 1, wins: 0, losses: 1, fees: '0.500000000000000000' });

    await database.db.update(trades).set({ realizedPnl: '2' }).where(eq(trades.id, row!.id));
    expect(mine(await closedTradesByStrategy(database.db, w))).toMatchObject({ closed: 1, wins: 1, losses: 0 });

    await database.db.delete(trades).where(eq(trades.id, row!.id));
    expect(mine(await closedTradesByStrategy(database.db, w))).toBeUndefined();
  });

  it('follows statements that change many trades at once: some reopened, some moved to another day, some deleted', async () => {
    const start = Date.parse('2026-04-01T00:00:00Z');
    const rows = Array.from({ length: 60 }, (_, i) => closedTrade({
      strategy: ['m1', 'm2'][i % 2]!, at: new Date(start + i * 97 * 60_000), exitPrice: String(95 + (i % 11)), quantity: '0.5', entryFee: '0.01', exitFee: '0.02',
    }));
    await insertTrades(database.db, [...rows, openTrade({ strategy: 'm1', at: '2026-04-02T05:00:00Z' })]);
    const w: StatsWindow = { from: new Date('2026-03-30T00:00:00Z'), to: new Date('2026-04-10T00:00:00Z') };
    const agrees = async (what: string) => {
      expect(normalise(await closedTradesByStrategy(database.db, w)), what).toEqual(normalise(await rawAggregate(database, w)));
    };
    await agrees('inserted');
    // Every m1 trade's exit moves 20 hours later (many cross midnight), in one statement.
    await execute(database.db, sql`update trades set exit_at = exit_at + interval '20 hours' where strategy = 'm1' and status = 'closed'`);
    await agrees('moved');
    // Some closed trades reopened and the open one closed, in one statement.
    await execute(database.db, sql`
      update trades set status = case when status = 'open' then 'closed' else 'open' end,
        exit_price = case when status = 'open' then 101 end, exit_fee = case when status = 'open' then 0.03 end,
        exit_at = case when status = 'open' then '2026-04-03T01:00:00Z'::timestamptz end,
        realized_pnl = case when status = 'open' then 0.47 end, capital_buffer = case when status = 'open' then 100 end
      where strategy = 'm1' and (status = 'open' or id % 3 = 0)`);
    await agrees('reopened and closed');
    await execute(database.db, sql`delete from trades where strategy = 'm2' and id % 2 = 0`);
    await agrees('deleted');
  });
});
