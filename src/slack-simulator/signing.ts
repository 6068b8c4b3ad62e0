// Signs a request the way Slack signs what it sends to an app: `v0=` + HMAC-SHA256 of
// `v0:<timestamp>:<raw body>` with the app's signing secret (api.slack.com/authentication/verifying-requests-from-slack).
import { createHash, createHmac } from 'node:crypto';

export function slackSignature(secret: string, timestampSec: number, rawBody: string): string {
  return `v0=${createHmac('sha256', secret).update(`v0:${timestampSec}:${rawBody}`).digest('hex')}`;
}

/** The two headers Slack sends with every request, for `rawBody` signed now (or at `timestampSec`). */
export function signedHeaders(secret: string, rawBody: string, timestampSec = Math.floor(Date.now() / 1000)): Record<string, string> {
  return {
    'x-slack-request-timestamp': String(timestampSec),
    'x-slack-signature': slackSignature(secret, timestampSec, rawBody),
  };
}

/**
 * What the stand-in keeps of a bot token it was called with, and shows unauthenticated on
 * GET /_standin/messages: a short SHA-256 prefix, from which the token cannot be read back.
 */
export function tokenFingerprint(token: string): string {
  return createHash('sha256').update(token).digest('hex').slice(0, 16);
}
