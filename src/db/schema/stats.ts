// Owns the stats area's tables: the daily rollup of closed trades (kept in step with `trades` by
// row triggers on the closed trades, see migrations/*_stats_rollup*.sql, *_stats_rollup_per_row.sql) and the claims of scheduled reports.
import { sql } from 'drizzle-orm';
import { bigserial, index, integer, numeric, pgTable, primaryKey, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core';

const money = (name: string) => numeric(name, { precision: 38, scale: 18 });
const at = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

/**
 * Closed trades summed per book (mode, feed), strategy and UTC day of exit. `/stats all` over a
 * million trades reads a few thousand of these rows instead of every trade (hourly buckets were
 * 24× as many rows and too slow to sum). Written only by the triggers on `trades`.
 */
export const tradeStatsDaily = pgTable(
  'trade_stats_daily',
  {
    mode: text('mode', { enum: ['paper', 'live'] }).notNull(),
    feed: text('feed', { enum: ['kraken', 'replay'] }).notNull(),
    strategy: text('strategy').notNull(),
    /** UTC midnight starting the day. */
    day: at('day').notNull(),
    closed: integer('closed').notNull(),
    wins: integer('wins').notNull(),
    losses: integer('losses').notNull(),
    realizedPnl: numeric('realized_pnl').notNull(),
    fees: numeric('fees').notNull(),
    /** Sum of quantity × entry price: the capital the strategy put to work. */
    deployed: numeric('deployed').notNull(),
  },
  (t) => [primaryKey({ columns: [t.mode, t.feed, t.strategy, t.day] }), index('trade_stats_daily_day').on(t.day)],
);

/**
 * One row per scheduled report and period (`daily` / `2026-11-24`). The unique key is the claim:
 * of several replicas whose cron fires together, only the one whose insert lands posts; a failed
 * post leaves the row unposted and its lease runs out, so a retry sweep picks it up again.
 */
export const scheduledReports = pgTable(
  'scheduled_reports',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    kind: text('kind', { enum: ['daily', 'weekly'] }).notNull(),
    periodKey: text('period_key').notNull(),
    periodFrom: at('period_from').notNull(),
    periodTo: at('period_to').notNull(),
    claimedBy: text('claimed_by').notNull(),
    claimedAt: at('claimed_at').notNull(),
    leaseUntil: at('lease_until').notNull(),
    attempts: integer('attempts').notNull().default(1),
    postedAt: at('posted_at'),
    slackTs: text('slack_ts'),
    lastError: text('last_error'),
  },
  (t) => [
    uniqueIndex('scheduled_reports_period').on(t.kind, t.periodKey),
    index('scheduled_reports_unposted').on(t.leaseUntil).where(sql`${t.postedAt} is null`),
  ],
);

export type TradeStatsDay = typeof tradeStatsDaily.$inferSelect;
export type ScheduledReport = typeof scheduledReports.$inferSelect;
