// Owns every message the bot sends in answer to someone: ephemeral replies, channel posts, thread
// replies, updates. Each one carries the paper/LIVE badge (the running engine's mode, read once per request),
// so a listener cannot forget it.
import type { webApi } from '@slack/bolt';
import type { AppContext } from '../app/context.js';
import { badgeStateOf, readBadgeState } from '../services/badge-state.js';
import type { ResponseUrlPoster } from './response-url.js';
import { withBadge, type BadgeState } from './views/badge.js';
import type { SlackMessage } from './views/message.js';
import { waitOutRateLimits } from './web-client.js';

/** The badge's read (services/badge-state.ts), for the notifiers that post without a request. */
export { readBadgeState };
/** The badge for a bot_state row this request read (services/badge-state.ts). */
export { badgeStateOf };

export interface PostedMessage {
  channel: string;
  ts: string;
}

export interface Replier {
  /** Only the person who asked sees it (response_url, else chat.postEphemeral). */
  ephemeral(message: SlackMessage): Promise<void>;
  /** Everyone in the channel (or the thread the request came from) sees it. */
  inChannel(message: SlackMessage): Promise<void>;
  /** A new message in any channel (or thread) the bot is in; returns its ts (approvals, alerts). */
  post(channel: string, message: SlackMessage, opts?: { threadTs?: string }): Promise<PostedMessage>;
  /** Replaces an earlier bot message (e.g. the alert whose button was clicked). */
  update(channel: string, ts: string, message: SlackMessage): Promise<void>;
  /** The badge state this request's messages carry. */
  badge(): Promise<BadgeState>;
  /**
   * Gives the badge a state this request has just read from bot_state (a status command's own
   * read, after the ack), so the reply does not read the same row again. Ignored once the badge was read.
   */
  useBadge(state: BadgeState): void;
}

export interface ReplyTarget {
  ctx: Pick<AppContext, 'db' | 'config' | 'logger'>;
  client: webApi.WebClient;
  /** Posts to the request's response_url (response-url.ts). */
  respond?: ResponseUrlPoster | undefined;
  /** Where the request came from (slash command channel, clicked message's channel). */
  channel?: string | undefined;
  threadTs?: string | undefined;
  user?: string | undefined;
}

export function createReplier(target: ReplyTarget): Replier {
  let badge: Promise<BadgeState> | undefined;
  const { client, respond, channel, user, threadTs } = target;
  // Methods only, no named arrows: a replier is made per request, and under the build's keepNames
  // each named arrow costs a runtime call as it is made (src/logger.ts, deferredLogger).
  const replier: Replier = {
    badge() {
      return (badge ??= readBadgeState(target.ctx));
    },
    useBadge(state) {
      badge ??= Promise.resolve(state);
    },
    async ephemeral(message) {
      const m = withBadge(message, await replier.badge());
      if (respond) {
        await respond({ response_type: 'ephemeral', replace_original: false, text: m.text, blocks: m.blocks });
      } else if (channel && user) {
        await waitOutRateLimits(() => client.chat.postEphemeral({ channel, user, text: m.text, blocks: m.blocks, ...(threadTs ? { thread_ts: threadTs } : {}) }));
      } else {
        throw new Error('nowhere to send an ephemeral reply: no response_url, channel or user');
      }
    },
    async inChannel(message) {
      const m = withBadge(message, await replier.badge());
      if (respond && !threadTs) {
        await respond({ response_type: 'in_channel', replace_original: false, text: m.text, blocks: m.blocks });
      } else if (channel) {
        await waitOutRateLimits(() => client.chat.postMessage({ channel, text: m.text, blocks: m.blocks, ...(threadTs ? { thread_ts: threadTs } : {}) }));
      } else {
        throw new Error('nowhere to post: no response_url or channel');
      }
    },
    async post(to, message, opts = {}) {
      const m = withBadge(message, await replier.badge());
      const res = await waitOutRateLimits(() => client.chat.postMessage({ channel: to, text: m.text, blocks: m.blocks, ...(opts.threadTs ? { thread_ts: opts.threadTs } : {}) }));
      return { channel: res.channel ?? to, ts: res.ts ?? '' };
    },
    async update(to, ts, message) {
      const m = withBadge(message, await replier.badge());
      await waitOutRateLimits(() => client.chat.update({ channel: to, ts, text: m.text, blocks: m.blocks }));
    },
  };
  return replier;
}
