// Owns how the bot talks to Slack's Web API: one WebClient factory with SLACK_API_URL honoured
// (staging and tests point it at a local fake) and a retry policy chosen on purpose: a short one,
// because the alert outbox retries undelivered messages itself and a 30-minute in-client retry
// would hold a worker and hide an outage.
import { LogLevel, WebClient, type RetryOptions } from '@slack/web-api';
import type { Config } from '../config/env.js';
import { AppError } from '../errors.js';

export const SLACK_RETRY_POLICY: RetryOptions = { retries: 2, factor: 2, minTimeout: 200, maxTimeout: 2_000 };

export function createSlackWebClient(config: Config, opts: { retries?: RetryOptions; rejectRateLimitedCalls?: boolean } = {}): WebClient {
  if (!config.SLACK_BOT_TOKEN) {
    throw new AppError('config', 'slack_not_configured', 'Slack is not configured: SLACK_BOT_TOKEN is not set.', {
      hint: 'Set SLACK_BOT_TOKEN (xoxb-…) and SLACK_SIGNING_SECRET or SLACK_APP_TOKEN; see the README.',
    });
  }
  return new WebClient(config.SLACK_BOT_TOKEN.reveal(), {
    ...(config.SLACK_API_URL ? { slackApiUrl: config.SLACK_API_URL } : {}),
    retryConfig: opts.retries ?? SLACK_RETRY_POLICY,
    // The alert queue handles 429s with Retry-After itself; it asks for the error instead of a wait.
    rejectRateLimitedCalls: opts.rejectRateLimitedCalls ?? false,
    logLevel: LogLevel.ERROR,
  });
}
