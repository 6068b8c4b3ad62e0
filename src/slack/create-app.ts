// Owns the Bolt app of the running bot: HTTP mode (the request gate and the bot's receiver serve
// POST /slack/events on our server: request-gate.ts, gated-receiver.ts) or Socket
// Mode when SLACK_APP_TOKEN is set; SLACK_API_URL and our Web API retry policy for every call;
// the delivery guard (ack, then idempotency); the listener table; one backstop error handler.
import type { RequestListener } from 'node:http';
import { App, SocketModeReceiver, type Receiver } from '@slack/bolt';
import type { AppContext } from '../app/context.js';
import { AppError } from '../errors.js';
import { boltLogger } from './bolt-logger.js';
import { deliveryGuard } from './deliveries.js';
import { GatedReceiver } from './gated-receiver.js';
import { resolveBotIdentity, type BotIdentity } from './identity.js';
import { readsStatusFirst, registerViewListeners, tableDispatch } from './listeners/register.js';
import { listenerTable } from './listeners/table.js';
import type { ListenerTable, SlackWaits } from './listeners/types.js';
import { guardSlackRequests } from './request-gate.js';
import { describeSlackError } from './report-error.js';
import { sendErrorReply } from './error-reply.js';
import { slackClientOptions, slackWebClient } from './web-client.js';

export interface SlackAppOptions {
  /** The listeners (default: the bot's table). Tests and the bench pass their own. */
  table?: ListenerTable;
  /** Skip auth.test when the identity is known (tests). */
  identity?: BotIdentity;
  /** How long handlers wait on for handed-over work (default the shipped waits, listeners/request.ts SLACK_WAITS). Tests pass shorter ones. */
  waits?: SlackWaits;
}

export interface SlackApp {
  app: App;
  mode: 'http' | 'socket';
  /** HTTP mode: serves POST /slack/events (route it on the bot's HTTP server). */
  requestListener?: RequestListener;
  /** Socket Mode: connects. HTTP mode: nothing to do. */
  start(): Promise<void>;
  /** Resolves when no accepted request is still being worked on (tests, graceful stop). */
  idle(): Promise<void>;
  stop(): Promise<void>;
}

function inflightTracker() {
  let count = 0;
  let waiters: Array<() => void> = [];
  return {
    begin() {
      count += 1;
      let ended = false;
      return () => {
        if (ended) return;
        ended = true;
        count -= 1;
        if (count === 0) {
          const w = waiters;
          waiters = [];
          for (const resolve of w) resolve();
        }
      };
    },
    idle: () => (count === 0 ? Promise.resolve() : new Promise<void>((resolve) => waiters.push(resolve))),
  };
}

export async function createSlackApp(ctx: AppContext, opts: SlackAppOptions = {}): Promise<SlackApp> {
  const { config } = ctx;
  const token = config.SLACK_BOT_TOKEN;
  if (!token) {
    throw new AppError('config', 'slack_not_configured', 'Slack is not configured: SLACK_BOT_TOKEN is not set.');
  }
  const logger = boltLogger(ctx.logger);
  const identity = opts.identity ?? (await resolveBotIdentity(config, ctx.logger));
  const clientOptions = slackClientOptions(config);

  let receiver: Receiver;
  let requestListener: RequestListener | undefined;
  const mode = config.SLACK_APP_TOKEN ? 'socket' : 'http';
  if (config.SLACK_APP_TOKEN) {
    receiver = new SocketModeReceiver({ appToken: config.SLACK_APP_TOKEN.reveal(), logger, installerOptions: { clientOptions } });
  } else {
    if (!config.SLACK_SIGNING_SECRET) {
      throw new AppError('config', 'slack_signing_secret_missing', 'SLACK_SIGNING_SECRET is required for Slack over HTTP.', {
        hint: 'Copy the Signing Secret from the app\'s "Basic Information" page, or set SLACK_APP_TOKEN for Socket Mode.',
      });
    }
    // The gate checks every request's signature and age (both ways), size and shape, and strips
    // what comes with an unsigned SSL check; the receiver hands what it parsed to Bolt, acked as
    // soon as the delivery guard calls ack (work continues after the response).
    const gated = new GatedReceiver(logger);
    receiver = gated;
    requestListener = guardSlackRequests((req, res, body) => gated.handle(req, res, body), { signingSecret: config.SLACK_SIGNING_SECRET.reveal(), logger: ctx.logger });
  }

  const app = new App({
    receiver,
    token: token.reveal(),
    tokenVerificationEnabled: false,
    ...(identity.botId ? { botId: identity.botId } : {}),
    ...(identity.botUserId ? { botUserId: identity.botUserId } : {}),
    logger,
    clientOptions,
    extendedErrorHandler: true,
    // Bolt's default conversation store runs (async) before every request's ack; nothing here reads it.
    convoStore: false,
  });
  // One Web API client per process: the listeners' replies go out through the same client as the
  // notifier's messages (Bolt hands every listener `app.client` for a single-workspace token; the
  // one its constructor built is left unused). That client rejects a 429 instead of sleeping in it,
  // so reply.ts waits a rate limit out itself, as Bolt's own client used to.
  app.client = slackWebClient(config);

  const inflight = inflightTracker();
  const table = opts.table ?? listenerTable;
  registerViewListeners(app, ctx, table, opts.waits);

  // Backstop: listeners handle their own errors (listeners/request.ts); this catches the rest.
  const backstop = async ({ error, body, receivedAt }: { error: Error; body?: unknown; receivedAt?: unknown }): Promise<void> => {
    const { reference, message } = describeSlackError(ctx.logger, error, { where: 'bolt' });
    try {
      await sendErrorReply({ ctx, client: app.client, body, message, receivedAt: typeof receivedAt === 'number' ? receivedAt : undefined });
    } catch (err) {
      ctx.logger.error({ err, reference }, `could not send the error reply for ${reference}`);
    }
  };
  // extendedErrorHandler: true makes Bolt pass {error, body, context, logger}.
  app.error(backstop as never);
  // Acked work runs after Bolt has returned from the request (deliveries.ts queues it), so its
  // failures reach the same backstop through the guard rather than through Bolt.
  // The listener table's commands, events and actions run from the guard's queued work, after the
  // claim, out of Bolt's chain; what the guard hands on reaches the same dispatch last in the chain.
  const dispatch = tableDispatch(ctx, table, opts.waits);
  app.use(deliveryGuard(ctx, { onStart: inflight.begin, onError: (error, body, receivedAt) => backstop({ error, body, receivedAt }), readsStatus: readsStatusFirst(table), detach: dispatch.detach }));
  app.use(dispatch.middleware);

  return {
    app,
    mode,
    ...(requestListener ? { requestListener } : {}),
    async start() {
      if (mode === 'socket') await app.start();
      ctx.logger.info({ mode }, mode === 'socket' ? 'Slack: connected over Socket Mode' : 'Slack: listening on POST /slack/events');
    },
    idle: inflight.idle,
    async stop() {
      await Promise.race([inflight.idle(), new Promise((resolve) => setTimeout(resolve, 5_000).unref())]);
      if (mode === 'socket') await app.stop();
    },
  };
}
