// A local stand-in for Slack's Web API (https://slack.com/api/<method>) on loopback. Point the bot
// at it with SLACK_API_URL=<url>. Records every call; answers {ok:true} unless a test overrides a method.
// File uploads (files.uploadV2) work end to end: files.getUploadURLExternal answers with an upload_url
// on this server (`<url>upload/<file id>`), the bytes POSTed there are kept in the call's `raw`, and
// files.completeUploadExternal answers with the files it completed.
// Like Slack, every Web API answer names the token's granted scopes in an x-oauth-scopes header
// (comma-separated): by default every scope the manifest asks for; set `grantedScopes` to name others,
// or null to send no header. A responder's own x-oauth-scopes header wins.
// reactions.get answers from `reactions` (fake-slack-reactions.ts): the reactions the harnesses
// sent or recorded, which a test may also change without an event (a removal whose event was lost).
// Every message a chat.postMessage answer says was posted (ok, with a ts) is kept in `messages`, with
// its thread and metadata; conversations.replies answers from them as Slack does (the parent first,
// then its replies oldest first; metadata only with include_all_metadata; thread_not_found for a
// thread it holds nothing of). A responder that returns undefined leaves the call to the default.
// A response_url made by `responseUrl(id)` (`<origin>/respond/<id>`) is honoured as Slack honours one:
// five times, within 30 minutes of the interaction (read on `now`, default Date.now); a sixth use is
// answered 404 used_url, a use after that 404 expired_url, and neither is counted as a message shown.
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { BOT_SCOPES } from '../../src/domain/slack-scopes.js';
import { fakeReactions, type FakeReactions } from './fake-slack-reactions.js';

export interface SlackCall {
  method: string;
  body: Record<string, unknown>;
  /** The request body as sent (a file upload's multipart bytes). */
  raw: Buffer;
  at: number;
  /** Slack's refusal of a response_url use (used_url, expired_url): nobody saw it. */
  refused?: string;
}

export type SlackAnswer = { status?: number; headers?: Record<string, string>; body: Record<string, unknown> };

export type SlackResponder = (body: Record<string, unknown>, call: SlackCall) =>
  | SlackAnswer | undefined | Promise<SlackAnswer | undefined>;

/** A message Slack holds: posted by chat.postMessage (answered ok with a ts). */
export interface FakeSlackMessage {
  channel: string;
  ts: string;
  threadTs?: string;
  text: string;
  metadata?: { event_type?: string; event_payload?: Record<string, unknown> };
}

export interface FakeSlack {
  url: string;
  calls: SlackCall[];
  callsTo(method: string): SlackCall[];
  on(method: string, responder: SlackResponder): void;
  /** The scopes each answer's x-oauth-scopes header names (null: no header). Default: the manifest's. */
  grantedScopes: string[] | null;
  /** The reactions on messages now, which reactions.get answers from (unless a test overrides it). */
  reactions: FakeReactions;
  /** Every message posted, in order; conversations.replies reads them. */
  messages: FakeSlackMessage[];
  /** A response_url on this server for the interaction `id`, issued now (on `now`). */
  responseUrl(id: string): string;
  /** The clock response_urls are aged on (ms); a test moves it to age them. Default Date.now. */
  now: () => number;
  close(): Promise<void>;
}

/** Slack honours a response_url this many times… */
export const RESPONSE_URL_USES = 5;
/** …and for this long after the interaction (api.slack.com, "Handling user interaction"). */
export const RESPONSE_URL_LIFE_MS = 30 * 60_000;

async function readRaw(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function parseBody(raw: Buffer, type: string): Record<string, unknown> {
  if (type.includes('multipart/form-data')) return {};
  const text = raw.toString('utf8');
  if (type.includes('application/json')) return text ? (JSON.parse(text) as Record<string, unknown>) : {};
  const out: Record<string, unknown> = {};
  for (const [k, v] of new URLSearchParams(text)) {
    // WebClient form-encodes nested values (blocks, attachments) as JSON strings.
    try {
      out[k] = /^[[{]/.test(v) ? JSON.parse(v) : v;
    } catch {
      out[k] = v;
    }
  }
  return out;
}

let ts = 1_700_000_000;

export async function startFakeSlack(): Promise<FakeSlack> {
  const calls: SlackCall[] = [];
  const responders = new Map<string, SlackResponder>();
  const reactions = fakeReactions();
  const messages: FakeSlackMessage[] = [];
  const fake = { grantedScopes: [...BOT_SCOPES], reactions, messages, now: () => Date.now() } as FakeSlack;
  // Issued response_urls: when, and how many uses Slack took.
  const issued = new Map<string, { at: number; uses: number }>();
  const responseUrlAnswer = (id: string): SlackAnswer | undefined => {
    const url = issued.get(id);
    if (!url) return undefined;
    if (fake.now() - url.at >= RESPONSE_URL_LIFE_MS) return { status: 404, body: { ok: false, error: 'expired_url' } };
    if (url.uses >= RESPONSE_URL_USES) return { status: 404, body: { ok: false, error: 'used_url' } };
    url.uses += 1;
    return { body: { ok: true } };
  };
  let fileSeq = 0;
  let baseUrl = '';
  // reactions.get and files.uploadV2's three steps, answered by this server itself unless a test overrides them.
  const defaults: Record<string, SlackResponder> = {
    'reactions.get': reactions.responder,
    'files.getUploadURLExternal': () => {
      const id = `F0FAKE${++fileSeq}`;
      return { body: { ok: true, upload_url: `${baseUrl}upload/${id}`, file_id: id } };
    },
    'conversations.replies': (body) => {
      const channel = String(body.channel ?? '');
      const threadTs = String(body.ts ?? '');
      const withMetadata = body.include_all_metadata === true || body.include_all_metadata === 'true';
      const shown = (m: FakeSlackMessage) => ({
        type: 'message', text: m.text, ts: m.ts, ...(m.threadTs ? { thread_ts: m.threadTs } : {}),
        ...(withMetadata && m.metadata ? { metadata: m.metadata } : {}),
      });
      const parent = messages.find((m) => m.channel === channel && m.ts === threadTs);
      const replies = messages.filter((m) => m.channel === channel && m.threadTs === threadTs && m.ts !== threadTs);
      if (!parent && replies.length === 0) return { body: { ok: false, error: 'thread_not_found' } };
      const head = parent ? [{ ...shown(parent), thread_ts: threadTs, reply_count: replies.length }] : [];
      return { body: { ok: true, messages: [...head, ...replies.map(shown)], has_more: false, response_metadata: { next_cursor: '' } } };
    },
    'files.completeUploadExternal': (body) => {
      const files = (typeof body.files === 'string' ? JSON.parse(body.files) : body.files) as Array<{ id: string; title?: string }>;
      return { body: { ok: true, files: (files ?? []).map((f) => ({ id: f.id, title: f.title ?? '' })) } };
    },
  };
  const server = createServer(async (req, res) => {
    const method = (req.url ?? '').replace(/^\/api\//, '').split('?')[0] ?? '';
    const raw = await readRaw(req);
    const body = parseBody(raw, req.headers['content-type'] ?? '');
    const call: SlackCall = { method, body, raw, at: Date.now() };
    calls.push(call);
    const respondTo = /^\/respond\/([^/?]+)$/.exec(method);
    const refused = respondTo ? responseUrlAnswer(respondTo[1]!) : undefined;
    if (refused && refused.status === 404) {
      call.refused = String(refused.body.error);
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify(refused.body));
      return;
    }
    const responder = responders.get(method) ?? defaults[method];
    if (!responder && method.startsWith('upload/')) {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end(`OK - ${raw.length}`);
      return;
    }
    const answer = (responder ? await responder(body, call) : undefined)
      ?? (defaults[method] && responder !== defaults[method] ? await defaults[method](body, call) : undefined)
      ?? { body: { ok: true, channel: body.channel ?? 'C0FAKE', ts: `${ts++}.000100`, message: { text: body.text } } };
    if (method === 'chat.postMessage' && answer.body.ok === true && typeof answer.body.ts === 'string') {
      const metadata = body.metadata as FakeSlackMessage['metadata'] | undefined;
      messages.push({
        channel: String(answer.body.channel ?? body.channel ?? ''), ts: answer.body.ts, text: typeof body.text === 'string' ? body.text : '',
        ...(typeof body.thread_ts === 'string' ? { threadTs: body.thread_ts } : {}), ...(metadata && typeof metadata === 'object' ? { metadata } : {}),
      });
    }
    const scopes = fake.grantedScopes === null ? {} : { 'x-oauth-scopes': fake.grantedScopes.join(',') };
    res.writeHead(answer.status ?? 200, { 'content-type': 'application/json', ...scopes, ...(answer.headers ?? {}) });
    res.end(JSON.stringify(answer.body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  baseUrl = `http://127.0.0.1:${port}/api/`;
  Object.assign(fake, {
    url: baseUrl,
    calls,
    callsTo: (method: string) => calls.filter((c) => c.method === method),
    on: (method: string, responder: SlackResponder) => void responders.set(method, responder),
    responseUrl: (id: string) => {
      issued.set(id, { at: fake.now(), uses: 0 });
      return `http://127.0.0.1:${port}/respond/${id}`;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  });
  return fake;
}
