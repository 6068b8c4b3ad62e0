// Owns when the work behind an acked Slack request runs. The ack goes out first (deliveries.ts);
// the work is queued here and started a few at a time, each start deferred past the event loop's
// I/O phase (setImmediate), so a burst of slash commands cannot keep the next requests' acks
// waiting behind database round trips and replies. A slot is held until the work finishes or for
// `leaseMs`, whichever comes first: a slow audit that mostly waits on the exchange never blocks the
// commands behind it for longer than that. Order of starts is arrival order.
// Bounded: at most `limit` items are pending — waiting for a slot, or started and not finished (one
// past its lease included: a stalled database keeps them running) — so a flood cannot grow it without
// end; the caller compares `pending` with its thresholds before it acks and turns the request away
// (deliveries.ts, shed-policy.ts).
export interface AckedWorkOptions {
  /** Work items started and not yet finished (or past their lease) at once. */
  concurrency: number;
  /** After this long a running item stops counting against the concurrency. */
  leaseMs: number;
  /** Items pending at most (waiting, or started and not finished): `full` once reached. */
  limit: number;
  /** Called with anything a work item throws (items handle their own errors; this is the backstop). */
  onError(err: unknown): void;
}

export class AckedWork {
  readonly #opts: AckedWorkOptions;
  readonly #queue = new Fifo<() => Promise<void>>();
  #active = 0;
  /** Waiting, or started and not finished (past its lease too). */
  #pending = 0;
  readonly #pumping = new NextTurn(() => this.#pump());

  constructor(opts: AckedWorkOptions) {
    this.#opts = opts;
  }

  /** Items waiting for a slot. */
  get waiting(): number {
    return this.#queue.size;
  }

  /** Items waiting or started and not finished. */
  get pending(): number {
    return this.#pending;
  }

  /** No room for another item: the caller turns it away rather than queue it. */
  get full(): boolean {
    return this.#pending >= this.#opts.limit;
  }

  /** Queues `task` (whether full or not: the caller asks `full` first, and may let an item through past it). */
  run(task: () => Promise<void>): void {
    this.#pending += 1;
    this.#queue.push(task);
    this.#pumping.request();
  }

  #pump(): void {
    while (this.#active < this.#opts.concurrency && this.#queue.size > 0) this.#start(this.#queue.shift()!);
  }

  #start(task: () => Promise<void>): void {
    this.#active += 1;
    // A slot record and inline arrows, not a named `release` arrow made per item: under the build's
    // keepNames each named arrow costs a runtime call as it is made (src/logger.ts, deferredLogger).
    const slot: Slot = { released: false, lease: undefined };
    slot.lease = setTimeout(() => this.#release(slot), this.#opts.leaseMs);
    slot.lease.unref();
    task()
      .catch((err: unknown) => this.#opts.onError(err))
      .finally(() => {
        this.#pending -= 1;
        this.#release(slot);
      });
  }

  #release(slot: Slot): void {
    if (slot.released) return;
    slot.released = true;
    clearTimeout(slot.lease);
    this.#active -= 1;
    if (this.waiting > 0) this.#pumping.request();
  }
}

/** A started item's hold on a slot: given back once, when the item finishes or its lease runs out. */
interface Slot {
  released: boolean;
  lease: NodeJS.Timeout | undefined;
}

/** Runs `run` once in the next check phase (setImmediate), however often it is requested before then. */
class NextTurn {
  #scheduled = false;
  constructor(private readonly run: () => void) {}

  request(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      this.run();
    });
  }
}

/** A first-in first-out queue that takes from the front without shifting the array each time. */
class Fifo<T> {
  #items: Array<T | undefined> = [];
  #head = 0;

  get size(): number {
    return this.#items.length - this.#head;
  }

  push(item: T): void {
    this.#items.push(item);
  }

  shift(): T | undefined {
    if (this.#head === this.#items.length) return undefined;
    const item = this.#items[this.#head];
    this.#items[this.#head] = undefined;
    this.#head += 1;
    if (this.#head === this.#items.length) {
      this.#items = [];
      this.#head = 0;
    } else if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
    return item;
  }
}
