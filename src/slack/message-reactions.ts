// Owns reading a message's reactions from Slack (reactions.get with full: true, which lists every
// reacting user instead of the first few), for the live switch's quorum: the approvals that count are
// the ones on the request message now (src/services/mode/confirm-quorum.ts). Every failure is an
// answer naming why — a missing reactions:read scope named as such — never a throw and never
// "no reactions": an unread message completes no quorum.
import type { Config } from '../config/env.js';
import type { MessageReaction, MessageReactions, ReactionsRead } from '../services/mode/ports.js';
import { rateLimitSeconds, isSlackTimeout, slackTimeoutMessage, slackWebClient } from './web-client.js';

/** Why reactions.get failed, as an operator reads it in the request's thread. */
function whyUnread(config: Config, err: unknown): string {
  if (isSlackTimeout(err)) return `reactions.get ${slackTimeoutMessage(config)}`;
  const seconds = rateLimitSeconds(err);
  if (seconds !== undefined) return `reactions.get was rate limited by Slack (retry after ${seconds} s)`;
  const data = (err as { data?: { error?: string; needed?: string } }).data;
  if (data?.error === 'missing_scope') {
    return `reactions.get failed: missing_scope — the bot token lacks ${data.needed ?? 'reactions:read'}; reinstall the Slack app so it is granted reactions:read (slack/manifest.yaml asks for it)`;
  }
  return `reactions.get failed: ${data?.error ?? (err as Error)?.message ?? String(err)}`;
}

/** message.reactions of Slack's answer; undefined when the answer is not in Slack's documented shape. */
function reactionsOf(message: unknown): MessageReaction[] | undefined {
  if (typeof message !== 'object' || message === null) return undefined;
  const list = (message as { reactions?: unknown }).reactions;
  if (list === undefined) return []; // Slack leaves the field out when a message has no reactions.
  if (!Array.isArray(list)) return undefined;
  const out: MessageReaction[] = [];
  for (const r of list as Array<{ name?: unknown; users?: unknown }>) {
    if (typeof r?.name !== 'string' || !Array.isArray(r.users) || !r.users.every((u) => typeof u === 'string')) return undefined;
    out.push({ name: r.name, users: r.users as string[] });
  }
  return out;
}

export function slackMessageReactions(config: Config): MessageReactions {
  return {
    async read({ channel, ts }): Promise<ReactionsRead> {
      try {
        const res = await slackWebClient(config).reactions.get({ channel, timestamp: ts, full: true });
        const reactions = reactionsOf(res.message);
        if (!reactions) return { kind: 'unread', why: 'reactions.get answered without the message\'s reactions in the documented shape (message.reactions[{name, users}])' };
        return { kind: 'read', reactions };
      } catch (err) {
        return { kind: 'unread', why: whyUnread(config, err) };
      }
    },
  };
}
