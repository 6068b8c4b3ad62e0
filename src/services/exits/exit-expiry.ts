// Owns how long a confirmed exit may wait for an engine to carry it out (EXIT_REQUEST_TTL), in the
// words the engine's answer, `ctb exit`, Slack and the alert channel share: an exit no engine took in
// time is never carried out — selling at whatever the price is hours later is not what was confirmed.
import { describeDuration, formatDuration } from '../../config/duration.js';

/** The answer of an exit that waited past its TTL (how long, when known): nothing was sent. */
export function exitExpiredSummary(waitedMs: number | null, ttlMs: number): string {
  const waited = waitedMs === null ? 'it waited for an engine longer than' : `it waited ${describeDuration(waitedMs)} for an engine, longer than`;
  return `Expired: not carried out — ${waited} EXIT_REQUEST_TTL (${formatDuration(ttlMs)}): nothing was sent. Ask for the exit again if the trade should still be closed.`;
}

/** How a pending exit stands: how long it has waited, and when it expires unless an engine carries it out first. */
export function exitQueuedPhrase(waitedMs: number, ttlMs: number): string {
  const left = ttlMs - waitedMs;
  return `queued ${describeDuration(waitedMs)} ago; ${left > 0 ? `expires in ${describeDuration(left)}` : 'expired'} (EXIT_REQUEST_TTL ${formatDuration(ttlMs)}) unless an engine carries it out first, and then nothing is sold`;
}
