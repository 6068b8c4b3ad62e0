// Owns every message the bot sends in answer to someone: ephemeral replies, channel posts, thread
// replies, updates. Each one carries the paper/LIVE badge (the running engine's mode, read once per request),
// so a listener cannot forget it.
// A request's response_url answers at most RESPONSE_URL_USES times, and only within RESPONSE_URL_TTL_MS
// of the interaction (Slack refuses it after: 404 used_url / expired_url). Uses per request, worst
// case, plus one for the error reply (listeners/request.ts, replyWithError):
//   /kill 1 · /mode paper, /pause, /exit preview, /mode resume and every other commandRoute 1 ·
//   /golive audit 2 · /mode live 2 · an alert button 1 · the exit's confirm with no channel 2 (with
//   one: none, it posts and updates with the bot token) · the incident's cancel-again with no
//   message to thread under: one per progress line (unbounded) and its tick.
// Uses are counted here, per response_url (its rows share one count), not trusted to those
// figures; and `risk` work (shed-policy.ts) runs however late. So a reply past the count, or past
// the life (less REPLY_MARGIN_MS), or one Slack refuses with 404, goes with the bot token instead
// (chat.postEphemeral / chat.postMessage in the request's channel and thread); with no channel to
// post in it fails, so nothing claims it was shown.
import type { webApi } from '@slack/bolt';
import type { AppContext } from '../app/context.js';
import { badgeStateOf, readBadgeState } from '../services/badge-state.js';
import { ResponseUrlError, type ResponseUrlPoster } from './response-url.js';
import { RESPONSE_URL_TTL_MS } from './shed-policy.js';
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

/** How many times Slack honours one response_url. */
export const RESPONSE_URL_USES = 5;
/** A reply's own time on the way (response-url.ts waits 30 s for an answer), kept off the response_url's life. */
export const REPLY_MARGIN_MS = 60_000;

export interface ReplyTarget {
  ctx: Pick<AppContext, 'db' | 'config' | 'logger'> & Partial<Pick<AppContext, 'clock'>>;
  client: webApi.WebClient;
  /** Posts to the request's response_url (response-url.ts). */
  respond?: ResponseUrlPoster | undefined;
  /** Where the request came from (slash command channel, clicked message's channel). */
  channel?: string | undefined;
  threadTs?: string | undefined;
  user?: string | undefined;
  /** When Slack sent the request (ms on ctx.clock; default: when the replier was made): the response_url's life runs from it. */
  receivedAt?: number | undefined;
}

/**
 * Uses made of each request's response_url, kept by its poster: a command's or a click's rows each
 * get a replier of their own around the one poster (listeners/register.ts), and share its five.
 * Weakly held: a count goes with its request.
 */
const spentUses = new WeakMap<ResponseUrlPoster, { uses: number }>();

/** Now in ms on the context's clock (tests' ManualClock), or the wall clock without one. */
function nowMs(ctx: ReplyTarget['ctx']): number {
  return ctx.clock ? ctx.clock.now().getTime() : Date.now();
}

/**
 * Sends through the request's response_url while Slack still takes it, and says whether it did: false
 * when the uses or the life are spent, or Slack refused it (404) — the caller then posts with the token.
 */
async function viaResponseUrl(target: ReplyTarget, receivedAt: number, body: Record<string, unknown>): Promise<boolean> {
  const { respond } = target;
  if (!respond || nowMs(target.ctx) - receivedAt >= RESPONSE_URL_TTL_MS - REPLY_MARGIN_MS) return false;
  let spent = spentUses.get(respond);
  if (!spent) spentUses.set(respond, (spent = { uses: 0 }));
  if (spent.uses >= RESPONSE_URL_USES) return false;
  spent.uses += 1;
  try {
    await respond(body);
    return true;
  } catch (err) {
    if (!(err instanceof ResponseUrlError && err.status === 404)) throw err;
    spent.uses = RESPONSE_URL_USES;
    // Only Slack's own reason says the URL is spent; a bare 404 may as well be a wrong URL.
    target.ctx.logger.warn({ err }, `the response_url was refused with 404${err.code ? ` (${err.code})` : ''}: replying with the bot token`);
    return false;
  }
}

export function createReplier(target: ReplyTarget): Replier {
  let badge: Promise<BadgeState> | undefined;
  const { client, respond, channel, user, threadTs } = target;
  const receivedAt = target.receivedAt ?? nowMs(target.ctx);
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
      if (await viaResponseUrl(target, receivedAt, { response_type: 'ephemeral', replace_original: false, text: m.text, blocks: m.blocks })) return;
      if (channel && user) {
        await waitOutRateLimits(() => client.chat.postEphemeral({ channel, user, text: m.text, blocks: m.blocks, ...(threadTs ? { thread_ts: threadTs } : {}) }));
      } else {
        throw new Error(`nowhere to send an ephemeral reply: ${respond ? 'its response_url is spent (used or expired)' : 'no response_url'}, no channel or user`);
      }
    },
    async inChannel(message) {
      const m = withBadge(message, await replier.badge());
      if (!threadTs && (await viaResponseUrl(target, receivedAt, { response_type: 'in_channel', replace_original: false, text: m.text, blocks: m.blocks }))) return;
      if (channel) {
        await waitOutRateLimits(() => client.chat.postMessage({ channel, text: m.text, blocks: m.blocks, ...(threadTs ? { thread_ts: threadTs } : {}) }));
      } else {
        throw new Error(`nowhere to post: ${respond ? 'its response_url is spent (used or expired)' : 'no response_url'}, no channel`);
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
