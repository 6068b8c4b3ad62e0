// Owns the Web API methods the bot calls, answered in Slack's documented shapes (api.slack.com/methods):
// auth.test (Bolt's and the bot's start-up identity check), chat.postMessage / chat.update /
// chat.postEphemeral (replies, alerts, the incident thread, the live change request), users.info
// (is a reactor a person?), reactions.get (the approvals on a live change request, read before its
// quorum counts), views.publish (App Home), conversations.history (finding a page in a DM),
// conversations.replies (finding a closed request's announcement in its thread before posting it
// again) and the three steps of files.uploadV2 (the stats chart). Any other method is Slack's `unknown_method`.
import { BOT_SCOPES } from '../domain/slack-scopes.js';
import type { ConversationLog } from './conversation-log.js';
import { textOf } from './conversation-log.js';
import { CHANNEL_ID, STAND_IN, USER_ID } from './workspace.js';

export type Body = Record<string, unknown>;
export interface Answer {
  status?: number;
  body: Body | string;
  contentType?: string;
}

export interface WebApiState {
  log: ConversationLog;
  /** The stand-in's own base URL (…/api/), for the upload URL files.getUploadURLExternal hands out. */
  baseUrl: string;
  uploads: Map<string, { title: string; bytes: number }>;
  nextId(prefix: string): string;
}

const fail = (error: string): Answer => ({ body: { ok: false, error } });

/** Slack opens (or reuses) the DM when a message is posted to a member id: the answer names the D… channel. */
function conversationFor(channel: string): string {
  return USER_ID.test(channel) ? `D${channel.slice(1)}` : channel;
}

const METHODS: Record<string, (body: Body, s: WebApiState) => Answer> = {
  'auth.test': () => ({
    body: {
      ok: true, url: `https://${STAND_IN.teamDomain}.slack.com/`, team: 'ctb rehearsal (Slack stand-in)', user: 'ctb',
      team_id: STAND_IN.teamId, user_id: STAND_IN.botUserId, bot_id: STAND_IN.botId, is_enterprise_install: false,
    },
  }),
  'chat.postMessage': (body, s) => {
    const channel = typeof body.channel === 'string' ? body.channel : '';
    if (!CHANNEL_ID.test(channel) && !USER_ID.test(channel)) return fail('channel_not_found');
    const text = textOf(body);
    if (text === '') return fail('no_text');
    const conversation = conversationFor(channel);
    const ts = s.log.nextTs();
    const threadTs = typeof body.thread_ts === 'string' ? body.thread_ts : undefined;
    s.log.add({ kind: 'message', channel: conversation, ts, text, ...(threadTs ? { threadTs } : {}), ...(body.metadata ? { metadata: body.metadata } : {}) });
    return {
      body: {
        ok: true, channel: conversation, ts,
        message: { type: 'message', subtype: 'bot_message', text, user: STAND_IN.botUserId, bot_id: STAND_IN.botId, ts, ...(threadTs ? { thread_ts: threadTs } : {}) },
      },
    };
  },
  'chat.update': (body, s) => {
    const entry = s.log.message(String(body.channel ?? ''), String(body.ts ?? ''));
    if (!entry) return fail('message_not_found');
    entry.text = textOf(body) || entry.text;
    entry.edits += 1;
    return { body: { ok: true, channel: entry.channel, ts: entry.ts, text: entry.text, message: { type: 'message', text: entry.text, user: STAND_IN.botUserId, bot_id: STAND_IN.botId } } };
  },
  'chat.postEphemeral': (body, s) => {
    const channel = String(body.channel ?? '');
    const user = String(body.user ?? '');
    if (!CHANNEL_ID.test(channel)) return fail('channel_not_found');
    if (!USER_ID.test(user)) return fail('user_not_found');
    const ts = s.log.nextTs();
    s.log.add({ kind: 'ephemeral', channel, ts, user, text: textOf(body), ...(typeof body.thread_ts === 'string' ? { threadTs: body.thread_ts } : {}) });
    return { body: { ok: true, message_ts: ts } };
  },
  'users.info': (body) => {
    const id = String(body.user ?? '');
    if (!USER_ID.test(id)) return fail('user_not_found');
    const bot = id === STAND_IN.botUserId;
    return {
      body: {
        ok: true,
        user: { id, team_id: STAND_IN.teamId, name: bot ? 'ctb' : id.toLowerCase(), real_name: bot ? 'ctb' : `Person ${id}`, deleted: false, is_bot: bot, is_app_user: false, ...(bot ? { profile: { bot_id: STAND_IN.botId } } : {}) },
      },
    };
  },
  'reactions.get': (body, s) => {
    const channel = String(body.channel ?? '');
    if (!CHANNEL_ID.test(channel)) return fail('channel_not_found');
    const entry = s.log.message(channel, String(body.timestamp ?? ''));
    if (!entry) return fail('message_not_found');
    // Slack leaves `reactions` out when a message has none.
    const reactions = Object.entries(entry.reactions ?? {}).filter(([, users]) => users.length > 0).map(([name, users]) => ({ name, users: [...users], count: users.length }));
    return {
      body: {
        ok: true, type: 'message', channel,
        message: { type: 'message', text: entry.text, user: STAND_IN.botUserId, bot_id: STAND_IN.botId, ts: entry.ts, ...(reactions.length ? { reactions } : {}) },
      },
    };
  },
  'views.publish': (body, s) => {
    if (!USER_ID.test(String(body.user_id ?? ''))) return fail('invalid_arguments');
    const view = (body.view ?? {}) as Body;
    return { body: { ok: true, view: { id: s.nextId('V'), team_id: STAND_IN.teamId, type: view.type ?? 'home', blocks: view.blocks ?? [] } } };
  },
  'conversations.history': (body, s) => {
    const channel = String(body.channel ?? '');
    if (!CHANNEL_ID.test(channel)) return fail('channel_not_found');
    const limit = Math.max(1, Math.min(1000, Number(body.limit ?? 100) || 100));
    const messages = s.log.entries.filter((e) => e.kind === 'message' && e.channel === channel && e.threadTs === undefined).reverse().slice(0, limit)
      .map((e) => ({ type: 'message', user: STAND_IN.botUserId, bot_id: STAND_IN.botId, text: e.text, ts: e.ts, ...(e.metadata ? { metadata: e.metadata } : {}) }));
    return { body: { ok: true, messages, has_more: false, response_metadata: { next_cursor: '' } } };
  },
  'conversations.replies': (body, s) => {
    const channel = String(body.channel ?? '');
    if (!CHANNEL_ID.test(channel)) return fail('channel_not_found');
    const threadTs = String(body.ts ?? '');
    const parent = s.log.message(channel, threadTs);
    const replies = s.log.entries.filter((e) => e.kind === 'message' && e.channel === channel && e.threadTs === threadTs && e.ts !== threadTs);
    if (!parent && replies.length === 0) return fail('thread_not_found');
    const withMetadata = body.include_all_metadata === true || body.include_all_metadata === 'true';
    const shown = (e: (typeof replies)[number]) => ({
      type: 'message', user: STAND_IN.botUserId, bot_id: STAND_IN.botId, text: e.text, ts: e.ts, thread_ts: threadTs,
      ...(withMetadata && e.metadata ? { metadata: e.metadata } : {}),
    });
    const limit = Math.max(1, Math.min(1000, Number(body.limit ?? 1000) || 1000));
    const messages = [...(parent ? [{ ...shown(parent), reply_count: replies.length }] : []), ...replies.map(shown)].slice(0, limit);
    return { body: { ok: true, messages, has_more: false, response_metadata: { next_cursor: '' } } };
  },
  'files.getUploadURLExternal': (body, s) => {
    const id = s.nextId('F');
    s.uploads.set(id, { title: String(body.filename ?? ''), bytes: Number(body.length ?? 0) });
    return { body: { ok: true, upload_url: `${s.baseUrl}upload/${id}`, file_id: id } };
  },
  'files.completeUploadExternal': (body, s) => {
    const files = (typeof body.files === 'string' ? JSON.parse(body.files) : body.files) as Array<{ id: string; title?: string }> | undefined;
    if (!files?.length || files.some((f) => !s.uploads.has(f.id))) return fail('invalid_arguments');
    const channel = typeof body.channel_id === 'string' ? body.channel_id : undefined;
    if (channel) {
      const threadTs = typeof body.thread_ts === 'string' ? body.thread_ts : undefined;
      s.log.add({ kind: 'message', channel, ts: s.log.nextTs(), text: `[file] ${files.map((f) => f.title ?? f.id).join(', ')}`, ...(threadTs ? { threadTs } : {}) });
    }
    return { body: { ok: true, files: files.map((f) => ({ id: f.id, title: f.title ?? '' })) } };
  },
};

/** Every method the stand-in answers (the rest get `unknown_method`). */
export const WEB_API_METHODS = Object.keys(METHODS);

/** The answer to `POST /api/<method>` with `token` (Authorization: Bearer, or the form's token). */
export function callWebApi(method: string, token: string | undefined, body: Body, state: WebApiState): Answer {
  const handler = METHODS[method];
  if (!handler) return fail('unknown_method');
  if (!token) return fail('not_authed');
  if (!token.startsWith('xoxb-')) return fail('invalid_auth');
  return handler(body, state);
}

/** What every Web API answer says of the token's scopes: all the app's manifest asks for. */
export const GRANTED_SCOPES_HEADER = { 'x-oauth-scopes': BOT_SCOPES.join(',') };
