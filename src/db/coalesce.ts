// Owns coalescing one-row writes issued in the same turn of the event loop into one statement.
// Under a burst of Slack commands each claimed its delivery and wrote its trail row in a statement
// of its own (a round trip and a commit each); rows issued together now share one. Every caller
// still awaits its own row: nothing runs on a claim before the claim is written, and a trail row
// is written before the reply goes out, as before. A failed statement of several rows is retried
// row by row, so one row the database refuses fails only its own caller.
export class Coalescer<I, O> {
  #pending: Array<{ item: I; resolve(out: O): void; reject(err: unknown): void }> = [];
  #scheduled = false;

  /** `write` gets the rows in order and returns one outcome per row, in the same order. */
  constructor(private readonly write: (items: I[]) => Promise<O[]>) {}

  add(item: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.#pending.push({ item, resolve, reject });
      if (this.#scheduled) return;
      this.#scheduled = true;
      // After this turn's I/O callbacks: the rows they issue go in the same statement.
      setImmediate(() => this.#flush());
    });
  }

  #flush(): void {
    this.#scheduled = false;
    const batch = this.#pending;
    this.#pending = [];
    this.write(batch.map((b) => b.item)).then(
      (outs) => batch.forEach((b, i) => b.resolve(outs[i]!)),
      (err: unknown) => {
        if (batch.length === 1) return batch[0]!.reject(err);
        for (const b of batch) this.write([b.item]).then((outs) => b.resolve(outs[0]!), b.reject);
      },
    );
  }
}

/** One coalescer per database handle (a transaction or another database gets its own). */
export function perDatabase<D extends object, I, O>(write: (db: D, items: I[]) => Promise<O[]>): (db: D, item: I) => Promise<O> {
  const coalescers = new WeakMap<D, Coalescer<I, O>>();
  return (db, item) => {
    let c = coalescers.get(db);
    if (!c) {
      c = new Coalescer<I, O>((items) => write(db, items));
      coalescers.set(db, c);
    }
    return c.add(item);
  };
}
