// Owns the head start of a kill in a fresh process (`ctb kill`): Kraken's CancelAll is sent before
// the database is even opened — and before ccxt is loaded (exchange/kraken/direct-cancel-all.ts) —
// and the kill's own first cancel-all is that very call, so the kill reports what Kraken answered
// to it instead of sending a second one and losing the count. An early call that failed in any other
// way than Kraken's rate limit is sent again through the full client when the kill asks (CancelAll is
// idempotent), so its error is named there.
// Also the client for the cancel a shell can still make when the halt cannot be recorded at all (no
// usable DATABASE_URL or DATA_DIR). Both are built before any context exists, so they take the
// configuration and a logger, nothing more.
import type { Config } from '../../config/env.js';
import { createKrakenExchange } from '../../exchange/kraken/create.js';
import { cancelAllDirect, CancelAllRefused } from '../../exchange/kraken/direct-cancel-all.js';
import type { Exchange } from '../../exchange/types.js';
import { krakenUnreachable } from '../../exchange/errors.js';
import { urgently } from '../../exchange/urgency.js';
import { DeadlineError, describeError, withDeadline } from './deadline.js';
import type { Logger } from '../../logger.js';
import { refusedForRateLimit } from './kraken-room.js';

/**
 * Kraken's client with its CancelAll already sent (urgent lane); undefined without a key. Throws when
 * the client cannot be built. Aborting `abandon` gives up every call of it still open, the early
 * CancelAll included, and sends none after: the shell's kill does so once it has answered.
 */
export function krakenWithEarlyCancel(config: Config, logger: Logger, abandon?: AbortSignal): Exchange | undefined {
  if (!config.KRAKEN_API_KEY || !config.KRAKEN_API_SECRET) return undefined;
  return withEarlyCancel(createKrakenExchange(config, { logger, armed: config.IS_LIVE, ...(abandon ? { abandon } : {}) }), () => cancelAllDirect(config, undefined, abandon));
}

/**
 * Kraken's client for the cancel alone, when nothing can be recorded (no usable DATABASE_URL or
 * DATA_DIR): the kill's rounds run on it (cancel-on-kraken-alone.ts). Aborting `abandon` gives up its
 * calls still open once the shell has answered.
 */
export function krakenForCancelOnly(config: Config, logger: Logger, abandon?: AbortSignal): Exchange {
  return createKrakenExchange(config, { logger, armed: false, ...(abandon ? { abandon } : {}) });
}

/**
 * What became of a cancel a shell waited on for a bounded time: Kraken's count and how many are still
 * open (null: the confirming look did not answer in time), its failure, or no answer within `withinMs`.
 */
export type BoundedCancel = { canceled: number; open: number | null; earlierAnswerLost?: true } | { error: string } | { unansweredMs: number };

/**
 * cancelAndCount, waited on for `withinMs` at most — one call's deadline (KILL_CALL_TIMEOUT) unless given (the cancel and
 * its confirming look together, the look given at least a second): for a kill that failed before it
 * could report Kraken's answer.
 */
export async function cancelAndCountWithin(kraken: Exchange, config: Pick<Config, 'KRAKEN_API_URL' | 'KILL_CALL_TIMEOUT'>, withinMs = config.KILL_CALL_TIMEOUT): Promise<BoundedCancel> {
  const until = Date.now() + withinMs;
  let cancelled: { canceled: number; earlierAnswerLost?: boolean };
  try {
    cancelled = await withDeadline(urgently(() => kraken.cancelAllOrders()), withinMs, 'Kraken');
  } catch (err) {
    return err instanceof DeadlineError ? { unansweredMs: withinMs } : { error: krakenFailure(err, config) };
  }
  const lost = cancelled.earlierAnswerLost ? { earlierAnswerLost: true as const } : {};
  try {
    const open = await withDeadline(urgently(() => kraken.fetchOpenOrders()), Math.max(1_000, until - Date.now()), 'Kraken');
    return { canceled: cancelled.canceled, open: open.length, ...lost };
  } catch {
    return { canceled: cancelled.canceled, open: null, ...lost };
  }
}

/** Why a cancel on Kraken failed, for a shell's reply: Kraken not reached said with its address and cause (the shared describer). */
export function krakenFailure(err: unknown, config: Pick<Config, 'KRAKEN_API_URL'>): string {
  return krakenUnreachable(err, config.KRAKEN_API_URL ?? 'https://api.kraken.com') ?? describeError(err);
}

/**
 * Whether the early CancelAll that failed so may still have run at Kraken: anything but Kraken's own
 * error answer (CancelAllRefused) or a connection that could not be made.
 */
function earlyAnswerLost(err: unknown): boolean {
  if (err instanceof CancelAllRefused) return false;
  return !cannotConnectDirect(err);
}

const NO_CONNECTION = /\b(?:ECONNREFUSED|ENOTFOUND|EAI_AGAIN)\b/;

/** fetch's failure to connect at all (refused, the host not resolving): the request never left. */
function cannotConnectDirect(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    if (NO_CONNECTION.test(e.message) || NO_CONNECTION.test(String((e as { code?: unknown }).code ?? ''))) return true;
  }
  return false;
}

export function withEarlyCancel(inner: Exchange, sendEarly?: () => Promise<{ canceled: number }>): Exchange {
  let early: Promise<{ canceled: number }> | null = urgently(sendEarly ?? (() => inner.cancelAllOrders()));
  // Consumed by the kill's first cancel; a failure is reported there (and retried by its next round).
  early.catch(() => {});
  return new Proxy(inner, {
    get(target, prop, receiver) {
      if (prop === 'cancelAllOrders') {
        return () => {
          const first = early;
          early = null;
          if (!first) return target.cancelAllOrders();
          // Not when Kraken refused it for the key's rate limit: sent again at once it would be refused
          // too and keep the counter full; the kill's next round waits for room (kraken-room.ts).
          // Sent again when it failed: a first one whose answer was lost (not Kraken's own refusal,
          // not a connection never made) may have cancelled orders the second cannot count.
          return sendEarly ? first.catch(async (err: unknown) => {
            if (refusedForRateLimit(err)) throw err;
            const again = await urgently(() => target.cancelAllOrders());
            return earlyAnswerLost(err) ? { ...again, earlierAnswerLost: true } : again;
          }) : first;
        };
      }
      const value = Reflect.get(target, prop, receiver) as unknown;
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}
