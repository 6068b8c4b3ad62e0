// Equity snapshots: a full batch is written while the engine goes on, one write at a time; a write
// that fails loses nothing (its rows are written by the next one, in order, once) and its error
// reaches the engine; flush waits until every queued row is committed; housekeeping's writeBehind
// starts the queued rows on their way without waiting, unless the writes are two batches behind.
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { execute, type Database } from '../../src/db/client.js';
import { SnapshotWriter, type SnapshotRow } from '../../src/engine/ledger/snapshots.js';
import { insertSnapshots, SnapshotColumns } from '../../src/db/queries/ledger-snapshots.js';
import { Decimal } from '../../src/money.js';
import { createTestDb, emptyTablesSql, type DbKind } from '../support/db.js';

describe.each<DbKind>(['postgres', 'pglite'])('equity snapshot writes, on %s', (kind) => {
  let database: Database;
  beforeAll(async () => {
    database = await createTestDb(kind);
  }, 60_000);
  afterAll(async () => {
    await database?.close();
  });
  beforeEach(async () => {
    await execute(database.db, sql`drop trigger if exists refuse_snapshots on equity_snapshots`);
    await execute(database.db, sql.raw(emptyTablesSql(['equity_snapshots'])));
  });

  const start = Date.parse('2025-01-01T00:00:00Z');
  const row = (i: number): SnapshotRow => ({
    mode: 'paper', feed: 'replay', at: new Date(start + i * 60_000), equity: String(10_000 + i), cash: '10000', peakEquity: String(10_000 + i), drawdownPct: '0.000000',
  });
  const queue = (writer: SnapshotWriter, from: number, to: number) => {
    for (let i = from; i < to; i++) writer.offer(new Date(start + i * 60_000), () => row(i));
  };
  const stored = async () => (await execute<{ n: number; first: string; last: string; distinct_at: number }>(database.db, sql`
    select count(*)::int as n, min(equity)::int::text as first, max(equity)::int::text as last, count(distinct at)::int as distinct_at from equity_snapshots`))[0]!;

  it('starts a full batch without waiting for it, and flush waits for it and the rest', async () => {
    const writer = new SnapshotWriter(database.db, 60_000);
    queue(writer, 0, 2_005);
    expect(writer.flushIfFull()).toBeUndefined();
    expect(writer.pendingCount).toBe(5);
    await writer.flush();
    expect(writer.pendingCount).toBe(0);
    expect(await stored()).toEqual({ n: 2_005, first: '10000', last: '12004', distinct_at: 2_005 });
  });

  it('stores every row of a batch as it was queued: its book, its millisecond and its figures', async () => {
    // Times sent as milliseconds after the batch's first: across a day, a year and a leap day, going
    // back, an hour's gap, every millisecond digit; figures with long fractions, zeros, negatives.
    const times = ['2024-02-28T23:59:59.999Z', '2024-02-29T00:00:00.000Z', '2024-02-29T00:00:00.001Z', '2024-02-28T12:00:00.010Z',
      '2024-12-31T23:59:59.100Z', '2025-01-01T00:00:00.000Z', '2025-01-01T01:00:00.123Z', '1999-12-31T23:59:59.999Z'];
    const figures = ['0', '10000', '123456789.123456789012345678', '-42.5', '0.000000', '99.999999', '1e-7', '7.000001'];
    const queued: SnapshotRow[] = times.map((at, i) => ({
      mode: 'paper', feed: 'replay', at: new Date(at), equity: figures[i]!, cash: figures[(i + 1) % 8]!, peakEquity: figures[(i + 2) % 8]!, drawdownPct: figures[(i + 3) % 8]!,
    }));
    const writer = new SnapshotWriter(database.db, 60_000);
    for (const r of queued) writer.offer(r.at, () => r, true);
    await writer.flush();
    const rows = await execute<{ mode: string; feed: string; at: string; equity: string; cash: string; peak: string; drawdown: string }>(database.db, sql`
      select mode, feed, to_char(at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as at, trim_scale(equity)::text as equity, trim_scale(cash)::text as cash,
        trim_scale(peak_equity)::text as peak, trim_scale(drawdown_pct)::text as drawdown
      from equity_snapshots order by id`);
    const numeric = (v: string) => new Decimal(v).toFixed();
    expect(rows).toEqual(queued.map((r) => ({
      mode: 'paper', feed: 'replay', at: r.at.toISOString(), equity: numeric(r.equity), cash: numeric(r.cash), peak: numeric(r.peakEquity), drawdown: numeric(r.drawdownPct),
    })));
  });

  it('writes a batch of one book per statement: rows of another mode or feed go in the next, each stored with its own', async () => {
    const writer = new SnapshotWriter(database.db, 60_000);
    const books: Array<Pick<SnapshotRow, 'mode' | 'feed'>> = [
      { mode: 'paper', feed: 'replay' }, { mode: 'paper', feed: 'replay' }, { mode: 'paper', feed: 'kraken' }, { mode: 'live', feed: 'kraken' }, { mode: 'paper', feed: 'replay' },
    ];
    books.forEach((book, i) => writer.offer(new Date(start + i * 60_000), () => ({ ...row(i), ...book }), true));
    await writer.flush();
    const rows = await execute<{ mode: string; feed: string; equity: string }>(database.db, sql`select mode, feed, equity::int::text as equity from equity_snapshots order by id`);
    expect(rows).toEqual(books.map((book, i) => ({ ...book, equity: String(10_000 + i) })));
  });

  it('refuses a batch of rows of more than one book, writing none of them', async () => {
    const rows = new SnapshotColumns();
    rows.push(row(0));
    rows.push({ ...row(1), mode: 'live', feed: 'kraken' });
    await expect(insertSnapshots(database.db, rows, false)).rejects.toThrow('a batch of equity snapshots must be of one book (mode and feed)');
    expect((await stored()).n).toBe(0);
  });

  it('keeps the rows of a failed write, throws its error to the engine once, and writes them with the next', async () => {
    await execute(database.db, sql`create or replace function refuse_snapshots() returns trigger language plpgsql as $$ begin raise exception 'snapshots refused by the test'; end $$`);
    await execute(database.db, sql`create trigger refuse_snapshots before insert on equity_snapshots for each row execute function refuse_snapshots()`);
    const writer = new SnapshotWriter(database.db, 60_000);
    queue(writer, 0, 2_000);
    writer.flushIfFull();
    queue(writer, 2_000, 2_003);
    const failed = await writer.flush().then(() => null, (err: Error & { cause?: Error }) => `${err.message} ${err.cause?.message ?? ''}`);
    expect(failed).toContain('snapshots refused by the test');
    expect(writer.pendingCount).toBe(2_003);
    await execute(database.db, sql`drop trigger refuse_snapshots on equity_snapshots`);
    expect(() => writer.flushIfFull()).not.toThrow();
    await writer.flush();
    expect(await stored()).toEqual({ n: 2_003, first: '10000', last: '12002', distinct_at: 2_003 });
  });
});

describe('housekeeping\'s snapshot write, on postgres', () => {
  let database: Database;
  beforeAll(async () => {
    database = await createTestDb('postgres');
  }, 60_000);
  afterAll(async () => {
    await database?.close();
  });

  const start = Date.parse('2025-01-01T00:00:00Z');
  const queue = (writer: SnapshotWriter, from: number, to: number) => {
    for (let i = from; i < to; i++) {
      writer.offer(new Date(start + i * 60_000), () => ({
        mode: 'paper', feed: 'replay', at: new Date(start + i * 60_000), equity: String(10_000 + i), cash: '10000', peakEquity: '10000', drawdownPct: '0.000000',
      }));
    }
  };
  const count = async () => (await execute<{ n: number }>(database.db, sql`select count(*)::int as n from equity_snapshots`))[0]!.n;

  it('starts the queued rows on their way without waiting for the database, and waits once two batches are queued', async () => {
    await execute(database.db, sql.raw(emptyTablesSql(['equity_snapshots'])));
    const writer = new SnapshotWriter(database.db, 60_000);
    queue(writer, 0, 1_500);
    const events: string[] = [];
    let behind: Promise<void> | undefined;
    // While another transaction holds the table, no insert into it can commit.
    await database.db.transaction(async (tx) => {
      await execute(tx, sql`lock table equity_snapshots in exclusive mode`);
      await writer.writeBehind();
      events.push(`returned with ${writer.pendingCount} queued`);
      queue(writer, 1_500, 5_500);
      behind = writer.writeBehind().then(() => {
        events.push('behind: returned');
      });
      await new Promise((resolve) => setTimeout(resolve, 300));
      events.push('lock released');
    });
    await behind;
    expect(events).toEqual(['returned with 0 queued', 'lock released', 'behind: returned']);
    expect(writer.pendingCount).toBe(0);
    expect(await count()).toBe(5_500);
  });
});
