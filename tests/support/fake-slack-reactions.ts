// The reactions on messages in the fake Slack, as Slack holds them: who reacted with which emoji on
// which message, kept as the test's reactions happen (the harnesses apply every reaction_added /
// reaction_removed they send or record, and a test may change one without sending its event: a
// removal whose event was lost). Answers reactions.get in Slack's documented shape
// (api.slack.com/methods/reactions.get: message.reactions[{name, users, count}], `reactions` left out
// when the message has none). Per user and emoji the newest event wins, as on Slack, whatever order
// a test delivers the events in.
import type { SlackResponder } from './fake-slack.js';

export interface ReactionChange {
  channel: string;
  ts: string;
  /** The emoji as Slack names it (`white_check_mark`, `+1::skin-tone-2`). */
  name: string;
  user: string;
  added: boolean;
  /** Slack's event_ts: an older change than the one applied for this user and emoji is stale. */
  eventTs?: string;
}

export interface FakeReactions {
  apply(change: ReactionChange): void;
  /** Who has `name` on the message now. */
  usersOf(where: { channel: string; ts: string }, name: string): string[];
  responder: SlackResponder;
}

const key = (channel: string, ts: string) => `${channel} ${ts}`;
/** Whether event_ts `a` is older than `b` (the same ts: the later applied wins). */
const older = (a: string, b: string) => (a.length === b.length ? a < b : Number(a) < Number(b));

export function fakeReactions(): FakeReactions {
  /** message → emoji → user → event_ts of the change applied ('' when the test gave none). */
  const messages = new Map<string, Map<string, Map<string, { present: boolean; eventTs: string }>>>();
  const usersOf = (where: { channel: string; ts: string }, name: string) =>
    [...(messages.get(key(where.channel, where.ts))?.get(name) ?? new Map()).entries()].filter(([, v]) => v.present).map(([u]) => u);
  return {
    apply(c) {
      const byName = messages.get(key(c.channel, c.ts)) ?? new Map();
      messages.set(key(c.channel, c.ts), byName);
      const byUser = byName.get(c.name) ?? new Map();
      byName.set(c.name, byUser);
      const last = byUser.get(c.user);
      if (last && c.eventTs && last.eventTs && older(c.eventTs, last.eventTs)) return;
      byUser.set(c.user, { present: c.added, eventTs: c.eventTs ?? '' });
    },
    usersOf,
    responder(body) {
      const channel = String(body.channel ?? '');
      const ts = String(body.timestamp ?? '');
      if (!channel || !ts) return { body: { ok: false, error: 'invalid_arguments' } };
      const reactions = [...(messages.get(key(channel, ts))?.keys() ?? [])]
        .map((name) => ({ name, users: usersOf({ channel, ts }, name) }))
        .filter((r) => r.users.length > 0)
        .map((r) => ({ ...r, count: r.users.length }));
      return {
        body: { ok: true, type: 'message', channel, message: { type: 'message', text: '', ts, ...(reactions.length ? { reactions } : {}) } },
      };
    },
  };
}
