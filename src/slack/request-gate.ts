// Owns what reaches Bolt over HTTP: a request is read once (up to BODY_LIMIT bytes, else 413), must
// be dated within ±5 minutes of now — the future too (Bolt checks only the past, so a request
// signed for ten minutes ahead ran a /kill) — must carry a valid signature (401, as Bolt answers),
// and must be shaped like something Slack sends (400 otherwise): a JSON object, or a form that is a
// slash command or carries one JSON object as `payload`. Bolt reads `body.ssl_check` from whatever
// it parsed in a promise nobody awaits, so a signed `null` or `payload=null` was an unhandled
// rejection that took the whole process down; nothing that is not an object reaches it now.
// The gate is the one signature check (Bolt's own repeated it with a timestamp rule that looks only
// at the past, plus three more HMACs and random bytes for its comparison) and the one parse: the
// body it checked goes on parsed to the bot's receiver (gated-receiver.ts), where Bolt's
// HTTPReceiver read and parsed it again. Slack's unsigned SSL check goes on as `ssl_check=1` alone:
// anything sent with it is dropped here, as Bolt's check did.
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { parse as parseQuery } from 'node:querystring';
import type { Logger } from '../logger.js';

/** Slack's own window for a request's timestamp, both ways. */
export const SLACK_MAX_SKEW_SEC = 5 * 60;
/** Bolt's default: Slack's largest payloads (view submissions) are far below it. */
export const BODY_LIMIT = 4 * 1024 * 1024;

export interface RequestGateOptions {
  signingSecret: string;
  logger: Logger;
  /** Seconds since the epoch (tests); default the wall clock, as Slack signs with it. */
  nowSec?: () => number;
  bodyLimit?: number;
}

class Refusal extends Error {
  constructor(readonly status: 400 | 401 | 413, message: string) {
    super(message);
  }
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let refused = false;
    req.on('data', (chunk: Buffer) => {
      if (refused) return;
      size += chunk.length;
      if (size > limit) {
        refused = true;
        reject(new Refusal(413, `body over ${limit} bytes`));
        req.resume(); // drain the rest so the 413 can be read by the sender
      } else chunks.push(chunk);
    });
    req.on('end', () => {
      if (!refused) resolve(Buffer.concat(chunks));
    });
    req.on('error', (err) => {
      if (!refused) reject(err);
    });
  });
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return typeof v === 'string' ? v : undefined;
}

function checkSignature(req: IncomingMessage, raw: string, opts: RequestGateOptions): void {
  const tsText = header(req, 'x-slack-request-timestamp');
  const signature = header(req, 'x-slack-signature');
  if (!tsText || !signature) throw new Refusal(401, 'missing signature headers');
  if (!/^\d{1,12}$/.test(tsText)) throw new Refusal(401, 'timestamp is not a number of seconds');
  const skew = Number(tsText) - (opts.nowSec?.() ?? Math.floor(Date.now() / 1000));
  if (Math.abs(skew) > SLACK_MAX_SKEW_SEC) {
    throw new Refusal(401, `timestamp ${skew > 0 ? 'ahead of' : 'behind'} now by ${Math.abs(skew)} s (allowed ±${SLACK_MAX_SKEW_SEC} s)`);
  }
  const expected = Buffer.from(`v0=${createHmac('sha256', opts.signingSecret).update(`v0:${tsText}:${raw}`).digest('hex')}`);
  const given = Buffer.from(signature);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw new Refusal(401, 'signature does not match');
}

type Form = ReturnType<typeof parseQuery>;
/** A request body as Bolt's receivers hand it on: an object, parsed once, here. */
export type SlackBody = Record<string, unknown>;
/** What gets a request that passed the gate, with its body parsed. */
export type GatedHandler = (req: IncomingMessage, res: ServerResponse, body: SlackBody) => void;

/**
 * Throws a 400 Refusal unless the body is shaped like a Slack command, event or interaction; returns
 * the body as Bolt takes it (a form's JSON `payload`, else the form; a JSON body parsed).
 */
function checkShape(raw: string, form: Form | undefined): SlackBody {
  if (form) {
    if ('payload' in form) {
      if (typeof form.payload !== 'string') throw new Refusal(400, 'payload given more than once');
      let payload: unknown;
      try {
        payload = JSON.parse(form.payload);
      } catch {
        throw new Refusal(400, 'payload is not JSON');
      }
      if (!isObject(payload) || typeof payload.type !== 'string') throw new Refusal(400, 'payload is not an object with a type');
      if ('user' in payload && !(isObject(payload.user) && typeof payload.user.id === 'string')) throw new Refusal(400, 'payload.user is not {id}');
      if ('actions' in payload && !(Array.isArray(payload.actions) && payload.actions.every(isObject))) throw new Refusal(400, 'payload.actions is not a list of objects');
      if ('view' in payload && !isObject(payload.view)) throw new Refusal(400, 'payload.view is not an object');
      return payload;
    }
    // A slash command: every field once, as text. (A for-in over the parsed form, which has no
    // prototype: Object.entries made an array per field of every request.)
    for (const key in form) if (typeof form[key] !== 'string') throw new Refusal(400, `field ${key} given more than once`);
    if (typeof form.command !== 'string' || typeof form.user_id !== 'string') throw new Refusal(400, 'form is neither a slash command nor a payload');
    return form as SlackBody;
  }
  let body: unknown;
  try {
    body = JSON.parse(raw);
  } catch {
    throw new Refusal(400, 'body is not JSON');
  }
  if (!isObject(body) || typeof body.type !== 'string') throw new Refusal(400, 'body is not an object with a type');
  if (body.type === 'event_callback' && !(isObject(body.event) && typeof body.event.type === 'string')) throw new Refusal(400, 'event is not an object with a type');
  if (body.type === 'url_verification' && typeof body.challenge !== 'string') throw new Refusal(400, 'url_verification without a challenge');
  return body;
}

/** The request listener for POST /slack/events: the checks above, then `handle` with the parsed body. */
export function guardSlackRequests(handle: GatedHandler, opts: RequestGateOptions): RequestListener {
  const refuse = (res: ServerResponse, status: number) => {
    if (res.headersSent) return;
    res.writeHead(status, { connection: 'close' });
    res.end();
  };
  return (req, res) => {
    (async () => {
      const buffer = await readBody(req, opts.bodyLimit ?? BODY_LIMIT);
      const raw = buffer.toString('utf8');
      const contentType = (header(req, 'content-type') ?? '').split(';')[0]!.trim().toLowerCase();
      const form = contentType === 'application/x-www-form-urlencoded' ? parseQuery(raw) : undefined;
      // Slack's SSL check is unsigned by design: the receiver answers it, and gets nothing else sent with it.
      if (form?.ssl_check === '1') return handle(req, res, { ssl_check: '1' });
      checkSignature(req, raw, opts);
      handle(req, res, checkShape(raw, form));
    })().catch((err: unknown) => {
      const status = err instanceof Refusal ? err.status : 400;
      opts.logger.warn({ status, reason: err instanceof Error ? err.message : String(err), path: req.url }, `Slack request refused (${status})`);
      refuse(res, status);
    });
  };
}
