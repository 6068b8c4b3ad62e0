// Owns posting the scheduled daily and weekly summaries to SLACK_OPS_CHANNEL (jobs/stats-summaries.ts
// decides when, and claims each period once): badged paper/LIVE like every message the bot sends,
// through the process's one Web API client, waiting out a rate limit.
import type { AppContext } from '../app/context.js';
import type { SummaryPoster } from '../jobs/stats-summaries.js';
import { readBadgeState } from './reply.js';
import { withBadge } from './views/badge.js';
import { slackWebClient, waitOutRateLimits } from './web-client.js';

/** Posts summaries to SLACK_OPS_CHANNEL, badged paper/LIVE like every message the bot sends. */
export function slackSummaryPoster(ctx: Pick<AppContext, 'config' | 'db' | 'logger'>): SummaryPoster {
  const client = slackWebClient(ctx.config);
  const channel = ctx.config.SLACK_OPS_CHANNEL;
  return {
    async post(message) {
      if (!channel) throw new Error('SLACK_OPS_CHANNEL is not set');
      const badged = withBadge(message as Parameters<typeof withBadge>[0], await readBadgeState(ctx));
      const res = await waitOutRateLimits(() => client.chat.postMessage({ channel, text: badged.text, blocks: badged.blocks }));
      return { ts: res.ts ?? null };
    },
  };
}
