// The exchange's errors, in the project's kinds. Adapters translate at the edge; callers
// decide from the kind: retryable → back off and retry; rejected → give up this order;
// auth → halt and page; halt → stop trading now.
import { AppError, type ErrorKind } from '../errors.js';

export type ExchangeErrorKind = Extract<ErrorKind, 'retryable' | 'rejected' | 'auth' | 'halt' | 'conflict'>;

export class ExchangeError extends AppError {
  readonly exchangeCode: string | undefined;
  constructor(kind: ExchangeErrorKind, code: string, message: string, opts: { hint?: string; cause?: unknown; exchangeCode?: string } = {}) {
    super(kind, code, message, opts);
    this.name = 'ExchangeError';
    this.exchangeCode = opts.exchangeCode;
  }
}

export class LiveTradingNotArmedError extends AppError {
  constructor() {
    super('conflict', 'not_armed', 'Live trading is not armed: IS_LIVE is not true in this process.', {
      hint: 'Set IS_LIVE=true with Kraken keys and restart, then request the live switch (two approvals).',
    });
  }
}

/**
 * Codes that say the whole venue refuses for now, not that this request was wrong: Kraken's rate
 * limit, and Kraken offline or in maintenance (cancel_only, post_only). They pass by themselves.
 */
const VENUE_WIDE_CODES = new Set(['rate_limited', 'exchange_unavailable', 'exchange_maintenance']);

/** The venue-wide, passing reason (rate_limited, exchange_unavailable, exchange_maintenance) in an error or its causes, if any. */
export function venueWideRefusal(err: unknown): string | null {
  for (let e = err, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    if (e instanceof AppError && VENUE_WIDE_CODES.has(e.code)) return e.code;
  }
  return null;
}

/**
 * Why Kraken could not be reached — no answer came back (DNS, a refused or reset connection, a
 * timeout) — in the words of the failure itself, without the request line; null when Kraken, or
 * something in between, answered.
 */
export function unreachableReason(err: unknown): string | null {
  if (!(err instanceof ExchangeError) || (err.code !== 'network' && err.code !== 'timeout')) return null;
  const detail = err.cause instanceof Error ? err.cause.message : err.message;
  return detail.replace(/^\S+ (?:GET|POST|PUT|DELETE|PATCH) \S+ /, '').trim() || err.message;
}

/** What an operator checks when no call reached Kraken (`ctb reconcile`, `ctb balance`, the audit). */
export const KRAKEN_UNREACHABLE_CHECK = 'Check that this host can reach Kraken (KRAKEN_API_URL; DNS, firewall, proxy)';

/**
 * A call to Kraken that got no answer at all, said as such: where it was asked (`url`, the
 * KRAKEN_API_URL in use) and why no answer came (the host not resolving, the connection refused, a
 * timeout), e.g. "Could not reach Kraken at http://127.0.0.1:1/ (fetch failed: connect ECONNREFUSED
 * 127.0.0.1:1)"; null when Kraken, or something in between, answered.
 */
export function krakenUnreachable(err: unknown, url: string): string | null {
  const reason = unreachableReason(err);
  return reason === null ? null : `Could not reach Kraken at ${url} (${reason})`;
}

// A refused connection or a host name that does not resolve: nothing at that address answers now.
const NO_CONNECTION = /\b(?:ECONNREFUSED|ENOTFOUND|EAI_AGAIN)\b/;

/**
 * Whether a call found no way to Kraken at all — the connection refused, or Kraken's host name not
 * resolving — as opposed to a timeout or a dropped connection, which a moment later may not repeat.
 */
export function cannotConnect(err: unknown): boolean {
  if (!(err instanceof ExchangeError) || err.code !== 'network') return false;
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    if (NO_CONNECTION.test(e.message) || NO_CONNECTION.test(String((e as { code?: unknown }).code ?? ''))) return true;
  }
  return false;
}
