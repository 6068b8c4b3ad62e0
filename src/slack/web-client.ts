// Owns how the bot talks to Slack's Web API: one WebClient per process (per workspace token and
// SLACK_API_URL; staging and tests point it at a local fake), shared by the notifier (alerts, the
// incident thread, the live switch, the summaries), the start-up identity check and Bolt's
// listeners (create-app.ts gives it to the app).
// The retry policy is chosen on purpose: a short one, because the alert outbox retries undelivered
// messages itself and a 30-minute in-client retry would hold a worker and hide an outage. A 429 is
// returned as an error, never slept on inside the client: the alert queue closes the lane for
// Retry-After; the other messages (and the listeners' replies) wait it out through waitOutRateLimits.
import { ErrorCode, LogLevel, WebClient, type RetryOptions } from '@slack/web-api';
import type { Config } from '../config/env.js';
import { AppError } from '../errors.js';

export const SLACK_RETRY_POLICY: RetryOptions = { retries: 2, factor: 2, minTimeout: 200, maxTimeout: 2_000 };

const clients = new Map<string, WebClient>();

/** The process's Web API client for this configuration (created on first use). */
export function slackWebClient(config: Config): WebClient {
  if (!config.SLACK_BOT_TOKEN) {
    throw new AppError('config', 'slack_not_configured', 'Slack is not configured: SLACK_BOT_TOKEN is not set.', {
      hint: 'Set SLACK_BOT_TOKEN (xoxb-…) and SLACK_SIGNING_SECRET or SLACK_APP_TOKEN; see the README.',
    });
  }
  const token = config.SLACK_BOT_TOKEN.reveal();
  const key = `${config.SLACK_API_URL ?? ''} ${token}`;
  let client = clients.get(key);
  if (!client) {
    client = new WebClient(token, {
      ...(config.SLACK_API_URL ? { slackApiUrl: config.SLACK_API_URL } : {}),
      retryConfig: SLACK_RETRY_POLICY,
      rejectRateLimitedCalls: true,
      logLevel: LogLevel.ERROR,
    });
    clients.set(key, client);
  }
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
