// Owns fetching our whole trade history from the exchange for reconciliation: page after page
// (Kraken: 50 a page, by offset) paced by the adapter's rate limiter, backing off and retrying
// when Kraken answers with a retryable error (rate limit, nonce, unavailable, timeout), and
// de-duplicating trades that shift between pages while new ones arrive.
import { isAppError } from '../../errors.js';
import { cannotConnect } from '../../exchange/errors.js';
import type { Exchange, ExchangeTrade } from '../../exchange/types.js';
import { retry, type Backoff } from '../../retry.js';

export interface FetchProgress {
  pages: number;
  fetched: number;
  /** The exchange's total, when it reports one. */
  total: number | undefined;
  retries: number;
}

export interface FetchTradesOptions {
  since?: Date;
  onProgress?: (p: FetchProgress) => void;
  /** How long to wait before retry n (1-based). Default: 1 s, 2 s, 4 s, 8 s, 16 s. */
  backoffMs?: (attempt: number) => number;
  maxRetries?: number;
  /**
   * Retries when the first call found no way to the exchange at all (connection refused, host name
   * not resolving: cannotConnect). Default: maxRetries, as for any retryable failure. The audit
   * sets 1, so an operator hears at once that Kraken cannot be reached.
   */
  unreachableRetries?: number;
  /** Told of every failed call, and whether it is asked again. */
  onFailure?: (err: unknown, info: { attempt: number; willRetry: boolean }) => void;
  sleep?: (ms: number) => Promise<void>;
  /** Safety stop for a runaway history. */
  maxPages?: number;
}

/** 1 s, 2 s, 4 s, 8 s, 16 s. */
const RETRY_BACKOFF: Backoff = { baseMs: 1000 };

export async function fetchAllTrades(exchange: Exchange, opts: FetchTradesOptions = {}): Promise<{ trades: ExchangeTrade[]; progress: FetchProgress }> {
  const maxRetries = opts.maxRetries ?? 5;
  const maxPages = opts.maxPages ?? 10_000;
  const seen = new Map<string, ExchangeTrade>();
  const progress: FetchProgress = { pages: 0, fetched: 0, total: undefined, retries: 0 };
  const unreachableRetries = opts.unreachableRetries ?? maxRetries;
  let unreachable = 0;
  let cursor: string | undefined;
  do {
    const page = await retry(() => exchange.fetchMyTrades({ ...(opts.since ? { since: opts.since } : {}), ...(cursor !== undefined ? { cursor } : {}) }), {
      attempts: maxRetries + 1,
      backoff: opts.backoffMs ?? RETRY_BACKOFF,
      retryable: (err) => isAppError(err, 'retryable') && !(progress.pages === 0 && cannotConnect(err) && ++unreachable > unreachableRetries),
      onFailure: (err, info) => {
        if (info.willRetry) progress.retries += 1;
        opts.onFailure?.(err, info);
      },
      ...(opts.sleep ? { sleep: opts.sleep } : {}),
    });
    for (const t of page.trades) seen.set(t.id, t);
    progress.pages += 1;
    progress.fetched = seen.size;
    progress.total = page.total;
    cursor = page.next;
    opts.onProgress?.({ ...progress });
  } while (cursor !== undefined && progress.pages < maxPages);
  return { trades: [...seen.values()], progress };
}
