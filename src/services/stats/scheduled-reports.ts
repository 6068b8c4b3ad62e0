// Owns the once-per-period guarantee of the daily and weekly summaries. Every replica's cron fires;
// each tries to insert the period's row, and the unique (kind, period_key) lets exactly one win the
// claim. The winner posts and marks the row posted. A failed post leaves the row unposted with a
// short lease; when the lease runs out, a retry sweep (any replica, FOR UPDATE SKIP LOCKED) claims
// it again, so a summary is retried until it is posted and never posted twice by two replicas.
import { and, eq, isNull, lt, sql } from 'drizzle-orm';
import type { Db } from '../../db/client.js';
import { scheduledReports, type ScheduledReport } from '../../db/schema/index.js';

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

/** Inserts the period's row for this replica; null when another replica already holds it. */
export async function claimReport(db: Db, opts: { period: ReportPeriod; replica: string; now: Date; leaseMs: number }): Promise<ScheduledReport | null> {
  const rows = await db
    .insert(scheduledReports)
    .values({
      kind: opts.period.kind, periodKey: opts.period.key, periodFrom: opts.period.from, periodTo: opts.period.to,
      claimedBy: opts.replica, claimedAt: opts.now, leaseUntil: new Date(opts.now.getTime() + opts.leaseMs),
    })
    .onConflictDoNothing({ target: [scheduledReports.kind, scheduledReports.periodKey] })
    .returning();
  return rows[0] ?? null;
}

/** Claims unposted reports whose lease ran out (a failed post, or a replica that died mid-post). */
export async function claimStaleReports(db: Db, opts: { replica: string; now: Date; leaseMs: number; maxAttempts: number }): Promise<ScheduledReport[]> {
  return db
    .update(scheduledReports)
    .set({
      claimedBy: opts.replica, claimedAt: opts.now, leaseUntil: new Date(opts.now.getTime() + opts.leaseMs),
      attempts: sql`${scheduledReports.attempts} + 1`,
    })
    .where(sql`${scheduledReports.id} in (
      select id from scheduled_reports
      where posted_at is null and lease_until < ${opts.now.toISOString()}::timestamptz and attempts < ${opts.maxAttempts}
      order by id limit 10 for update skip locked)`)
    .returning();
}

export async function markReportPosted(db: Db, opts: { id: number; replica: string; now: Date; slackTs: string | null }): Promise<void> {
  await db
    .update(scheduledReports)
    .set({ postedAt: opts.now, slackTs: opts.slackTs, lastError: null })
    .where(and(eq(scheduledReports.id, opts.id), eq(scheduledReports.claimedBy, opts.replica), isNull(scheduledReports.postedAt)));
}

/** Records why the post failed and when the retry sweep may take the report again. */
export async function markReportFailed(db: Db, opts: { id: number; replica: string; error: string; retryAt: Date }): Promise<void> {
  await db
    .update(scheduledReports)
    .set({ lastError: opts.error.slice(0, 500), leaseUntil: opts.retryAt })
    .where(and(eq(scheduledReports.id, opts.id), eq(scheduledReports.claimedBy, opts.replica), isNull(scheduledReports.postedAt)));
}

/** Whether a summary of this kind was claimed for a period that ended before `at`. */
export async function hasReportBefore(db: Db, kind: ReportKind, at: Date): Promise<boolean> {
  const rows = await db.select({ id: scheduledReports.id }).from(scheduledReports)
    .where(and(eq(scheduledReports.kind, kind), lt(scheduledReports.periodTo, at))).limit(1);
  return rows.length > 0;
}
