// Owns how the bot talks to Slack's Web API: one WebClient per process (per workspace token and
// SLACK_API_URL; staging and tests point it at a local fake), shared by the notifier (alerts, the
// incident thread, the live switch, the summaries), the start-up identity check and Bolt's
// listeners (create-app.ts gives it to the app).
// The retry policy is chosen on purpose: a short one (SLACK_RETRY_PAUSE), because the alert outbox retries undelivered
// messages itself and a 30-minute in-client retry would hold a worker and hide an outage. A 429 is
// returned as an error, never slept on inside the client: the alert queue closes the lane for
// Retry-After; the other messages (and the listeners' replies) wait it out through waitOutRateLimits.
// Every call is bounded: an attempt that gets no answer within SLACK_API_TIMEOUT fails (the client
// has no timeout of its own, and a Slack that accepts the connection and never answers would hold a
// delivery, with its transaction and the group's send lock, for good). Such an attempt is not sent
// again by the client: it may have reached Slack, and a second chat.postMessage would post twice;
// the caller goes on as after any failure (the outbox retries later, a reply says it failed).
// Every call's arguments are scrubbed (src/secret-scrub.ts) on their way out: whatever a message
// quotes (a kill reason, a driver's error), no secret reaches Slack.
import { ErrorCode, LogLevel, WebClient, type RetryOptions, type WebAPICallResult, type WebClientOptions } from '@slack/web-api';
import type { Config } from '../config/env.js';
import { describeDuration } from '../config/duration.js';
import { AppError } from '../errors.js';
import { SLACK_CALL_RETRIES, slackRetryPauseMaxMs } from './call-bound.js';
import { configSecrets, scrubDeep, scrubberFor, SLACK_STRUCTURAL_KEYS, type Scrubber } from '../secret-scrub.js';

/** Two retries of a failed call, after SLACK_RETRY_PAUSE and twice that (200 ms and 400 ms as shipped). */
function slackRetryPolicy(pauseMs: number): RetryOptions {
  return { retries: SLACK_CALL_RETRIES, factor: 2, minTimeout: pauseMs, maxTimeout: slackRetryPauseMaxMs(pauseMs) };
}

/** Whether `err` is a Slack call that got no answer in time (the request may have reached Slack). */
export function isSlackTimeout(err: unknown): boolean {
  const e = err as { name?: string; code?: string; original?: { name?: string } } | null;
  return e?.name === 'TimeoutError' || (e?.code === ErrorCode.RequestError && e.original?.name === 'TimeoutError');
}

/** Why a call that got no answer in time failed, as an operator reads it. */
export function slackTimeoutMessage(config: Config): string {
  return `timed out after ${describeDuration(config.SLACK_API_TIMEOUT)}`;
}

// p-retry (under the client's retryConfig) ends the retries with whatever onFailedAttempt throws.
function retryPolicy(pauseMs: number): RetryOptions & { onFailedAttempt(err: Error): void } {
  return {
    ...slackRetryPolicy(pauseMs),
    onFailedAttempt(err) {
      if (isSlackTimeout(err)) throw err;
    },
  };
}

/** The options of every Web API client the process builds: Bolt's and Socket Mode's included. */
export function slackClientOptions(config: Config): WebClientOptions {
  return {
    ...(config.SLACK_API_URL ? { slackApiUrl: config.SLACK_API_URL } : {}),
    retryConfig: retryPolicy(config.SLACK_RETRY_PAUSE),
    timeout: config.SLACK_API_TIMEOUT,
    logLevel: LogLevel.ERROR,
  };
}

/** A call's own token (an argument) and a message's structural keys are sent as given; every other string is scrubbed. */
const SENT_AS_GIVEN: ReadonlySet<string> = new Set(['token', ...SLACK_STRUCTURAL_KEYS]);

/**
 * The Web API client whose every call (chat.postMessage, chat.update, chat.postEphemeral, views…,
 * and Bolt's say(), which calls chat.postMessage on it) has its text, blocks and attachments
 * scrubbed: each method of a WebClient is its apiCall bound at construction, so this override is
 * the one place they all pass.
 */
class ScrubbingWebClient extends WebClient {
  readonly #scrub: Scrubber;

  constructor(token: string, options: WebClientOptions, scrub: Scrubber) {
    super(token, options);
    this.#scrub = scrub;
  }

  override apiCall(method: string, options?: Record<string, unknown>): Promise<WebAPICallResult> {
    return super.apiCall(method, options === undefined ? options : scrubDeep(options, this.#scrub, SENT_AS_GIVEN));
  }
}

const clients = new Map<string, WebClient>();
const clientOfConfig = new WeakMap<Config, WebClient>();

/** The process's Web API client for this configuration (created on first use). */
export function slackWebClient(config: Config): WebClient {
  if (!config.SLACK_BOT_TOKEN) {
    throw new AppError('config', 'slack_not_configured', 'Slack is not configured: SLACK_BOT_TOKEN is not set.', {
      hint: 'Set SLACK_BOT_TOKEN (xoxb-…) and SLACK_SIGNING_SECRET or SLACK_APP_TOKEN; see the README.',
    });
  }
  let client = clientOfConfig.get(config);
  if (client) return client;
  const token = config.SLACK_BOT_TOKEN.reveal();
  // The secrets it scrubs are part of what makes a client the same one.
  const secrets = configSecrets(config).map((s) => s?.reveal() ?? '').join(' ');
  const key = `${config.SLACK_API_URL ?? ''} ${config.SLACK_API_TIMEOUT} ${config.SLACK_RETRY_PAUSE} ${token} ${secrets}`;
  client = clients.get(key);
  if (!client) {
    client = new ScrubbingWebClient(token, { ...slackClientOptions(config), rejectRateLimitedCalls: true }, scrubberFor(config));
    clients.set(key, client);
  }
  clientOfConfig.set(config, client);
  return client;
}

/** Seconds Slack asked us to wait, when `err` is its rate-limit answer (HTTP 429). */
export function rateLimitSeconds(err: unknown): number | undefined {
  const e = err as { code?: string; retryAfter?: number } | null;
  if (e?.code !== ErrorCode.RateLimitedError) return undefined;
  return Number.isFinite(e.retryAfter) && (e.retryAfter ?? 0) > 0 ? e.retryAfter! : 1;
}

const MAX_RATE_LIMIT_WAIT_MS = 60_000;

/**
 * Runs a Web API call, waiting out up to `retries` rate limits (each at most a minute): for the
 * posters that have no queue of their own (an incident thread, a change request, a summary).
 */
export async function waitOutRateLimits<T>(call: () => Promise<T>, opts: { retries?: number; sleep?: (ms: number) => Promise<void> } = {}): Promise<T> {
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  for (let attempt = 0; ; attempt += 1) {
    try {
      return await call();
    } catch (err) {
      const seconds = rateLimitSeconds(err);
      if (seconds === undefined || attempt >= (opts.retries ?? 2) || seconds * 1000 > MAX_RATE_LIMIT_WAIT_MS) throw err;
      await sleep(seconds * 1000);
    }
  }
}
