// Owns which failed Kraken calls the adapter sends again by itself, and after how long. Two only,
// both answers that say Kraken did nothing with the request:
//
// - `EAPI:Invalid nonce`, on any private call, AddOrder included. Kraken checks the nonce while
//   authenticating the request (docs.kraken.com, REST authentication: the nonce must increase for
//   each request made with a key; errors guide: "the nonce submitted is less than or equal to the last
//   accepted nonce for this API key", listed with the authentication errors), so a refused nonce means
//   the request was refused before anything ran: no order, no cancel, no dead-man timer. Sent again, it is
//   signed again, with a fresh, higher nonce (nonce.ts). What causes it here is another process using
//   the same key (the bot, its web and worker, an operator's `ctb`) whose higher nonce reached
//   Kraken first; the next nonce from our clock is past it. Kraken counts refused nonces towards a
//   temporary lockout, so the retries are few and short, and only for Kraken's own JSON answer (HTTP 200).
// - `EAPI:Rate limit exceeded` on a read, when the caller asks for it (the operator's shell): the
//   key's call counter is shared with every process using the key and decays with time (Starter
//   0.33 a second), so the read waits for room and asks again, a bounded number of times, telling the
//   caller each wait. Never an order-changing call: those are the engine's and the kill's to decide.
import { AppError } from '../../errors.js';
import { ExchangeError } from '../errors.js';
import { callCost, counterRoomMs, type KrakenTier } from './rate-limiter.js';
import { backoffDelay } from '../../retry.js';

/** The waits before the retries of a call refused for its nonce: two retries, then the error. */
export const NONCE_RETRY_WAITS_MS = [100, 500] as const;

/** How many times a rate-limited read is asked again. */
export const RATE_LIMIT_RETRIES = 3;

export interface RateLimitWait {
  endpoint: string;
  waitMs: number;
  /** 1-based retry number, of `of`. */
  retry: number;
  of: number;
}

/**
 * The error once the nonce retries are spent: Kraken refused a fresh nonce every time, each not above
 * the last one it took for the key — not a passing collision. Why, this process cannot tell: the hint
 * names the likely causes, most likely first (Kraken's docs put clock skew first): this host's clock
 * behind (our nonces are its milliseconds, nonce.ts), the key shared with another process or host, a
 * key used before with larger nonces. Retrying fixes none of them. Nothing of the key in it.
 */
export function nonceStillRefused(err: ExchangeError, endpoint: string, tries: number): ExchangeError {
  return new ExchangeError('retryable', 'invalid_nonce',
    `Kraken ${endpoint} failed: EAPI:Invalid nonce, ${tries} times in a row, each with a fresh nonce: Kraken has taken a larger nonce for this API key than this machine makes now (nonces here are this host's clock in milliseconds).`, {
      hint: 'Likely causes, most likely first: (1) this host\'s clock is behind — check that it is synchronised (e.g. `timedatectl`); '
        + '(2) the key is shared with another process or host (the bot, its web or worker, an operator\'s ctb, a second bot, another machine '
        + 'whose clock runs ahead) — give each its own key; a nonce window on the key (Settings → API → the key) absorbs only an occasional '
        + 'out-of-order nonce; (3) the key was used before with larger nonces (another tool\'s microseconds), which leaves it ahead for good — '
        + 'create a new API key at Kraken (Settings → API) and set KRAKEN_API_KEY and KRAKEN_API_SECRET to it.',
      cause: err, exchangeCode: 'EAPI:Invalid nonce',
    });
}

/** Whether Kraken itself (HTTP 200, its JSON) refused the request's nonce. */
export function refusedNonce(err: AppError, httpStatus: number | undefined): boolean {
  return err instanceof ExchangeError && err.code === 'invalid_nonce' && err.exchangeCode === 'EAPI:Invalid nonce' && httpStatus === 200;
}

/** Whether Kraken refused a call because the key's REST call counter is full. */
export function rateLimited(err: AppError): boolean {
  return err instanceof ExchangeError && err.exchangeCode === 'EAPI:Rate limit exceeded';
}

/**
 * The wait before rate-limit retry `retry` (1-based): the time the tier's counter takes to make room
 * for this call, doubled each retry (Starter, a 1-point call: 3 s, 6 s, 12 s — 21 s in all).
 */
export function rateLimitWaitMs(tier: KrakenTier, endpoint: string, retry: number): number {
  return backoffDelay({ baseMs: counterRoomMs(tier, Math.max(1, callCost('private', endpoint))) }, retry);
}

/** The error once the rate-limit retries are spent: what happened and what to do. */
export function stillRateLimited(err: ExchangeError, endpoint: string, waitedMs: number): ExchangeError {
  return new ExchangeError('retryable', 'rate_limited',
    `Kraken ${endpoint} failed: EAPI:Rate limit exceeded, still after waiting ${Math.round(waitedMs / 1000)} s for the API key's call counter to fall.`, {
      hint: 'The counter is shared by every process using this key (the running bot counts on it too): wait a minute and run the command again. ' +
        'KRAKEN_RATE_TIER must match the account\'s verification tier.',
      cause: err, exchangeCode: 'EAPI:Rate limit exceeded',
    });
}
