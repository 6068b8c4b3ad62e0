// Owns how long one audit run waits for a Kraken that does not answer: once a call got no answer at
// all (a timeout after KRAKEN_REQUEST_TIMEOUT, a refused or blocked connection, a name that does not
// resolve) before Kraken answered anything in this run, every later Kraken call of the same run fails
// at once with that reason instead of waiting again. The checks run one after another (Kraken's rate
// limit is per key) and the reconciliation retries, so a Kraken that never answered cost a run half a
// minute (a blocked port) to a minute and a half (a timeout) before it said so.
import { ExchangeError, unreachableReason } from '../../../exchange/errors.js';
import type { Exchange } from '../../../exchange/types.js';

/** A Kraken call this audit did not make: an earlier one got no answer. Not retryable: nothing waits for it. */
export class KrakenNotAskedError extends ExchangeError {
  constructor(readonly first: ExchangeError) {
    // The first failure's code (network, timeout) and cause: unreachableReason reads it as that failure.
    super('conflict', first.code, `not asked: Kraken did not answer an earlier call of this audit (${first.message})`, { cause: first.cause ?? first });
    this.name = 'KrakenNotAskedError';
  }
}

export class KrakenReach {
  #first: ExchangeError | null = null;
  /** Kraken answered a call of this run: a later call without an answer is a hiccup, retried as usual. */
  #answered = false;

  /** The call, unless Kraken already did not answer in this run; a call that gets no answer sets that. */
  async call<T>(work: () => Promise<T>): Promise<T> {
    if (this.#first) throw new KrakenNotAskedError(this.#first);
    try {
      const answer = await work();
      this.#answered = true;
      return answer;
    } catch (err) {
      if (!this.#answered && err instanceof ExchangeError && unreachableReason(err) !== null) this.#first = err;
      else if (unreachableReason(err) === null) this.#answered = true;
      throw err;
    }
  }

  /** The exchange with every request going through call(); watchExecutions (no request) passes as is. */
  exchange(inner: Exchange): Exchange {
    return new Proxy(inner, {
      get: (target, prop, receiver) => {
        const value: unknown = Reflect.get(target, prop, receiver);
        if (typeof value !== 'function' || prop === 'watchExecutions') return value;
        return (...args: unknown[]) => this.call(() => (value as (...a: unknown[]) => Promise<unknown>).apply(target, args));
      },
    });
  }
}
