// Owns how the engine says it backs off after transient market/exchange trouble: one line per backoff
// naming what failed, how many tries in a row have failed, and when the next one is. The error's stack
// is written once per distinct reason (the first time it is seen) and otherwise only at debug level:
// a feed that never answers backs off every few seconds for as long as it lasts, and a ~26-line stack
// each time buried everything else on a terminal.
import type { Logger } from '../logger.js';

/** The head of an error's message, before what it quotes from its cause: the line's reason. */
export function shortReason(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  const head = message.split(': ')[0] ?? message;
  return head.length > 120 ? `${head.slice(0, 119)}…` : head;
}

export class BackoffLog {
  readonly #stackWritten = new Set<string>();

  constructor(private readonly logger: Logger) {}

  /** One warn line for this backoff: `failures` tries in a row have failed, the next is in `delayMs`. */
  backingOff(err: unknown, failures: number, delayMs: number): void {
    const reason = shortReason(err);
    const code = (err as { code?: unknown })?.code;
    const fields = {
      failures, delayMs, // The wait is wall time whatever clock the engine books by (a replay moves its own).
      retryAt: new Date(Date.now() + delayMs).toISOString(),
      ...(typeof code === 'string' ? { code } : {}),
    };
    const msg = `transient market/exchange trouble (${reason}): ${failures === 1 ? 'failed' : `failed ${failures} times in a row`}; next try in ${delayMs / 1000} s`;
    if (!this.#stackWritten.has(reason)) {
      this.#stackWritten.add(reason);
      this.logger.warn({ err, ...fields }, msg);
      return;
    }
    // `reason`, not `error`: a terminal prints an error-like field on lines of its own.
    this.logger.warn({ reason: err instanceof Error ? err.message : String(err), ...fields }, msg);
    this.logger.debug({ err, failures }, `the error behind backoff ${failures}`);
  }
}
