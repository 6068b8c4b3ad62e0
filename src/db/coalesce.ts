// Owns coalescing one-row writes into one statement: rows issued in the same turn of the event
// loop always, and under load the rows issued within a short window. Under a burst of Slack commands
// each claimed its delivery and wrote its trail row in a statement of its own (a round trip and a
// commit each); rows issued together now share one. Busy — rows arriving on average less than half
// `busyWindowMs` apart, so that waiting gathers more than one — a row waits out the rest of the window
// since the last statement and shares the next with every row issued meanwhile (group commit).
// Otherwise a row goes at once: a lone command never waits, nor does a steady trickle that waiting
// would not batch (each row would only wait out the window on its own).
// Every caller still awaits its own row: nothing runs on a claim before the claim is written, and a
// trail row is written before the reply goes out, as before. A failed statement of several rows is
// retried row by row, so one row the database refuses fails only its own caller.
// A statement of several rows resumes all its callers when it returns; with `handBackOnePerTurn`
// they get their outcomes one per turn of the event loop instead (in order, an immediate apart), so
// what each caller does next — a Slack command's listener after its claim, its reply after its trail
// row — does not run back to back with the others' while a request that arrived meanwhile waits to
// be read: that request waits for one caller's work at most, not for the batch's.
/**
 * The window the Slack claims and the command trail use: at a steady 300 commands a second about
 * six rows share a statement, and a command's reply waits at most this long more for each of the
 * two (bench/slack-ack.ts prints the replies' times); below 100 a second (rows 10 ms apart or more)
 * nothing waits. A human reading a reply does not see 20 ms; Slack's own round trip is longer.
 */
export const BUSY_WINDOW_MS = 20;

export interface CoalescerOptions {
  /** After a statement, how long rows wait to share the next one (0: only rows of the same turn). */
  busyWindowMs?: number;
  /** Milliseconds, monotonic (tests). */
  now?: () => number;
  /** Hand outcomes (and failures) back one per turn of the event loop, shared by every coalescer that asks. */
  handBackOnePerTurn?: boolean;
}

/**
 * Runs the functions given one per turn of the event loop, first given first: each in its own check
 * phase (setImmediate), so the I/O phase between two of them reads what arrived meanwhile.
 */
class OnePerTurn {
  #queue: Array<() => void> = [];
  #scheduled = false;

  push(fn: () => void): void {
    this.#queue.push(fn);
    if (this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(this.#run);
  }

  readonly #run = (): void => {
    const fn = this.#queue.shift()!;
    if (this.#queue.length > 0) setImmediate(this.#run);
    else this.#scheduled = false;
    fn();
  };
}

/** One queue for every coalescer that hands back one per turn: two batches returning together still take turns. */
const onePerTurn = new OnePerTurn();

export class Coalescer<I, O> {
  #pending: Array<{ item: I; resolve(out: O): void; reject(err: unknown): void }> = [];
  #scheduled = false;
  #lastFlush = Number.NEGATIVE_INFINITY;
  #lastAdd: number | undefined;
  /** Mean time between rows, over about the last eight (a moving average). */
  #gap = Number.POSITIVE_INFINITY;
  readonly #windowMs: number;
  readonly #now: () => number;
  readonly #handBack: (fn: () => void) => void;

  /** `write` gets the rows in order and returns one outcome per row, in the same order. */
  constructor(
    private readonly write: (items: I[]) => Promise<O[]>,
    opts: CoalescerOptions = {},
  ) {
    this.#windowMs = opts.busyWindowMs ?? 0;
    this.#now = opts.now ?? (() => performance.now());
    this.#handBack = opts.handBackOnePerTurn ? (fn) => onePerTurn.push(fn) : (fn) => fn();
  }

  add(item: I): Promise<O> {
    const now = this.#now();
    if (this.#lastAdd !== undefined) {
      const gap = now - this.#lastAdd;
      this.#gap = this.#gap === Number.POSITIVE_INFINITY ? gap : this.#gap + (gap - this.#gap) / 8;
    }
    this.#lastAdd = now;
    return new Promise<O>((resolve, reject) => {
      this.#pending.push({ item, resolve, reject });
      if (this.#scheduled) return;
      this.#scheduled = true;
      const busy = this.#gap < this.#windowMs / 2;
      const wait = busy ? this.#lastFlush + this.#windowMs - now : 0;
      // Busy: the rest of the window after the last statement. Otherwise after this turn's I/O
      // callbacks, so the rows they issue go in the same statement.
      if (wait > 0) setTimeout(() => this.#flush(), wait);
      else setImmediate(() => this.#flush());
    });
  }

  #flush(): void {
    this.#scheduled = false;
    this.#lastFlush = this.#now();
    const batch = this.#pending;
    this.#pending = [];
    const handBack = this.#handBack;
    this.write(batch.map((b) => b.item)).then(
      (outs) => batch.forEach((b, i) => handBack(() => b.resolve(outs[i]!))),
      (err: unknown) => {
        if (batch.length === 1) return handBack(() => batch[0]!.reject(err));
        for (const b of batch) {
          this.write([b.item]).then(
            (outs) => handBack(() => b.resolve(outs[0]!)),
            (e: unknown) => handBack(() => b.reject(e)),
          );
        }
      },
    );
  }
}

/** One coalescer per database handle (a transaction or another database gets its own). */
export function perDatabase<D extends object, I, O>(write: (db: D, items: I[]) => Promise<O[]>, opts: CoalescerOptions = {}): (db: D, item: I) => Promise<O> {
  const coalescers = new WeakMap<D, Coalescer<I, O>>();
  return (db, item) => {
    let c = coalescers.get(db);
    if (!c) {
      c = new Coalescer<I, O>((items) => write(db, items), opts);
      coalescers.set(db, c);
    }
    return c.add(item);
  };
}
