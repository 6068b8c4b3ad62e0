// Queries over equity_snapshots: a batch of snapshots in one statement, the latest one (where the
// risk guard resumes its peak) and the first of a day (the daily loss limit's opening equity).
import { and, asc, desc, eq, gte, sql } from 'drizzle-orm';
import { asyncCommitCte } from '../async-commit.js';
import type { Db } from '../client.js';
import { executePrepared } from '../prepared.js';
import { equitySnapshots, type EquitySnapshot } from '../schema/index.js';

type Mode = EquitySnapshot['mode'];
type FeedKind = EquitySnapshot['feed'];

export interface SnapshotRow {
  mode: Mode;
  feed: FeedKind;
  at: Date;
  equity: string;
  cash: string;
  peakEquity: string;
  drawdownPct: string;
}

/**
 * A row as its batch's JSON carries it (one array), made when the row is queued: a waiting row is
 * then one string, not an object, a Date and five strings for the collector to move about.
 */
export function encodeSnapshotRow(r: SnapshotRow): string {
  return JSON.stringify([r.mode, r.feed, r.at.toISOString(), r.equity, r.cash, r.peakEquity, r.drawdownPct]);
}

/**
 * One statement for a batch of rows encoded by encodeSnapshotRow: the rows as one JSON parameter (the
 * statement text never changes, so it is prepared once), instead of seven parameters a row. A batch
 * of paper rows only (`paper`) commits without waiting for the WAL flush, like the paper ledger beside
 * it (db/async-commit.ts).
 */
export async function insertEncodedSnapshots(db: Db, encoded: string[], paper: boolean): Promise<void> {
  const json = `[${encoded.join(',')}]`;
  await executePrepared(db, sql`
    with ${paper ? sql`${asyncCommitCte},` : sql``} r as (select value as v from jsonb_array_elements(${json}::jsonb)),
    w as (insert into ${equitySnapshots} (mode, feed, at, equity, cash, peak_equity, drawdown_pct)
      select v->>0, v->>1, (v->>2)::timestamptz, (v->>3)::numeric, (v->>4)::numeric, (v->>5)::numeric, (v->>6)::numeric from r returning 1)
    select count(*)::int as n ${paper ? sql`, (select async_commit from s)` : sql``} from w`);
}

export async function latestSnapshot(db: Db, mode: Mode): Promise<EquitySnapshot | undefined> {
  const rows = await db.select().from(equitySnapshots).where(eq(equitySnapshots.mode, mode)).orderBy(desc(equitySnapshots.at), desc(equitySnapshots.id)).limit(1);
  return rows[0];
}

/** The first snapshot at or after `since` (the day's opening equity for the daily loss limit). */
export async function firstSnapshotSince(db: Db, mode: Mode, since: Date): Promise<EquitySnapshot | undefined> {
  const rows = await db.select().from(equitySnapshots)
    .where(and(eq(equitySnapshots.mode, mode), gte(equitySnapshots.at, since))).orderBy(asc(equitySnapshots.at), asc(equitySnapshots.id)).limit(1);
  return rows[0];
}
