// The Slack part of the running bot (roles all/web): optional — with no Slack variables the bot
// runs without it and says so once. Over HTTP it serves POST /slack/events on the bot's server.
import type { Feature } from '../app/feature.js';
import { pruneSlackDeliveries } from '../db/queries/slack-deliveries.js';
import type { SlackApp, SlackAppOptions } from './create-app.js';

/** Slack stops retrying after about an hour; a day of delivery keys is plenty. */
const DELIVERY_RETENTION_MS = 24 * 60 * 60 * 1000;

export interface SlackFeatureOptions extends SlackAppOptions {
  /** Hands the started app to tests and the bench (to wait for in-flight work). */
  onStarted?(slack: SlackApp): void;
}

export function createSlackFeature(opts: SlackFeatureOptions = {}): Feature {
  return {
    name: 'slack',
    roles: ['all', 'web'],
    async start(ctx, http) {
      if (!ctx.config.slackEnabled) {
        ctx.logger.info('Slack is not configured (SLACK_BOT_TOKEN unset): running without Slack. See docs/slack.md to connect a workspace.');
        return;
      }
      // Bolt and the listeners are imported only when Slack is configured.
      const { createSlackApp } = await import('./create-app.js');
      const slack = await createSlackApp(ctx, opts);
      if (slack.requestListener) http.route('POST', '/slack/events', slack.requestListener);
      await slack.start();
      opts.onStarted?.(slack);
      ctx.jobs.register({
        name: 'slack-deliveries-prune',
        schedule: '0 17 * * * *',
        trades: false,
        run: async () => {
          const removed = await pruneSlackDeliveries({ db: ctx.db, olderThan: new Date(ctx.clock.now().getTime() - DELIVERY_RETENTION_MS) });
          if (removed > 0) ctx.logger.debug({ removed }, 'pruned old Slack delivery keys');
        },
      });
      return { stop: () => slack.stop() };
    },
  };
}

export const slackFeature: Feature = createSlackFeature();
