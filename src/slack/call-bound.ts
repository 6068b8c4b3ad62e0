// Owns how long one Web API call can take under the settings (web-client.ts's retry policy), without
// loading the client: what a caller that must finish before a deadline (a claim going stale) plans with.
import type { Config } from '../config/env.js';

/** A failed call is retried twice (three tries); one that timed out is not retried. */
export const SLACK_CALL_RETRIES = 2;

/** The longest pause between two tries. */
export function slackRetryPauseMaxMs(pauseMs: number): number {
  return Math.max(2_000, 2 * pauseMs);
}

/** The longest one call can take: every try running to SLACK_API_TIMEOUT, and the longest pauses between them. */
export function slackCallMaxMs(config: Pick<Config, 'SLACK_API_TIMEOUT' | 'SLACK_RETRY_PAUSE'>): number {
  const tries = SLACK_CALL_RETRIES + 1;
  return tries * config.SLACK_API_TIMEOUT + SLACK_CALL_RETRIES * slackRetryPauseMaxMs(config.SLACK_RETRY_PAUSE);
}
