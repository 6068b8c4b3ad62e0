// Owns when the work behind an acked Slack request runs. The ack goes out first (deliveries.ts);
// the work is queued here and started a few at a time, each start deferred past the event loop's
// I/O phase (setImmediate), so a burst of slash commands cannot keep the next requests' acks
// waiting behind database round trips and replies. A slot is held until the work finishes or for
// `leaseMs`, whichever comes first: a slow audit that mostly waits on the exchange never blocks the
// commands behind it for longer than that. Order of starts is arrival order.
export interface AckedWorkOptions {
  /** Work items started and not yet finished (or past their lease) at once. */
  concurrency: number;
  /** After this long a running item stops counting against the concurrency. */
  leaseMs: number;
  /** Called with anything a work item throws (items handle their own errors; this is the backstop). */
  onError(err: unknown): void;
}

export class AckedWork {
  readonly #opts: AckedWorkOptions;
  #queue: Array<(() => Promise<void>) | undefined> = [];
  #head = 0;
  #active = 0;
  #scheduled = false;

  constructor(opts: AckedWorkOptions) {
    this.#opts = opts;
  }

  /** Items waiting for a slot. */
  get waiting(): number {
    return this.#queue.length - this.#head;
  }

  run(task: () => Promise<void>): void {
    this.#queue.push(task);
    this.#schedule();
  }

  #schedule(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      this.#pump();
    });
  }

  #pump(): void {
    while (this.#active < this.#opts.concurrency && this.#head < this.#queue.length) {
      const task = this.#queue[this.#head]!;
      this.#queue[this.#head] = undefined;
      this.#head += 1;
      this.#start(task);
    }
    if (this.#head > 1024 && this.#head * 2 > this.#queue.length) {
      this.#queue = this.#queue.slice(this.#head);
      this.#head = 0;
    }
  }

  #start(task: () => Promise<void>): void {
    this.#active += 1;
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      clearTimeout(lease);
      this.#active -= 1;
      if (this.waiting > 0) this.#schedule();
    };
    const lease = setTimeout(release, this.#opts.leaseMs);
    lease.unref();
    task()
      .catch((err: unknown) => this.#opts.onError(err))
      .finally(release);
  }
}

/**
 * Hands out turns one per turn of the event loop, in the order asked. Work that resumes in a batch
 * (every command whose claim shared one statement resumes when that statement returns, in one run
 * of promise callbacks) takes a turn before its listener runs, so the listeners run one per turn
 * and the I/O phase between two of them reads and acks the requests that arrived meanwhile: a new
 * request waits for at most one listener, not for the whole batch.
 */
export class Turns {
  #waiting: Array<() => void> = [];
  #head = 0;
  #scheduled = false;

  /** Resolves at this caller's turn: a later turn of the event loop than any earlier caller's. */
  take(): Promise<void> {
    return new Promise((resolve) => {
      this.#waiting.push(resolve);
      this.#schedule();
    });
  }

  #schedule(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    // Queued from the check phase, an immediate runs on the loop's next turn, after its I/O phase.
    setImmediate(() => {
      this.#scheduled = false;
      const resolve = this.#waiting[this.#head]!;
      this.#waiting[this.#head] = undefined as never;
      this.#head += 1;
      if (this.#head === this.#waiting.length) {
        this.#waiting = [];
        this.#head = 0;
      } else {
        this.#schedule();
      }
      resolve();
    });
  }
}
