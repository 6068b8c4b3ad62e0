// Owns the SQL of the summaries' once-per-period claims (scheduled_reports): the claim insert that
// the unique (kind, period_key) lets exactly one replica win, the retry sweep's claim of stale rows
// (FOR UPDATE SKIP LOCKED), and marking a claimed row posted or failed. The periods themselves are
// named by src/services/stats/scheduled-reports.ts.
import { and, eq, isNull, lt, sql } from 'drizzle-orm';
import type { Db } from '../client.js';
import { scheduledReports, type ScheduledReport } from '../schema/index.js';

type ReportKind = ScheduledReport['kind'];

/** Inserts the period's row for this replica; null when another replica already holds it. */
export async function claimReport(db: Db, opts: { period: { kind: ReportKind; key: string; from: Date; to: Date }; replica: string; now: Date; leaseMs: number }): Promise<ScheduledReport | null> {
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
