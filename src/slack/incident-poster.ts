// Owns posting a kill's incident thread to SLACK_OPS_CHANNEL: the checklist with one button per
// item (listeners/kill-routes.ts answers the clicks), and keeping it up to date when the engine's
// process answers an item handed to it. Badged like every bot message.
import type { AppContext } from '../app/context.js';
import { AppError } from '../errors.js';
import type { IncidentPoster } from '../services/kill/announce-incident.js';
import type { IncidentThread } from '../services/kill/incident-thread.js';
import { readBadgeState } from './reply.js';
import { withBadge } from './views/badge.js';
import { renderChecklistAnswer, renderIncident } from './views/kill.js';
import { slackWebClient, waitOutRateLimits } from './web-client.js';

/** A poster when Slack and SLACK_OPS_CHANNEL are configured; undefined otherwise. */
export function createSlackIncidentPoster(ctx: Pick<AppContext, 'config' | 'db' | 'logger'>): IncidentPoster | undefined {
  const channel = ctx.config.SLACK_OPS_CHANNEL;
  if (!ctx.config.slackEnabled || !channel) return undefined;
  const web = slackWebClient(ctx.config);
  return async (incident, items) => {
    const message = withBadge(renderIncident(incident, items), await readBadgeState(ctx));
    const res = await waitOutRateLimits(() => web.chat.postMessage({ channel, text: message.text, blocks: message.blocks, unfurl_links: false }));
    if (!res.ts) throw new AppError('retryable', 'slack_post_failed', 'Slack did not return the incident message timestamp');
    return { channel: res.channel ?? channel, ts: res.ts };
  };
}

/** Updates an incident's thread (its checklist message, and a reply per answer); undefined without Slack. */
export function createSlackIncidentThread(ctx: Pick<AppContext, 'config' | 'db' | 'logger'>): IncidentThread | undefined {
  if (!ctx.config.slackEnabled || !ctx.config.SLACK_OPS_CHANNEL) return undefined;
  const web = slackWebClient(ctx.config);
  return {
    async update(incident, items) {
      const { slackChannel: channel, slackTs: ts } = incident;
      if (!channel || !ts) return;
      const message = withBadge(renderIncident(incident, items), await readBadgeState(ctx));
      await waitOutRateLimits(() => web.chat.update({ channel, ts, text: message.text, blocks: message.blocks }));
    },
    async note(incident, item) {
      const { slackChannel: channel, slackTs: ts } = incident;
      if (!channel || !ts) return;
      const message = withBadge(renderChecklistAnswer(item), await readBadgeState(ctx));
      await waitOutRateLimits(() => web.chat.postMessage({ channel, thread_ts: ts, text: message.text, blocks: message.blocks, unfurl_links: false }));
    },
  };
}
