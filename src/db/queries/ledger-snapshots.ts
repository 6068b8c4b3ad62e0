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
 * candle, and a row is then a number and strings added to the columns (its figures are strings
 * already; its mode and feed the same few strings every time), not an object, a Date and an encoded
 * line for the collector to move about.
 */
export class SnapshotColumns {
  mode: Mode[] = [];
  feed: FeedKind[] = [];
  /** Milliseconds since the epoch. */
  at: number[] = [];
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
    this.at.push(r.at.getTime());
    this.equity.push(r.equity);
    this.cash.push(r.cash);
    this.peakEquity.push(r.peakEquity);
    this.drawdownPct.push(r.drawdownPct);
  }

  /**
   * The first rows, at most `n`, of one book: those up to the first of another mode or feed than the
   * first row's (a batch is one book; see insertSnapshots). Taken out of these: all of them, as a
   * full batch of one book usually is, without copying.
   */
  take(n: number): SnapshotColumns {
    const { mode, feed } = this;
    let count = Math.min(n, this.length);
    for (let i = 1; i < count; i++) {
      if (mode[i] !== mode[0] || feed[i] !== feed[0]) count = i;
    }
    const taken = new SnapshotColumns();
    for (const k of COLUMNS) {
      if (count >= this[k].length) {
        (taken[k] as unknown[]) = this[k];
        (this[k] as unknown[]) = [];
      } else {
        (taken[k] as unknown[]) = this[k].splice(0, count);
      }
    }
    return taken;
  }

  /** Puts `rows` back in front of these, in their order. */
  putBack(rows: SnapshotColumns): void {
    for (const k of COLUMNS) (this[k] as unknown[]).unshift(...rows[k]);
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
 * One statement for a batch of rows of one book (one mode and feed, as SnapshotColumns.take gives
 * them): the mode and feed once, the times as milliseconds after the first row's (sent as its ISO
 * text), the figures each as one text parameter of comma-joined values (the statement text never
 * changes, so it is prepared once), instead of seven parameters a row: a row is then some 60 bytes,
 * not 105, to encode, send and split. PostgreSQL splits and casts each column whole (string_to_array,
 * then one array cast): about a third less of its time per batch than reading the rows out of one
 * JSON document. A time is the first row's plus a whole number of milliseconds (an interval times an
 * integer is exact), so it is the instant its ISO text names. No value has a comma (a whole number of
 * milliseconds, decimal.js's and fixed-point's plain digits); one that had would leave its column
 * longer than the others, unnest would pad the rest with nulls, and the NOT NULL columns would refuse
 * the whole batch: nothing is written shifted. A batch of paper rows (`paper`) commits without
 * waiting for the WAL flush, like the paper ledger beside it (db/async-commit.ts).
 */
export async function insertSnapshots(db: Db, rows: SnapshotColumns, paper: boolean): Promise<void> {
  const n = rows.length;
  if (n === 0) return;
  const mode = rows.mode[0]!;
  const feed = rows.feed[0]!;
  for (let i = 1; i < n; i++) {
    if (rows.mode[i] !== mode || rows.feed[i] !== feed) throw new Error('a batch of equity snapshots must be of one book (mode and feed)');
  }
  const at = rows.at;
  const first = at[0]!;
  let offsets = '0';
  for (let i = 1; i < n; i++) offsets += `,${at[i]! - first}`;
  const col = (k: 'equity' | 'cash' | 'peakEquity' | 'drawdownPct') => rows[k].join(',');
  await executePrepared(db, sql`
    with ${paper ? sql`${asyncCommitCte},` : sql``}
    w as (insert into ${equitySnapshots} (mode, feed, at, equity, cash, peak_equity, drawdown_pct)
      select ${mode}::text, ${feed}::text, ${isoText(new Date(first))}::timestamptz + r.ms * interval '1 millisecond', r.equity, r.cash, r.peak, r.drawdown
      from unnest(string_to_array(${offsets}::text, ',')::bigint[], string_to_array(${col('equity')}::text, ',')::numeric[],
        string_to_array(${col('cash')}::text, ',')::numeric[], string_to_array(${col('peakEquity')}::text, ',')::numeric[],
        string_to_array(${col('drawdownPct')}::text, ',')::numeric[]) as r(ms, equity, cash, peak, drawdown)
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
