// The scheduled-summaries feature: on every replica (web and worker alike — the claim in
// scheduled_reports makes each period post once), registers the daily, weekly and retry jobs
// when the process's notifier carries summaries (Slack with SLACK_OPS_CHANNEL).
import { hostname } from 'node:os';
import type { Feature } from '../feature.js';
import { createStatsSummaries } from '../../jobs/stats-summaries.js';

export const statsSummariesFeature: Feature = {
  name: 'stats-summaries',
  roles: ['all', 'web', 'worker'],
  async start(ctx) {
    const notifier = ctx.notifier;
    if (!notifier?.carries.has('summary')) {
      ctx.logger.info('daily and weekly summaries are off: set SLACK_BOT_TOKEN and SLACK_OPS_CHANNEL to post them');
      return;
    }
    const summaries = createStatsSummaries(ctx, { notifier }, { replica: `${hostname()}:${process.pid}` });
    for (const job of summaries.jobs()) ctx.jobs.register(job);
    // Not awaited: start does not wait on Slack; a failed catch-up post is retried by the sweep.
    summaries.catchUp().then(
      (done) => { for (const d of done) ctx.logger.info({ report: d.kind, firedAt: d.firedAt, outcome: d.outcome }, 'missed summary caught up'); },
      (err) => ctx.logger.warn({ err }, 'could not catch up missed summaries; the next cron firing posts as usual'),
    );
    ctx.logger.info(
      { daily: ctx.config.DAILY_SUMMARY_CRON, weekly: ctx.config.WEEKLY_SUMMARY_CRON, timezone: ctx.config.SCHEDULE_TZ },
      'daily and weekly summaries scheduled',
    );
  },
};
