// A local stand-in for Slack's Web API (https://slack.com/api/<method>) on loopback. Point the bot
// at it with SLACK_API_URL=<url>. Records every call; answers {ok:true} unless a test overrides a method.
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface SlackCall {
  method: string;
  body: Record<string, unknown>;
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
  close(): Promise<void>;
}

async function readBody(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  const type = req.headers['content-type'] ?? '';
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
  const server = createServer(async (req, res) => {
    const method = (req.url ?? '').replace(/^\/api\//, '').split('?')[0] ?? '';
    const body = await readBody(req);
    const call = { method, body, at: Date.now() };
    calls.push(call);
    const responder = responders.get(method);
    const answer = responder
      ? await responder(body, call)
      : { body: { ok: true, channel: body.channel ?? 'C0FAKE', ts: `${ts++}.000100`, message: { text: body.text } } };
    res.writeHead(answer.status ?? 200, { 'content-type': 'application/json', ...(answer.headers ?? {}) });
    res.end(JSON.stringify(answer.body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/api/`,
    calls,
    callsTo: (method) => calls.filter((c) => c.method === method),
    on: (method, responder) => void responders.set(method, responder),
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
