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
}

export type SlackResponder = (body: Record<string, unknown>, call: SlackCall) =>
  | { status?: number; headers?: Record<string, string>; body: Record<string, unknown> }
  | Promise<{ status?: number; headers?: Record<string, string>; body: Record<string, unknown> }>;

export interface FakeSlack {
  url: string;
  calls: SlackCall[];
  callsTo(method: string): SlackCall[];
  on(method: string, responder: SlackResponder): void;
  /** The scopes each answer's x-oauth-scopes header names (null: no header). Default: the manifest's. */
  grantedScopes: string[] | null;
  /** The reactions on messages now, which reactions.get answers from (unless a test overrides it). */
  reactions: FakeReactions;
  close(): Promise<void>;
}

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
  const fake = { grantedScopes: [...BOT_SCOPES], reactions } as FakeSlack;
  let fileSeq = 0;
  let baseUrl = '';
  // reactions.get and files.uploadV2's three steps, answered by this server itself unless a test overrides them.
  const defaults: Record<string, SlackResponder> = {
    'reactions.get': reactions.responder,
    'files.getUploadURLExternal': () => {
      const id = `F0FAKE${++fileSeq}`;
      return { body: { ok: true, upload_url: `${baseUrl}upload/${id}`, file_id: id } };
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
    const call = { method, body, raw, at: Date.now() };
    calls.push(call);
    const responder = responders.get(method) ?? defaults[method];
    if (!responder && method.startsWith('upload/')) {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end(`OK - ${raw.length}`);
      return;
    }
    const answer = responder
      ? await responder(body, call)
      : { body: { ok: true, channel: body.channel ?? 'C0FAKE', ts: `${ts++}.000100`, message: { text: body.text } } };
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
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  });
  return fake;
}
