// Checklist 8: "Ensure the schedule for manual review (daily/weekly) is communicated to the team."
// The bot communicates it: daily and weekly summaries posted to SLACK_OPS_CHANNEL on
// DAILY_SUMMARY_CRON / WEEKLY_SUMMARY_CRON. Passes when they are on and one was posted in the last
// two days; warns otherwise (nothing about trading safety depends on it).
import { formatDuration } from '../../../config/duration.js';
import { lastPostedReport } from '../../../db/queries/audit-facts.js';
import { defineCheck, type CheckOutcome } from '../types.js';

const RECENT_MS = 48 * 3_600_000;

/** An age to the whole day, hour or minute below it: "7d", "4h", "1m". */
const roughly = (ms: number) => {
  const unit = ms >= 86_400_000 ? 86_400_000 : ms >= 3_600_000 ? 3_600_000 : 60_000;
  return Math.max(1, Math.floor(ms / unit)) * unit;
};

export const reviewScheduleCheck = defineCheck({
  id: 'monitoring.review_schedule',
  title: 'Daily and weekly review summaries posted to the ops channel',
  checklistSection: 8,
  async run(ctx): Promise<CheckOutcome> {
    const c = ctx.config;
    const schedule = `daily ${c.DAILY_SUMMARY_CRON}, weekly ${c.WEEKLY_SUMMARY_CRON} (${c.SCHEDULE_TZ})`;
    const missing = [c.slackEnabled ? null : 'SLACK_BOT_TOKEN', c.SLACK_OPS_CHANNEL ? null : 'SLACK_OPS_CHANNEL'].filter((m): m is string => m !== null);
    const details: Record<string, unknown> = { daily: c.DAILY_SUMMARY_CRON, weekly: c.WEEKLY_SUMMARY_CRON, timeZone: c.SCHEDULE_TZ, channel: c.SLACK_OPS_CHANNEL ?? null };
    if (missing.length > 0) {
      return {
        status: 'warn', value: `review summaries off: ${missing.join(' and ')} not set`,
        fix: `Set ${missing.join(' and ')} so the ${schedule} summaries reach the team (and tell them that is the review schedule).`, details,
      };
    }
    const last = await lastPostedReport(ctx.db);
    details['lastPosted'] = last ? { kind: last.kind, period: last.periodKey, at: last.postedAt!.toISOString() } : null;
    const where = `to ${c.SLACK_OPS_CHANNEL}`;
    if (!last) {
      return { status: 'warn', value: `${schedule} ${where}; none posted yet`, fix: 'Keep the bot running until the first daily summary posts (or check the log for summary errors).', details };
    }
    const age = ctx.clock.now().getTime() - last.postedAt!.getTime();
    const lastText = `last ${last.kind} ${last.periodKey} posted ${formatDuration(roughly(age))} ago`;
    if (age > RECENT_MS) {
      return { status: 'warn', value: `${schedule} ${where}; ${lastText}`, fix: 'Summaries stopped: check the bot runs and the log for summary post errors (scheduled_reports.last_error).', details };
    }
    return { status: 'pass', value: `${schedule} ${where}; ${lastText}`, fix: null, details };
  },
});
