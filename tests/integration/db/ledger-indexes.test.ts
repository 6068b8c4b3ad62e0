// Migration 0037: the time index of fills holds live fills only, and the exit indexes of trades leave
// open trades out (a paper order writes fewer index entries). A database made before it migrates with
// its rows kept; the queries that walk those indexes still can, with a prepared statement's generic
// plan too (they say mode = 'live' and exit_at is not null as constants, not parameters).
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/postgres-js';
import type postgres from 'postgres';
import { afterEach, describe, expect, it } from 'vitest';
import { execute, type Database, type Db } from '../../../src/db/client.js';
import { MIGRATIONS_DIR, migrate } from '../../../src/db/migrate.js';
import { liveFillsSinceOrOf } from '../../../src/db/queries/reconcile-ledger.js';
import { lastClosedTrades } from '../../../src/db/queries/trade-views.js';
import { createTestDb, type DbKind } from '../../support/db.js';

const MIGRATION = '0037_ledger_indexes_skip_paper_and_open';

/** Migration files numbered from MIGRATION's on (0037_….sql, meta/0037_snapshot.json and later ones). */
const FROM = Number(MIGRATION.slice(0, 4));
const numberOf = (path: string) => Number(/(?:^|[/\\])(\d{4})_[^/\\]*$/.exec(path)?.[1] ?? Number.NaN);

/**
 * The database emptied and migrated by the migrations before MIGRATION only: as a database made before
 * it is. Later migrations are left out too (they may build on it); migrate() applies it and them.
 */
async function makeOld(database: Database): Promise<void> {
  for (const statement of ['drop schema public cascade', 'drop schema if exists drizzle cascade', 'create schema public']) await database.db.execute(sql.raw(statement));
  const dir = mkdtempSync(join(tmpdir(), 'ctb-migrations-before-'));
  try {
    cpSync(MIGRATIONS_DIR, dir, { recursive: true, filter: (src) => !(numberOf(src) >= FROM) });
    const journalFile = join(dir, 'meta', '_journal.json');
    const journal = JSON.parse(readFileSync(journalFile, 'utf8')) as { entries: { tag: string }[] };
    expect(journal.entries.map((e) => e.tag)).toContain(MIGRATION);
    journal.entries = journal.entries.filter((e) => Number(e.tag.slice(0, 4)) < FROM);
    expect(journal.entries.at(-1)!.tag.slice(0, 4)).toBe(String(FROM - 1).padStart(4, '0'));
    writeFileSync(journalFile, JSON.stringify(journal));
    if (database.kind === 'postgres') {
      const { migrate: run } = await import('drizzle-orm/postgres-js/migrator');
      await run(database.db as never, { migrationsFolder: dir });
    } else {
      const { migrate: run } = await import('drizzle-orm/pglite/migrator');
      await run(database.db as never, { migrationsFolder: dir });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const indexDefs = async (db: Db) => Object.fromEntries((await execute<{ name: string; def: string }>(db, sql`
  select indexname as name, indexdef as def from pg_indexes
  where tablename in ('fills', 'trades', 'equity_snapshots') and indexname not like '%_pkey'`)).map((r) => [r.name, r.def]));

/** A paper and a live fill, an open and a closed trade, a snapshot. */
async function ledgerRows(db: Db): Promise<void> {
  await db.execute(sql`
    insert into fills (intent_id, client_order_id, exchange_trade_id, mode, feed, symbol, side, quantity, price, fee, fee_currency, filled_at) values
      (1, 'c-paper', 'PT-1', 'paper', 'replay', 'BTC/USD', 'buy', 1, 100, 0.1, 'USD', '2026-01-01T00:00:00Z'),
      (2, 'c-live', 'TX-1', 'live', 'kraken', 'BTC/USD', 'buy', 1, 100, 0.1, 'USD', '2026-01-02T00:00:00Z')`);
  await db.execute(sql`
    insert into trades (mode, feed, strategy, symbol, status, quantity, entry_price, entry_fee, entry_at, entry_intent_id,
      exit_price, exit_fee, exit_at, exit_intent_id, capital_buffer, realized_pnl) values
      ('live', 'kraken', 's', 'BTC/USD', 'open', 1, 100, 0.1, '2026-01-02T00:00:00Z', 2, null, null, null, null, null, null),
      ('paper', 'replay', 's', 'BTC/USD', 'closed', 1, 100, 0.1, '2026-01-01T00:00:00Z', 1, 110, 0.1, '2026-01-01T01:00:00Z', 3, 50, 9.8)`);
  await db.execute(sql`
    insert into equity_snapshots (mode, feed, at, equity, cash, peak_equity, drawdown_pct)
    values ('paper', 'replay', '2026-01-01T01:00:00Z', 1000, 1000, 1000, 0)`);
}

const NEW_INDEXES = {
  fills_filled_at_live: 'CREATE INDEX fills_filled_at_live ON public.fills USING btree (filled_at) WHERE (mode = \'live\'::text)',
  trades_exit_at_exited: 'CREATE INDEX trades_exit_at_exited ON public.trades USING btree (exit_at) WHERE (exit_at IS NOT NULL)',
  trades_exit_intent_id_exited: 'CREATE UNIQUE INDEX trades_exit_intent_id_exited ON public.trades USING btree (exit_intent_id) WHERE (exit_intent_id IS NOT NULL)',
  equity_snapshots_at: 'CREATE INDEX equity_snapshots_at ON public.equity_snapshots USING btree (mode, at) WITH (deduplicate_items=off)',
};

describe.each<DbKind>(['postgres', 'pglite'])('ledger indexes (migration 0037) on %s', (kind) => {
  let database: Database | undefined;
  afterEach(async () => {
    await database?.close();
    database = undefined;
  });

  it('migrates a database made before it: the narrower indexes replace the old ones, the rows stay', async () => {
    database = await createTestDb(kind);
    await makeOld(database);
    const { db } = database;
    const before = await indexDefs(db);
    expect(before).toMatchObject({ fills_filled_at: expect.not.stringContaining('WHERE'), trades_exit_at: expect.any(String), trades_exit_intent_id: expect.any(String) });
    await ledgerRows(db);

    await migrate(database);

    const after = await indexDefs(db);
    expect(after).toMatchObject(NEW_INDEXES);
    expect(Object.keys(after)).not.toEqual(expect.arrayContaining(['fills_filled_at']));
    expect(after).not.toHaveProperty('trades_exit_at');
    expect(after).not.toHaveProperty('trades_exit_intent_id');
    const [counts] = await execute<{ fills: number; trades: number; snapshots: number }>(db, sql`
      select (select count(*)::int from fills) as fills, (select count(*)::int from trades) as trades, (select count(*)::int from equity_snapshots) as snapshots`);
    expect(counts).toEqual({ fills: 2, trades: 2, snapshots: 1 });
    expect((await lastClosedTrades(db, 10)).map((t) => t.exitIntentId)).toEqual([3]);
    expect((await liveFillsSinceOrOf(db, new Date('2025-12-31T00:00:00Z'), [], [])).map((f) => f.exchangeTradeId)).toEqual(['TX-1']);
    // Still one closed part per exit order.
    await expect(db.execute(sql`
      insert into trades (mode, feed, strategy, symbol, status, quantity, entry_price, entry_fee, entry_at, entry_intent_id, split_from_trade_id,
        exit_price, exit_fee, exit_at, exit_intent_id, capital_buffer, realized_pnl)
      values ('paper', 'replay', 's', 'BTC/USD', 'closed', 1, 100, 0.1, '2026-01-01T00:00:00Z', 1, 1, 110, 0.1, '2026-01-01T02:00:00Z', 3, 50, 9.8)`))
      .rejects.toMatchObject({ cause: { code: '23505' } });
  }, 60_000);
});

describe('ledger indexes reached by generic plans on postgres', () => {
  let database: Database | undefined;
  afterEach(async () => {
    await database?.close();
    database = undefined;
  });

  /** The plan PostgreSQL keeps for a prepared statement of `text` once it plans it generically (no parameter values known). */
  async function genericPlan(client: postgres.Sql, text: string, params: unknown[]): Promise<string> {
    const reserved = await client.reserve();
    try {
      await reserved.unsafe('set plan_cache_mode = force_generic_plan');
      // Tables of a few rows: a scan and a sort would be cheapest; what is asked is whether the index can be used at all.
      await reserved.unsafe('set enable_seqscan = off');
      await reserved.unsafe('set enable_sort = off');
      await reserved.unsafe(`prepare q as ${text}`);
      // The values as untyped literals: each takes the type the statement gave its parameter.
      const literal = (v: unknown) => (typeof v === 'number' ? String(v) : `'${String(v).replaceAll("'", "''")}'`);
      const plan = await reserved.unsafe(`explain execute q(${params.map(literal).join(', ')})`);
      await reserved.unsafe('deallocate q');
      return plan.map((r) => String(r['QUERY PLAN'])).join('\n');
    } finally {
      reserved.release();
    }
  }

  it('the live fills since a time and the last closed trades walk the narrower indexes', async () => {
    database = await createTestDb('postgres');
    await ledgerRows(database.db);
    const client = (database.db as unknown as { session: { client: postgres.Sql } }).session.client;
    const seen: { text: string; params: unknown[] }[] = [];
    const logged = drizzle(client, { logger: { logQuery: (text, params) => seen.push({ text, params }) } }) as unknown as Db;

    await liveFillsSinceOrOf(logged, new Date('2025-12-31T00:00:00Z'), [], []);
    await lastClosedTrades(logged, 10);
    const [fillsQuery, tradesQuery] = seen;
    expect(await genericPlan(client, fillsQuery!.text, fillsQuery!.params)).toContain('fills_filled_at_live');
    expect(await genericPlan(client, tradesQuery!.text, tradesQuery!.params)).toContain('trades_exit_at_exited');
  }, 60_000);
});
