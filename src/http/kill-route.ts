// POST /kill on the bot's HTTP server: the kill for scripts and for when Slack itself is down.
// Bearer KILL_HTTP_TOKEN (compared in constant time); refused outright when the token is unset.
// The request runs the kill in this (web) process: it cancels on the exchange directly, so a stuck
// engine loop cannot delay it. Body (optional JSON): {"reason": "…", "flatten": false}; an
// Idempotency-Key header makes a retried request join the same kill.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { killCommand, REASON_MAX } from '../../commands/kill.js';
import { runCommand } from '../../commands/run-command.js';
import type { AppContext } from '../app/context.js';
import { AppError } from '../errors.js';
import { sendJson, type Handler } from './server.js';

const MAX_BODY_BYTES = 4096;

const digest = (text: string) => createHash('sha256').update(text).digest();

/** Constant-time: both sides are hashed to the same length first. */
export function bearerMatches(header: string | undefined, token: string): boolean {
  const presented = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '')?.[1] ?? '';
  return timingSafeEqual(digest(presented), digest(token)) && presented.length > 0;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY_BYTES) {
        reject(new AppError('usage', 'body_too_large', `The request body is over ${MAX_BODY_BYTES} bytes; expected {"reason": "…", "flatten": false}.`));
        req.destroy();
      } else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function parseBody(text: string): unknown {
  if (text.trim() === '') return {};
  let body: unknown;
  try {
    body = JSON.parse(text) as unknown;
  } catch {
    body = undefined;
  }
  if (!body || typeof body !== 'object' || Array.isArray(body)) {
    throw new AppError('usage', 'bad_body', 'The request body is not a JSON object; expected {"reason": "…", "flatten": false} or nothing.');
  }
  // An API keeps its contract: a caller's too-long reason is named (people in Slack and the terminal
  // get theirs cut instead, see commands/kill.ts).
  const reason = (body as { reason?: unknown }).reason;
  if (typeof reason === 'string' && reason.trim().length > REASON_MAX) {
    throw new AppError('usage', 'bad_body', `The reason has ${reason.trim().length} characters; expected a reason of at most ${REASON_MAX} characters.`);
  }
  return body;
}

export function killRoute(ctx: AppContext): Handler {
  return async (req: IncomingMessage, res: ServerResponse) => {
    const token = ctx.config.KILL_HTTP_TOKEN?.reveal();
    if (!token) {
      sendJson(res, 403, { error: 'POST /kill is disabled: KILL_HTTP_TOKEN is not set. Use /kill in Slack or ctb kill, or set the token and restart.' });
      return;
    }
    if (!bearerMatches(req.headers.authorization, token)) {
      res.setHeader('www-authenticate', 'Bearer realm="ctb-kill"');
      sendJson(res, 401, { error: 'Missing or wrong bearer token: expected Authorization: Bearer <KILL_HTTP_TOKEN>.' });
      return;
    }
    const key = req.headers['idempotency-key'];
    const requestId = typeof key === 'string' && /^[\w.:-]{1,100}$/.test(key) ? key : undefined;
    try {
      const args = parseBody(await readBody(req));
      const result = await runCommand(killCommand, ctx, { id: 'http:kill', source: 'http', ...(requestId ? { requestId } : {}) }, args);
      sendJson(res, 200, result);
    } catch (err) {
      if (err instanceof AppError && err.kind === 'usage') {
        sendJson(res, 400, { error: err.message });
        return;
      }
      throw err;
    }
  };
}
