// Owns the daily and weekly summaries posted to SLACK_OPS_CHANNEL: the cron jobs (in SCHEDULE_TZ),
// the claim that makes each period post once across replicas, and the retry sweep that re-posts a
// summary whose post failed. The summary is the stats of the period, told as a `summary`
// notification through the process's notifier (src/slack renders it like /stats, with the badge).
import cron from 'node-cron';
import type { Registry } from 'prom-client';
import type { Clock } from '../clock.js';
import type { Config } from '../config/env.js';
import type { Db } from '../db/client.js';
import type { Logger } from '../logger.js';
import { ctbMetrics } from '../metrics/instruments.js';
import { computeStats } from '../services/stats/compute-stats.js';
import {
  claimReport, claimStaleReports, hasReportBefore, markReportFailed, markReportPosted, reportPeriod, type ReportKind,
} from '../services/stats/scheduled-reports.js';
import type { ScheduledReport } from '../db/schema/index.js';
import type { Notifier } from '../notifications/notification.js';
import type { JobSpec } from './registry.js';

export interface StatsSummariesOptions {
  /** Who claims (host:pid): shown in scheduled_reports.claimed_by. */
  replica: string;
  /** How long a claim is held while posting; a replica that dies mid-post frees it after this. */
  leaseMs?: number;
  /** How long after a failed post the retry sweep may take it. */
  retryDelayMs?: number;
  maxAttempts?: number;
  /** Waits between attempts to record a posted summary (default 0.2 s, 1 s, 5 s). */
  markRetryDelaysMs?: number[];
}

/** What the summaries read: the ledger (for the stats), the schedule, the clock, a logger, the counters. */
export interface StatsSummariesDeps {
  db: Db;
  config: Pick<Config, 'PAPER_STARTING_BALANCE' | 'QUOTE_CURRENCY' | 'EQUITY_SNAPSHOT_INTERVAL' | 'ENGINE_LEASE_TTL' | 'SCHEDULE_TZ' | 'DAILY_SUMMARY_CRON' | 'WEEKLY_SUMMARY_CRON'>;
  clock: Clock;
  logger: Logger;
  metrics: Registry;
}

export type FireOutcome = 'posted' | 'failed' | 'taken';

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;

/** The latest minute at or before `now`, within `lookbackMs`, at which `expr` fires in `timeZone`. */
export function lastFiring(expr: string, timeZone: string, now: Date, lookbackMs: number): Date | null {
  const task = cron.createTask(expr, () => {}, { timezone: timeZone });
  try {
    const start = Math.floor(now.getTime() / MINUTE) * MINUTE;
    for (let t = start; t >= now.getTime() - lookbackMs; t -= MINUTE) {
      if (task.match(new Date(t))) return new Date(t);
    }
    return null;
  } finally {
    void task.destroy();
  }
}

export function createStatsSummaries(
  ctx: StatsSummariesDeps,
  deps: { notifier: Notifier; markPosted?: typeof markReportPosted },
  opts: StatsSummariesOptions,
) {
  const leaseMs = opts.leaseMs ?? 2 * 60_000;
  const retryDelayMs = opts.retryDelayMs ?? 60_000;
  const maxAttempts = opts.maxAttempts ?? 20;
  const metrics = ctbMetrics(ctx.metrics);
  const markPosted = deps.markPosted ?? markReportPosted;

  /**
   * Records a summary that Slack has taken. Retried with a short backoff: while the row is not marked
   * posted, its lease running out would let the sweep post the same summary a second time.
   */
  async function recordPosted(row: ScheduledReport, ts: string | null): Promise<boolean> {
    const delays = opts.markRetryDelaysMs ?? [200, 1_000, 5_000];
    for (let attempt = 0; ; attempt++) {
      try {
        await markPosted(ctx.db, { id: row.id, replica: opts.replica, now: ctx.clock.now(), slackTs: ts });
        return true;
      } catch (err) {
        const delay = delays[attempt];
        if (delay === undefined) {
          ctx.logger.error({ err, report: row.kind, period: row.periodKey, slackTs: ts },
            'summary was posted but could not be recorded; it may be posted again when its lease runs out');
          return false;
        }
        await new Promise((r) => setTimeout(r, delay));
      }
    }
  }

  async function deliver(row: ScheduledReport): Promise<'posted' | 'failed'> {
    const log = ctx.logger.child({ report: row.kind, period: row.periodKey, attempt: row.attempts });
    let ts: string | null;
    try {
      const report = await computeStats(ctx, { window: { from: row.periodFrom, to: row.periodTo }, period: 'custom', endsNow: false });
      const posted = await deps.notifier.notify(ctx.db, { kind: 'summary', summary: row.kind, periodKey: row.periodKey, report });
      ts = posted.ts || null;
    } catch (err) {
      const retryAt = new Date(ctx.clock.now().getTime() + retryDelayMs);
      await markReportFailed(ctx.db, { id: row.id, replica: opts.replica, error: (err as Error).message ?? String(err), retryAt });
      metrics.scheduledReports.inc({ kind: row.kind, outcome: 'failed' });
      log.warn({ err, retryAt }, 'summary could not be posted; it will be retried');
      return 'failed';
    }
    // Posted: from here on a failure must never lead to marking it failed (that would post it twice).
    await recordPosted(row, ts);
    metrics.scheduledReports.inc({ kind: row.kind, outcome: 'posted' });
    log.info('summary posted');
    return 'posted';
  }

  return {
    /**
     * What a cron firing does: claim this period (or learn another replica has it), then post.
     * `firedAt` is the scheduled minute when catching up a firing that no replica was up for.
     */
    async fire(kind: ReportKind, firedAt: Date = ctx.clock.now()): Promise<FireOutcome> {
      const period = reportPeriod(kind, firedAt, ctx.config.SCHEDULE_TZ);
      const row = await claimReport(ctx.db, { period, replica: opts.replica, now: ctx.clock.now(), leaseMs });
      if (!row) {
        ctx.logger.debug({ report: kind, period: period.key }, 'summary already claimed by another replica');
        return 'taken';
      }
      return deliver(row);
    },
    /** Re-posts summaries whose post failed or whose replica died; returns how many it posted. */
    async retryStale(): Promise<number> {
      const rows = await claimStaleReports(ctx.db, { replica: opts.replica, now: ctx.clock.now(), leaseMs, maxAttempts });
      let posted = 0;
      for (const row of rows) if ((await deliver(row)) === 'posted') posted++;
      return posted;
    },
    /**
     * At start: a summary whose cron time passed while no replica ran (a deploy, an outage) is posted
     * now, for the period it would have covered. Only once the bot has posted that kind of summary
     * before, so a fresh install does not open with a summary of nothing.
     */
    async catchUp(): Promise<Array<{ kind: ReportKind; firedAt: Date; outcome: FireOutcome }>> {
      const now = ctx.clock.now();
      const done: Array<{ kind: ReportKind; firedAt: Date; outcome: FireOutcome }> = [];
      for (const kind of ['daily', 'weekly'] as const) {
        const expr = kind === 'daily' ? ctx.config.DAILY_SUMMARY_CRON : ctx.config.WEEKLY_SUMMARY_CRON;
        // One indexed read first: a fresh install has nothing to catch up, and scanning a week of
        // minutes for the last firing is not free at start.
        if (!(await hasReportBefore(ctx.db, kind, now))) continue;
        const firedAt = lastFiring(expr, ctx.config.SCHEDULE_TZ, now, kind === 'daily' ? DAY : 7 * DAY);
        if (!firedAt || !(await hasReportBefore(ctx.db, kind, firedAt))) continue;
        done.push({ kind, firedAt, outcome: await this.fire(kind, firedAt) });
      }
      return done;
    },
    jobs(): JobSpec[] {
      const timezone = ctx.config.SCHEDULE_TZ;
      return [
        { name: 'stats-summary-daily', schedule: ctx.config.DAILY_SUMMARY_CRON, timezone, trades: false, run: async () => void (await this.fire('daily')) },
        { name: 'stats-summary-weekly', schedule: ctx.config.WEEKLY_SUMMARY_CRON, timezone, trades: false, run: async () => void (await this.fire('weekly')) },
        { name: 'stats-summary-retry', schedule: '*/1 * * * *', timezone, trades: false, run: async () => void (await this.retryStale()) },
      ];
    },
  };
}
