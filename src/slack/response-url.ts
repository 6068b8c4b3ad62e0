// Owns posting to a request's response_url (the reply to a slash command or a button click): one
// JSON POST on a pool of kept-alive connections per origin (undici), instead of Bolt's respond(),
// which goes through fetch — a WHATWG request, headers and body streams built for every reply, the
// largest single cost of a slash command's work after the database (bench:slack-ack's profile) —
// and instead of node:http's client, whose request, agent and response objects cost about a third
// more CPU per reply than the pool's at 300 replies a second on this machine. Each reply is
// dispatched with a small handler that keeps the status and lets the body go by (send() below).
// A reply Slack refuses (not 2xx) or that gets no answer within REPLY_TIMEOUT_MS throws, as
// Bolt's respond() did, so the failure reaches the listener's error handling. Every reply's strings
// are scrubbed (src/secret-scrub.ts) before it is sent: a reply may quote what the operator typed.
import { Pool } from 'undici';
import { scrubDeep, scrubShapes, SLACK_STRUCTURAL_KEYS, type Scrubber } from '../secret-scrub.js';

/** What a reply to response_url carries (Block Kit message plus Slack's reply options). */
export type ResponseMessage = Record<string, unknown>;
export type ResponseUrlPoster = (message: ResponseMessage) => Promise<void>;

const REPLY_TIMEOUT_MS = 30_000;
/** Origins kept: Slack's replies all go to one; tests and staging point at a few local ones. */
const MAX_POOLS = 16;
const pools = new Map<string, Pool>();

export class ResponseUrlError extends Error {
  constructor(
    message: string,
    readonly status?: number,
    /** Slack's reason, when its answer names one: used_url or expired_url. */
    readonly code?: string,
  ) {
    super(message);
    this.name = 'ResponseUrlError';
  }
}

function poolFor(origin: string): Pool {
  let pool = pools.get(origin);
  if (!pool) {
    if (pools.size >= MAX_POOLS) {
      const [oldest, old] = pools.entries().next().value as [string, Pool];
      pools.delete(oldest);
      void old.close().catch(() => undefined);
    }
    pool = new Pool(origin, { headersTimeout: REPLY_TIMEOUT_MS, bodyTimeout: REPLY_TIMEOUT_MS });
    pools.set(origin, pool);
  }
  return pool;
}

const isTimeout = (err: unknown) => {
  const code = (err as { code?: unknown } | null)?.code;
  return code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT';
};

/** How much of a refusal's body is kept to find Slack's reason in. */
const REFUSAL_BODY_MAX = 1024;
const REFUSAL_CODE = /\b(used_url|expired_url)\b/;

/**
 * Sends one request on the pool and resolves with its status once the answer has been read to its
 * end (the connection is then free for the next reply). A dispatch with a handler of its own, not
 * the pool's request(): that builds an async resource, a readable stream for the body and a parsed
 * header object for every reply, and nothing here reads more than the status. Only a refusal's body
 * is kept (its first KB), for Slack's reason; it rejects with a ResponseUrlError.
 */
function send(pool: Pool, path: string, body: string): Promise<number> {
  return new Promise((resolve, reject) => {
    let status = 0;
    let refusal: string | undefined;
    pool.dispatch(
      { path, method: 'POST', headers: JSON_HEADERS, body },
      {
        onConnect() {},
        onHeaders(statusCode) {
          // An informational answer (1xx) comes before the real one.
          if (statusCode >= 200) status = statusCode;
          if (statusCode >= 300) refusal = '';
          return true;
        },
        onData(chunk) {
          if (refusal !== undefined && refusal.length < REFUSAL_BODY_MAX) refusal += chunk.toString('utf8', 0, REFUSAL_BODY_MAX - refusal.length);
          return true;
        },
        onComplete() {
          if (refusal === undefined) resolve(status);
          else {
            const code = REFUSAL_CODE.exec(refusal)?.[1];
            reject(new ResponseUrlError(`Failed to respond to the response_url: ${status}${code ? ` ${code}` : ''}`, status, code));
          }
        },
        onError(err) {
          reject(err);
        },
      },
    );
  });
}

const JSON_HEADERS = { 'content-type': 'application/json' };

/**
 * POSTs `message`, scrubbed by `scrub` (the configuration's: scrubberFor; without one, the shapes
 * alone), as JSON to `url` (http or https); resolves once Slack answered 2xx.
 */
export async function postToResponseUrl(url: string, message: ResponseMessage, scrub: Scrubber = scrubShapes): Promise<void> {
  const target = new URL(url);
  if (target.protocol !== 'https:' && target.protocol !== 'http:') throw new ResponseUrlError(`response_url is not http(s): ${target.protocol}`);
  let status: number;
  try {
    status = await send(poolFor(target.origin), `${target.pathname}${target.search}`, JSON.stringify(scrubDeep(message, scrub, SLACK_STRUCTURAL_KEYS)));
  } catch (err) {
    if (isTimeout(err)) throw new ResponseUrlError(`no answer from the response_url within ${REPLY_TIMEOUT_MS} ms`);
    throw err;
  }
  if (status < 200 || status >= 300) throw new ResponseUrlError(`Failed to respond to the response_url: ${status}`, status);
}

/** The poster for one request's response_url, or undefined when the request has none. */
export function responseUrlPoster(url: unknown, scrub: Scrubber = scrubShapes): ResponseUrlPoster | undefined {
  return typeof url === 'string' && url !== '' ? (message) => postToResponseUrl(url, message, scrub) : undefined;
}
