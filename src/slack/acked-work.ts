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
// Aged: an item may say how old it may be when its turn comes (shed-policy.ts, staleAfterMs); one
// older is not started but dropped (its `drop` says what that means), taking no slot. The age is
// read on the injected clock, from the moment the item was queued, and given to the work so that it
// can ask again after its own waits (the delivery's claim, deliveries.ts).
import { systemClock, type Clock } from '../clock.js';

export interface AckedWorkOptions {
  /** Work items started and not yet finished (or past their lease) at once. */
  concurrency: number;
  /** After this long a running item stops counting against the concurrency. */
  leaseMs: number;
  /** Items pending at most (waiting, or started and not finished): `full` once reached. */
  limit: number;
  /** Called with anything a work item throws (items handle their own errors; this is the backstop). */
  onError(err: unknown): void;
  /** Where items' ages are read (default: the system clock). */
  clock?: Clock;
}

/** How old an item may be when its turn comes, and what is done instead of it past that. */
export interface Staleness {
  /** Not started once this many milliseconds passed since it was queued. */
  afterMs: number;
  /** Called in place of the work, with its age (a throw or rejection reaches onError). */
  drop(ageMs: number): Promise<void> | void;
}

/** The work of an item: `ageMs()` is how long ago it was queued, on the queue's clock. */
export type AckedTask = (ageMs: () => number) => Promise<void>;

interface Item {
  task: AckedTask;
  queuedAt: number;
  stale: Staleness | undefined;
}

export class AckedWork {
  readonly #opts: AckedWorkOptions;
  readonly #queue = new Fifo<Item>();
  readonly #clock: Clock;
  #active = 0;
  /** Waiting, or started and not finished (past its lease too). */
  #pending = 0;
  readonly #pumping = new NextTurn(() => this.#pump());

  constructor(opts: AckedWorkOptions) {
    this.#opts = opts;
    this.#clock = opts.clock ?? systemClock;
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

  /**
   * Queues `task` (whether full or not: the caller asks `full` first, and may let an item through past
   * it); with `stale`, dropped instead of started once older than it allows.
   */
  run(task: AckedTask, stale?: Staleness): void {
    this.#pending += 1;
    this.#queue.push({ task, queuedAt: this.#clock.now().getTime(), stale });
    this.#pumping.request();
  }

  #pump(): void {
    while (this.#active < this.#opts.concurrency && this.#queue.size > 0) {
      const item = this.#queue.shift()!;
      const age = this.#clock.now().getTime() - item.queuedAt;
      if (item.stale && age > item.stale.afterMs) this.#drop(item.stale, age);
      else this.#start(item);
    }
  }

  #drop(stale: Staleness, age: number): void {
    this.#pending -= 1;
    try {
      void Promise.resolve(stale.drop(age)).catch((err: unknown) => this.#opts.onError(err));
    } catch (err) {
      this.#opts.onError(err);
    }
  }

  #start(item: Item): void {
    this.#active += 1;
    // A slot record and inline arrows, not a named `release` arrow made per item: under the build's
    // keepNames each named arrow costs a runtime call as it is made (src/logger.ts, deferredLogger).
    const slot: Slot = { released: false, lease: undefined };
    slot.lease = setTimeout(() => this.#release(slot), this.#opts.leaseMs);
    slot.lease.unref();
    item.task(() => this.#clock.now().getTime() - item.queuedAt)
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
