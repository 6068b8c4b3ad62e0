// Owns the bot's one retry policy: exponential backoff (base · factor^(n-1), capped) and a retry
// loop over it. The sleep is injectable because callers' tests drive it (they assert the waits and
// change the world between tries); that is why this is not p-retry, whose waits are its own timers.
// Two callers only need the schedule: the alert outbox stores its next attempt in the database,
// and the engine's loop waits while keeping its heartbeat.

export interface Backoff {
  /** The wait before the first retry. */
  baseMs: number;
  /** Growth per retry (default 2). */
  factor?: number;
  /** No wait is longer than this. */
  maxMs?: number;
}

/** The wait before retry `n` (1-based): baseMs · factor^(n-1), at most maxMs. */
export function backoffDelay(backoff: Backoff, n: number): number {
  const ms = backoff.baseMs * (backoff.factor ?? 2) ** Math.max(0, n - 1);
  return Math.min(ms, backoff.maxMs ?? Number.POSITIVE_INFINITY);
}

export interface RetryOptions {
  /** Tries in all, the first included (at least 1). */
  attempts: number;
  /** The schedule, or the wait before retry n (1-based) when a caller sets its own. */
  backoff: Backoff | ((n: number) => number);
  /** Whether a failure is worth another try (default: every failure is). */
  retryable?: (err: unknown) => boolean;
  /** Told of every failure, and whether another try follows. */
  onFailure?: (err: unknown, info: { attempt: number; willRetry: boolean }) => void;
  sleep?: (ms: number) => Promise<void>;
}

const realSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Runs `work` until it succeeds or the tries run out; then rethrows the last failure. */
export async function retry<T>(work: (attempt: number) => Promise<T>, opts: RetryOptions): Promise<T> {
  const attempts = Math.max(1, opts.attempts);
  const sleep = opts.sleep ?? realSleep;
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await work(attempt);
    } catch (err) {
      const willRetry = attempt < attempts && (opts.retryable?.(err) ?? true);
      opts.onFailure?.(err, { attempt, willRetry });
      if (!willRetry) throw err;
      const { backoff } = opts;
      await sleep(typeof backoff === 'function' ? backoff(attempt) : backoffDelay(backoff, attempt));
    }
  }
}
