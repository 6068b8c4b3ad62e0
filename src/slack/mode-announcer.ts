// Owns posting the live switch's messages to Slack: the change request in SLACK_OPS_CHANNEL
// (its channel + ts are what reactions are matched against), outcomes in the request's thread,
// and rollback notices. Errors become AppErrors; the process's one Web API client's short retry
// policy applies, and a rate limit is waited out.
import type { WebClient } from '@slack/web-api';
import type { Config } from '../config/env.js';
import type { Db } from '../db/client.js';
import { AppError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { ModeAnnouncer } from '../services/mode/ports.js';
import { readBadgeState } from './reply.js';
import { withBadge } from './views/badge.js';
import type { SlackMessage } from './views/message.js';
import { renderChangeRequest, renderModeOutcome } from './views/mode-change.js';
import { slackWebClient, waitOutRateLimits } from './web-client.js';

export function createSlackModeAnnouncer(config: Config, logger: Logger, db: Db, client?: WebClient): ModeAnnouncer {
  const channel = config.SLACK_OPS_CHANNEL;
  let web = client;
  const api = () => (web ??= slackWebClient(config));
  const post = async (args: { channel: string; thread_ts?: string } & SlackMessage) => {
    // Every message carries the paper/LIVE badge as it is when the message is sent.
    const badged = withBadge({ text: args.text, blocks: args.blocks }, await readBadgeState({ db, config, logger }));
    try {
      return await waitOutRateLimits(() => api().chat.postMessage({ ...args, ...badged, unfurl_links: false }));
    } catch (err) {
      const code = (err as { data?: { error?: string } }).data?.error ?? (err as Error).message;
      logger.warn({ err, channel: args.channel }, 'Slack chat.postMessage failed');
      throw new AppError('retryable', 'slack_post_failed', `Slack refused the message (${code})`, { cause: err });
    }
  };
  return {
    available: Boolean(channel && config.slackEnabled),
    async postRequest(view) {
      if (!channel) throw new AppError('config', 'no_ops_channel', 'SLACK_OPS_CHANNEL is not set.', { hint: 'Set it to the channel id (C…) where approvers sign.' });
      const res = await post({ channel, ...renderChangeRequest(view) });
      if (!res.ts || !res.channel) throw new AppError('retryable', 'slack_post_failed', 'Slack did not return the message timestamp');
      return { channel: res.channel, ts: res.ts };
    },
    async postInThread(threadChannel, threadTs, view) {
      await post({ channel: threadChannel, thread_ts: threadTs, ...renderModeOutcome(view) });
    },
    async postNotice(view) {
      if (!channel) return;
      await post({ channel, ...renderModeOutcome(view) });
    },
  };
}
