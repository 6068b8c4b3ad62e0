// The scheduled-summaries feature: on every replica (web and worker alike — the claim in
// scheduled_reports makes each period post once), registers the daily, weekly and retry jobs
// when Slack and SLACK_OPS_CHANNEL are configured, posting through the Web API with the badge.
import { hostname } from 'node:os';
import type { Feature } from '../feature.js';
import { renderStatsSummary } from '../../slack/views/stats.js';
import { createStatsSummaries } from '../../jobs/stats-summaries.js';

export const statsSummariesFeature: Feature = {
  name: 'stats-summaries',
  roles: ['all', 'web', 'worker'],
  async start(ctx) {
    if (!ctx.config.slackEnabled || !ctx.config.SLACK_OPS_CHANNEL) {
      ctx.logger.info('daily and weekly summaries are off: set SLACK_BOT_TOKEN and SLACK_OPS_CHANNEL to post them');
      return;
    }
    // The Web API client is imported only when summaries are posted at all.
    const { slackSummaryPoster } = await import('../../slack/summary-poster.js');
    const summaries = createStatsSummaries(
      ctx,
      { poster: slackSummaryPoster(ctx), render: renderStatsSummary },
      { replica: `${hostname()}:${process.pid}` },
    );
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
