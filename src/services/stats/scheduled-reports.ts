// Owns the once-per-period guarantee of the daily and weekly summaries. Every replica's cron fires;
// each tries to insert the period's row, and the unique (kind, period_key) lets exactly one win the
// claim. The winner posts and marks the row posted. A failed post leaves the row unposted with a
// short lease; when the lease runs out, a retry sweep (any replica, FOR UPDATE SKIP LOCKED) claims
// it again, so a summary is retried until it is posted and never posted twice by two replicas.
// This file names the periods; the claims' statements are in src/db/queries/stats-reports.ts.

export {
  claimReport, claimStaleReports, hasReportBefore, markReportFailed, markReportPosted,
} from '../../db/queries/stats-reports.js';

export type ReportKind = 'daily' | 'weekly';

export interface ReportPeriod {
  kind: ReportKind;
  /** `2026-11-24` for a day, `2026-W48` for an ISO week, in SCHEDULE_TZ. */
  key: string;
  from: Date;
  to: Date;
}

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;

function localDate(at: Date, timeZone: string): { y: number; m: number; d: number } {
  const parts = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).formatToParts(at);
  const get = (t: string) => Number(parts.find((p) => p.type === t)?.value);
  return { y: get('year'), m: get('month'), d: get('day') };
}

function isoWeek({ y, m, d }: { y: number; m: number; d: number }): string {
  const weekday = (dt: Date) => (dt.getUTCDay() + 6) % 7; // Monday = 0
  const date = new Date(Date.UTC(y, m - 1, d));
  const thursday = Date.UTC(y, m - 1, d - weekday(date) + 3); // a week belongs to its Thursday's year
  const year = new Date(thursday).getUTCFullYear();
  const jan4 = new Date(Date.UTC(year, 0, 4)); // week 1 is the week with January 4th
  const firstThursday = Date.UTC(year, 0, 4 - weekday(jan4) + 3);
  const week = 1 + Math.round((thursday - firstThursday) / (7 * DAY));
  return `${year}-W${String(week).padStart(2, '0')}`;
}

/**
 * The period a summary fired at `firedAt` covers: the 24 hours (or 7 days) up to the firing
 * minute. The key is the firing's local date (or ISO week) in `timeZone`, taken from the firing
 * time rounded to the minute, so replicas whose clocks differ by seconds agree on it.
 */
export function reportPeriod(kind: ReportKind, firedAt: Date, timeZone: string): ReportPeriod {
  const to = new Date(Math.round(firedAt.getTime() / MINUTE) * MINUTE);
  const local = localDate(to, timeZone);
  const key = kind === 'daily'
    ? `${local.y}-${String(local.m).padStart(2, '0')}-${String(local.d).padStart(2, '0')}`
    : isoWeek(local);
  return { kind, key, from: new Date(to.getTime() - (kind === 'daily' ? DAY : 7 * DAY)), to };
}
