// The Slack part of the running bot (roles all/web): optional — with no Slack variables the bot
// runs without it and says so once. Over HTTP it serves POST /slack/events on the bot's server.
import type { Feature } from '../app/feature.js';
import type { SlackApp, SlackAppOptions } from './create-app.js';

export interface SlackFeatureOptions extends SlackAppOptions {
  /** Hands the started app to tests and the bench (to wait for in-flight work). */
  onStarted?(slack: SlackApp): void;
}

export function createSlackFeature(opts: SlackFeatureOptions = {}): Feature {
  return {
    name: 'slack',
    roles: ['all', 'web'],
    async start(ctx, http, startOpts) {
      if (!ctx.config.slackEnabled) {
        ctx.logger.info('Slack is not configured (SLACK_BOT_TOKEN unset): running without Slack. See docs/slack.md to connect a workspace.');
        return;
      }
      // Bolt and the listeners are imported only when Slack is configured.
      const [{ createSlackApp }, { scheduleDeliveryPrune }, { resolveBotIdentity }] = await Promise.all([
        import('./create-app.js'), import('./deliveries.js'), import('./identity.js'),
      ]);
      const identity = opts.identity ?? (await resolveBotIdentity(ctx.config, ctx.logger, startOpts?.stop));
      // The bot was asked to stop while this waited on Slack's API (auth.test): it is stopping, or has
      // stopped and left this start behind (started-parts.ts). Nothing is built, served, scheduled or said to listen.
      if (startOpts?.stop?.aborted) return;
      const slack = await createSlackApp(ctx, { ...opts, identity });
      if (slack.requestListener) http.route('POST', '/slack/events', slack.requestListener);
      await slack.start();
      opts.onStarted?.(slack);
      scheduleDeliveryPrune(ctx);
      return { stop: () => slack.stop() };
    },
  };
}

export const slackFeature: Feature = createSlackFeature();
