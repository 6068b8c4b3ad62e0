// POST /kill on the bot's HTTP server: the kill for scripts and for when Slack itself is down.
// Bearer KILL_HTTP_TOKEN (compared in constant time); refused outright when the token is unset.
// The request runs the kill in this (web) process: it cancels on the exchange directly, so a stuck
// engine loop cannot delay it. Body (optional JSON): {"reason": "…", "flatten": false}; an
// Idempotency-Key header makes a retried request join the same kill.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { killArgs, killCommand, REASON_MAX } from '../../commands/kill.js';
import { argumentsProblem, runCommand } from '../../commands/run-command.js';
import type { AppContext } from '../app/context.js';
import type { Config } from '../config/env.js';
import type { Actor } from '../domain/actor.js';
import type { StartingKillResult } from '../services/kill/kill-while-starting.js';
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

/** Refused (answered 403 or 401) unless the request carries KILL_HTTP_TOKEN as its bearer token. */
function refused(config: Pick<Config, 'KILL_HTTP_TOKEN'>, req: IncomingMessage, res: ServerResponse): boolean {
  const token = config.KILL_HTTP_TOKEN?.reveal();
  if (!token) {
    sendJson(res, 403, { error: 'POST /kill is disabled: KILL_HTTP_TOKEN is not set. Use /kill in Slack or ctb kill, or set the token and restart.' });
    return true;
  }
  if (!bearerMatches(req.headers.authorization, token)) {
    res.setHeader('www-authenticate', 'Bearer realm="ctb-kill"');
    sendJson(res, 401, { error: 'Missing or wrong bearer token: expected Authorization: Bearer <KILL_HTTP_TOKEN>.' });
    return true;
  }
  return false;
}

/** Who asks: the HTTP caller, with its Idempotency-Key when it sent a usable one (a retry joins the same kill). */
function httpActor(req: IncomingMessage): Actor {
  const key = req.headers['idempotency-key'];
  const requestId = typeof key === 'string' && /^[\w.:-]{1,100}$/.test(key) ? key : undefined;
  return { id: 'http:kill', source: 'http', ...(requestId ? { requestId } : {}) };
}

/** Authenticated, its body read and checked, `run` answered 200; a bad body 400. */
async function serveKill(config: Pick<Config, 'KILL_HTTP_TOKEN'>, req: IncomingMessage, res: ServerResponse, run: (actor: Actor, args: unknown) => Promise<unknown>): Promise<void> {
  if (refused(config, req, res)) return;
  try {
    const args = parseBody(await readBody(req));
    sendJson(res, 200, await run(httpActor(req), args));
  } catch (err) {
    if (err instanceof AppError && err.kind === 'usage') {
      sendJson(res, 400, { error: err.message });
      return;
    }
    throw err;
  }
}

export function killRoute(ctx: AppContext): Handler {
  return (req, res) => serveKill(ctx.config, req, res, (actor, args) => runCommand(killCommand, ctx, actor, args));
}

/** What takes a kill while the start waits for its database (services/kill/kill-while-starting.ts). */
export interface KillsWhileStarting {
  kill(request: { actor: Actor; reason: string; flatten?: boolean }): Promise<StartingKillResult>;
}

/**
 * POST /kill while `ctb start` waits for its database, before the kill part serves it (no context, no
 * command to run): the same token, body and Idempotency-Key; the kill cancels on Kraken with this
 * process's key and saves the halt in DATA_DIR, written when the start goes on. Once the context
 * exists (`started`), the kill runs as it does once the bot has started.
 */
export function killWhileStartingRoute(config: Pick<Config, 'KILL_HTTP_TOKEN'>, kills: KillsWhileStarting, started: () => AppContext | undefined): Handler {
  return (req, res) => {
    const ctx = started();
    if (ctx) return killRoute(ctx)(req, res);
    return serveKill(config, req, res, async (actor, args) => {
      // Bad arguments get the answer they get once the bot has started (400, the same words).
      const problem = argumentsProblem(killCommand, args);
      if (problem) throw problem;
      const { reason, flatten } = killArgs.parse(args);
      return kills.kill({ actor, reason, flatten });
    });
  };
}
