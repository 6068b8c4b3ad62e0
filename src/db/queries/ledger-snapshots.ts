// Queries over equity_snapshots: a batch of snapshots in one statement, the latest one (where the
// risk guard resumes its peak) and the first of a day (the daily loss limit's opening equity).
import { and, asc, desc, eq, gt, gte, sql } from 'drizzle-orm';
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
 * Rows waiting to be written, column by column, as the statement takes them: a replay queues a row per
 * candle, and a row is then a string added to each column (its figures are strings already), not an
 * object, a Date and an encoded line for the collector to move about.
 */
export class SnapshotColumns {
  mode: string[] = [];
  feed: string[] = [];
  at: string[] = [];
  equity: string[] = [];
  cash: string[] = [];
  peakEquity: string[] = [];
  drawdownPct: string[] = [];

  get length(): number {
    return this.at.length;
  }

  push(r: SnapshotRow): void {
    this.mode.push(r.mode);
    this.feed.push(r.feed);
    this.at.push(isoText(r.at));
    this.equity.push(r.equity);
    this.cash.push(r.cash);
    this.peakEquity.push(r.peakEquity);
    this.drawdownPct.push(r.drawdownPct);
  }

  /** The first `n` rows, taken out of these (all of them, as a full batch usually is: no copying). */
  take(n: number): SnapshotColumns {
    const taken = new SnapshotColumns();
    for (const k of COLUMNS) {
      if (n >= this[k].length) {
        taken[k] = this[k];
        this[k] = [];
      } else {
        taken[k] = this[k].splice(0, n);
      }
    }
    return taken;
  }

  /** Puts `rows` back in front of these, in their order. */
  putBack(rows: SnapshotColumns): void {
    for (const k of COLUMNS) this[k].unshift(...rows[k]);
  }
}

const DAY_MS = 86_400_000;
/** 0001-01-01 and 10000-01-01: between them toISOString prints a four-digit year. */
const ISO_MIN_MS = -62_135_596_800_000;
const ISO_MAX_MS = 253_402_300_800_000;
let isoDay = Number.NaN;
let isoDayText = '';
const twoDigits = (n: number): string => (n < 10 ? `0${n}` : `${n}`);

/**
 * What Date#toISOString prints, for a row per candle: the date part is worked out once a day and the
 * time of day from the milliseconds (toISOString, which formats every field anew, was a third of a
 * queued row's cost). Outside years 1–9999, where toISOString prints a six-digit year, it is used.
 */
export function isoText(at: Date): string {
  const ms = at.getTime();
  if (!(ms >= ISO_MIN_MS && ms < ISO_MAX_MS)) return at.toISOString();
  const day = Math.floor(ms / DAY_MS) * DAY_MS;
  if (day !== isoDay) {
    isoDayText = at.toISOString().slice(0, 11);
    isoDay = day;
  }
  let rest = ms - day;
  const hours = Math.floor(rest / 3_600_000);
  rest -= hours * 3_600_000;
  const minutes = Math.floor(rest / 60_000);
  rest -= minutes * 60_000;
  const seconds = Math.floor(rest / 1000);
  const millis = rest - seconds * 1000;
  return `${isoDayText}${twoDigits(hours)}:${twoDigits(minutes)}:${twoDigits(seconds)}.${millis < 10 ? '00' : millis < 100 ? '0' : ''}${millis}Z`;
}

const COLUMNS = ['mode', 'feed', 'at', 'equity', 'cash', 'peakEquity', 'drawdownPct'] as const;

/**
 * One statement for a batch of rows: each column as one text parameter, its values joined by commas
 * (the statement text never changes, so it is prepared once), instead of seven parameters a row.
 * PostgreSQL splits and casts each column whole (string_to_array, then one array cast): about a
 * third less of its time per batch than reading the rows out of one JSON document. No value has a
 * comma (a mode, a feed, an ISO time, decimal.js's and fixed-point's plain digits); one that had would
 * leave its column longer than the others, unnest would pad the rest with nulls, and the NOT NULL
 * columns would refuse the whole batch: nothing is written shifted. A batch of paper rows only
 * (`paper`) commits without waiting for the WAL flush, like the paper ledger beside it
 * (db/async-commit.ts).
 */
export async function insertSnapshots(db: Db, rows: SnapshotColumns, paper: boolean): Promise<void> {
  const col = (k: (typeof COLUMNS)[number]) => rows[k].join(',');
  await executePrepared(db, sql`
    with ${paper ? sql`${asyncCommitCte},` : sql``}
    w as (insert into ${equitySnapshots} (mode, feed, at, equity, cash, peak_equity, drawdown_pct)
      select * from unnest(string_to_array(${col('mode')}::text, ','), string_to_array(${col('feed')}::text, ','),
        string_to_array(${col('at')}::text, ',')::timestamptz[], string_to_array(${col('equity')}::text, ',')::numeric[],
        string_to_array(${col('cash')}::text, ',')::numeric[], string_to_array(${col('peakEquity')}::text, ',')::numeric[],
        string_to_array(${col('drawdownPct')}::text, ',')::numeric[])
      returning 1)
    select count(*)::int as n ${paper ? sql`, (select async_commit from s)` : sql``} from w`);
}

/** The latest snapshot of the book, or the latest of those written after snapshot `afterId`. */
export async function latestSnapshot(db: Db, mode: Mode, afterId?: number): Promise<EquitySnapshot | undefined> {
  const rows = await db.select().from(equitySnapshots)
    .where(afterId === undefined ? eq(equitySnapshots.mode, mode) : and(eq(equitySnapshots.mode, mode), gt(equitySnapshots.id, afterId))).orderBy(desc(equitySnapshots.at), desc(equitySnapshots.id)).limit(1);
  return rows[0];
}

/** The first snapshot at or after `since` (the day's opening equity for the daily loss limit). */
export async function firstSnapshotSince(db: Db, mode: Mode, since: Date): Promise<EquitySnapshot | undefined> {
  const rows = await db.select().from(equitySnapshots)
    .where(and(eq(equitySnapshots.mode, mode), gte(equitySnapshots.at, since))).orderBy(asc(equitySnapshots.at), asc(equitySnapshots.id)).limit(1);
  return rows[0];
}

/** The first snapshot written after snapshot `afterId` (ids are the database's order of writing). */
export async function firstSnapshotAfterId(db: Db, mode: Mode, afterId: number): Promise<EquitySnapshot | undefined> {
  const rows = await db.select().from(equitySnapshots)
    .where(and(eq(equitySnapshots.mode, mode), gt(equitySnapshots.id, afterId))).orderBy(asc(equitySnapshots.id)).limit(1);
  return rows[0];
}
