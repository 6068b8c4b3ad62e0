// Owns posting to a request's response_url (the reply to a slash command or a button click): one
// JSON POST over node:http(s) with a kept-alive connection per host, instead of Bolt's respond(),
// which goes through fetch — a WHATWG request, headers and body streams built for every reply, the
// largest single cost of a slash command's work after the database (bench:slack-ack's profile).
// A reply Slack refuses (not 2xx) or that gets no answer within REPLY_TIMEOUT_MS throws, as
// Bolt's respond() did, so the failure reaches the listener's error handling.
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';

/** What a reply to response_url carries (Block Kit message plus Slack's reply options). */
export type ResponseMessage = Record<string, unknown>;
export type ResponseUrlPoster = (message: ResponseMessage) => Promise<void>;

const REPLY_TIMEOUT_MS = 30_000;
const agents = { http: new HttpAgent({ keepAlive: true }), https: new HttpsAgent({ keepAlive: true }) };

export class ResponseUrlError extends Error {
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = 'ResponseUrlError';
  }
}

/** POSTs `message` as JSON to `url` (http or https); resolves once Slack answered 2xx. */
export function postToResponseUrl(url: string, message: ResponseMessage): Promise<void> {
  const target = new URL(url);
  const secure = target.protocol === 'https:';
  if (!secure && target.protocol !== 'http:') return Promise.reject(new ResponseUrlError(`response_url is not http(s): ${target.protocol}`));
  const body = Buffer.from(JSON.stringify(message));
  return new Promise<void>((resolve, reject) => {
    const req = (secure ? httpsRequest : httpRequest)(
      target,
      {
        method: 'POST',
        agent: secure ? agents.https : agents.http,
        headers: { 'content-type': 'application/json', 'content-length': body.length },
        timeout: REPLY_TIMEOUT_MS,
      },
      (res: IncomingMessage) => {
        res.resume();
        res.on('error', reject);
        res.on('end', () => {
          const status = res.statusCode ?? 0;
          if (status >= 200 && status < 300) resolve();
          else reject(new ResponseUrlError(`Failed to respond to the response_url: ${status} ${res.statusMessage ?? ''}`.trim(), status));
        });
      },
    );
    req.on('timeout', () => req.destroy(new ResponseUrlError(`no answer from the response_url within ${REPLY_TIMEOUT_MS} ms`)));
    req.on('error', reject);
    req.end(body);
  });
}

/** The poster for one request's response_url, or undefined when the request has none. */
export function responseUrlPoster(url: unknown): ResponseUrlPoster | undefined {
  return typeof url === 'string' && url !== '' ? (message) => postToResponseUrl(url, message) : undefined;
}
