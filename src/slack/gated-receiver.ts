// Owns the bot's Bolt receiver over HTTP: it takes a request the gate (request-gate.ts) has read,
// checked and parsed, and hands it to Bolt as Bolt's HTTPReceiver did (processBeforeResponse off):
// Slack's SSL check and URL verification answered here, every other body to app.processEvent with
// an ack that sends the HTTP answer at once, X-Slack-Retry-Num/Reason passed on, a request nobody
// acked within 3 s answered 404 with Bolt's error line, and an error before the ack answered 500.
// HTTPReceiver read the body again from what the gate had read, parsed it a second time, and routed
// on a URL object per request; none of that was left to do.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ReceiverMultipleAckError, type App, type Logger as BoltLogger, type Receiver, type ReceiverEvent } from '@slack/bolt';
import type { SlackBody } from './request-gate.js';

/** Bolt's HTTPReceiver default: Slack waits 3 s for the ack. */
const UNACKED_AFTER_MS = 3_001;

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return typeof v === 'string' ? v : Array.isArray(v) ? v[0] : undefined;
}

/** The ack's HTTP answer, as Bolt's HTTPReceiver writes it: empty, text, or JSON. */
function answer(res: ServerResponse, body: unknown): void {
  if (!body) {
    res.writeHead(200);
    res.end();
  } else if (typeof body === 'string') {
    res.writeHead(200);
    res.end(body);
  } else {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  }
}

export class GatedReceiver implements Receiver {
  #app: App | undefined;

  constructor(private readonly logger: BoltLogger) {}

  init(app: App): void {
    this.#app = app;
  }

  start(): Promise<void> {
    return Promise.resolve();
  }

  stop(): Promise<void> {
    return Promise.resolve();
  }

  /** One gated request (request-gate.ts's handler). */
  handle(req: IncomingMessage, res: ServerResponse, body: SlackBody): void {
    if (body.ssl_check === '1') return answer(res, undefined);
    if (body.type === 'url_verification') return answer(res, { challenge: body.challenge });
    const app = this.#app;
    if (!app) {
      this.logger.error('A Slack request arrived before the app was ready');
      res.writeHead(503);
      res.end();
      return;
    }
    let acked = false;
    // The response until the ack has answered it, then nothing: Bolt's arguments (this event with its
    // ack among them) stay held for as long as the request's work is queued after its ack
    // (deliveries.ts), and under load that is hundreds of requests; each kept its response, and with
    // it the request and their headers, alive through every young-generation collection meanwhile.
    let pending: ServerResponse | undefined = res;
    let unacked: NodeJS.Timeout | undefined = setTimeout(() => {
      if (acked) return;
      this.logger.error('An incoming event was not acknowledged within 3 seconds. Ensure that the ack() argument is called in a listener.');
      if (pending && !pending.headersSent) {
        pending.writeHead(404);
        pending.end();
      }
    }, UNACKED_AFTER_MS);
    const retryNum = header(req, 'x-slack-retry-num');
    const retryReason = header(req, 'x-slack-retry-reason');
    const event: ReceiverEvent = {
      body,
      async ack(response?: unknown) {
        if (acked) throw new ReceiverMultipleAckError();
        acked = true;
        clearTimeout(unacked);
        unacked = undefined;
        answer(pending!, response);
        pending = undefined;
      },
      ...(retryNum !== undefined ? { retryNum: Number.parseInt(retryNum, 10) } : {}),
      ...(retryReason !== undefined ? { retryReason } : {}),
    };
    app.processEvent(event).catch((error: unknown) => {
      // Answered by the ack (pending let go of), or by the 3-second 404.
      if (pending === undefined || pending.headersSent) {
        this.logger.error('An unhandled error occurred after ack() called in a listener');
        this.logger.debug(`Error details: ${String(error)}`);
        return;
      }
      this.logger.error('An unhandled error occurred while Bolt processed an event');
      this.logger.debug(`Error details: ${String(error)}`);
      acked = true;
      clearTimeout(unacked);
      unacked = undefined;
      pending.writeHead(500);
      pending.end();
      pending = undefined;
    });
  }
}
