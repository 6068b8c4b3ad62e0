// Owns the Slack stand-in's HTTP server: on 127.0.0.1 only, the Web API under /api/ (web-api.ts), the
// response_url of every slash command sent through it (/respond/<channel>/<user>/<id>), what the
// bot said so far for the people acting in it (GET /_standin/messages), and their reactions on its
// messages (POST /_standin/reactions, before the reaction's event is sent to the bot). It is not Slack and says so on
// GET /; it keeps everything in memory and reaches nothing beyond this machine.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ConversationLog, textOf, type LogEntry } from './conversation-log.js';
import { tokenFingerprint } from './signing.js';
import { callWebApi, GRANTED_SCOPES_HEADER, type Answer, type Body, type WebApiState } from './web-api.js';

export const STAND_IN_BANNER = "Slack stand-in: a local imitation of Slack's Web API for rehearsals. It is not Slack: nothing posted here reaches any workspace.";

async function readRaw(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** A Web API call's arguments: JSON, or a form whose nested values (blocks, metadata) WebClient sends as JSON text. */
function parseBody(raw: Buffer, type: string): Body {
  const text = raw.toString('utf8');
  if (type.includes('multipart/form-data') || text === '') return {};
  if (type.includes('application/json')) {
    try {
      return JSON.parse(text) as Body;
    } catch {
      return {};
    }
  }
  const out: Body = {};
  for (const [k, v] of new URLSearchParams(text)) {
    try {
      out[k] = /^[[{]/.test(v) ? JSON.parse(v) : v;
    } catch {
      out[k] = v;
    }
  }
  return out;
}

function bearer(req: IncomingMessage, body: Body): string | undefined {
  const header = req.headers.authorization;
  if (header?.startsWith('Bearer ')) return header.slice('Bearer '.length).trim();
  return typeof body.token === 'string' ? body.token : undefined;
}

function send(res: ServerResponse, answer: Answer, headers: Record<string, string> = {}): void {
  const json = typeof answer.body !== 'string';
  res.writeHead(answer.status ?? 200, { 'content-type': answer.contentType ?? (json ? 'application/json; charset=utf-8' : 'text/plain; charset=utf-8'), ...headers });
  res.end(json ? JSON.stringify(answer.body) : answer.body);
}

export class SlackStandIn {
  readonly log = new ConversationLog();
  /** The bots that called this stand-in's Web API (auth.test at their start, then every post), by token fingerprint. */
  readonly botsSeen = new Set<string>();
  private ids = 0;
  private constructor(private readonly server: Server, readonly url: string) {}

  /** The Web API base URL the bot's SLACK_API_URL names. */
  get apiUrl(): string {
    return `${this.url}/api/`;
  }

  static async start(opts: { port: number; onEntry?: (entry: LogEntry) => void }): Promise<SlackStandIn> {
    let standIn: SlackStandIn | undefined;
    const server = createServer((req, res) => {
      void standIn!.handle(req, res).catch((err: Error) => send(res, { status: 500, body: { ok: false, error: 'internal_error', detail: err.message } }));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(opts.port, '127.0.0.1', () => resolve());
    });
    const { port } = server.address() as AddressInfo;
    standIn = new SlackStandIn(server, `http://127.0.0.1:${port}`);
    if (opts.onEntry) standIn.log.onEntry = opts.onEntry;
    return standIn;
  }

  private nextId(prefix: string): string {
    return `${prefix}0SI${String(++this.ids).padStart(6, '0')}`;
  }

  private state(): WebApiState {
    return { log: this.log, baseUrl: this.apiUrl, uploads: this.uploads, nextId: (p) => this.nextId(p) };
  }

  private readonly uploads = new Map<string, { title: string; bytes: number }>();

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const raw = await readRaw(req);
    if (req.method === 'GET' && path === '/') return send(res, { body: `${STAND_IN_BANNER}\nWeb API: ${this.apiUrl}\n` });
    if (req.method === 'GET' && path === '/_standin/messages') return send(res, { body: { ok: true, standIn: true, messages: this.log.entries, botsSeen: [...this.botsSeen] } });
    if (req.method !== 'POST') return send(res, { status: 405, body: 'POST only (GET / and GET /_standin/messages excepted)\n' });
    if (path === '/_standin/reactions') {
      const r = parseBody(raw, 'application/json');
      const fields = [r.channel, r.ts, r.name, r.user];
      if (!fields.every((f) => typeof f === 'string' && f !== '')) return send(res, { status: 400, body: { ok: false, error: 'expected JSON {channel, ts, name, user}' } });
      const [channel, ts, name, user] = fields as string[];
      return send(res, this.log.react(channel!, ts!, name!, user!) ? { body: { ok: true } } : { status: 404, body: { ok: false, error: 'message_not_found' } });
    }
    const upload = /^\/api\/upload\/([A-Z0-9]+)$/.exec(path);
    if (upload) {
      return send(res, this.uploads.has(upload[1]!) ? { body: `OK - ${raw.length}` } : { status: 404, body: 'no such upload\n' });
    }
    const api = /^\/api\/([a-zA-Z.]+)$/.exec(path);
    if (api) {
      const body = parseBody(raw, req.headers['content-type'] ?? '');
      const token = bearer(req, body);
      const answer = callWebApi(api[1]!, token, body, this.state());
      if (token && typeof answer.body !== 'string' && answer.body.ok === true) this.botsSeen.add(tokenFingerprint(token));
      return send(res, answer, GRANTED_SCOPES_HEADER);
    }
    const respond = /^\/respond\/([A-Z0-9]+)\/([A-Z0-9]+)\/([A-Za-z0-9]+)$/.exec(path);
    if (respond) {
      const body = parseBody(raw, 'application/json');
      const inChannel = body.response_type === 'in_channel';
      this.log.add({
        kind: inChannel ? 'message' : 'reply', channel: respond[1]!, user: respond[2]!, trigger: respond[3]!, text: textOf(body),
        ...(inChannel ? { ts: this.log.nextTs() } : {}),
      });
      return send(res, { body: { ok: true } });
    }
    return send(res, { status: 404, body: { ok: false, error: 'not_found' } });
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.closeAllConnections();
      this.server.close(() => resolve());
    });
  }
}
