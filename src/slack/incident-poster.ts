// Owns posting a kill's incident thread to SLACK_OPS_CHANNEL: the checklist with one button per
// item (listeners/kill-routes.ts answers the clicks). Badged like every bot message.
import type { AppContext } from '../app/context.js';
import { AppError } from '../errors.js';
import type { IncidentPoster } from '../services/kill/announce-incident.js';
import { readBadgeState } from './reply.js';
import { withBadge } from './views/badge.js';
import { renderIncident } from './views/kill.js';
import { createSlackWebClient } from './web-client.js';

/** A poster when Slack and SLACK_OPS_CHANNEL are configured; undefined otherwise. */
export function createSlackIncidentPoster(ctx: Pick<AppContext, 'config' | 'db' | 'logger'>): IncidentPoster | undefined {
  const channel = ctx.config.SLACK_OPS_CHANNEL;
  if (!ctx.config.slackEnabled || !channel) return undefined;
  const web = createSlackWebClient(ctx.config);
  return async (incident, items) => {
    const message = withBadge(renderIncident(incident, items), await readBadgeState(ctx));
    const res = await web.chat.postMessage({ channel, text: message.text, blocks: message.blocks, unfurl_links: false });
    if (!res.ts) throw new AppError('retryable', 'slack_post_failed', 'Slack did not return the incident message timestamp');
    return { channel: res.channel ?? channel, ts: res.ts };
  };
}
