// Owns storing one alert that waited in memory while the database was away (sink.ts's buffer): under
// a deadline, so a database that hangs never holds the delivery tick, and idempotently, so a store
// that gave up at its deadline but committed all the same (the hung bytes went through later) is
// never stored a second time. The alert carries its own key (alert_events.raise_key, unique): the
// next try either stores it, waits for the earlier try's commit and then fails on the key, or finds
// it already stored — and then returns that stored event, as if this try had written it. Finding the
// event does not mean its direct message is tied to it: the try that committed may have run before
// the message went (sink.ts ties it then).
// A try given up at its deadline is not stopped: it keeps its pool connection until the database
// answers (or the lock it waits on goes). At most one such try is left running (LateStores): while it
// is, no other is started, so stores given up on, one per delivery tick, never take the pool from
// the kill or the engine; the next try, once it has settled, finds what it committed under the key.
import { sql } from 'drizzle-orm';
import { execute, type Db } from '../db/client.js';
import { DeadlineError, withDeadline } from '../services/kill/deadline.js';
import type { PersistResult } from './store.js';

/** The event stored under `key`, with its group, if a try of it committed. */
async function storedUnder(db: Db, key: string): Promise<PersistResult | undefined> {
  const [row] = await execute<{ group_id: number; id: number; severity: PersistResult['severity'] }>(db, sql`
    select e.group_id, e.id, g.severity from alert_events e join alert_groups g on g.id = e.group_id where e.raise_key = ${key}`);
  return row ? { groupId: Number(row.group_id), eventId: Number(row.id), newGroup: false, severity: row.severity } : undefined;
}

function isUniqueViolation(err: unknown): boolean {
  const e = err as { code?: unknown; cause?: { code?: unknown } } | null;
  return e?.code === '23505' || e?.cause?.code === '23505';
}

/** What storing a late alert came to: stored by this try, or found stored by an earlier one. */
export interface LateStore {
  result: PersistResult;
  /** An earlier try that gave up had committed it: counted and tied to its message then, not now. */
  already: boolean;
}

/**
 * Runs `store` (which writes the alert with `key`) within `ms`. A try that gave up at its deadline may
 * commit later: the next try then fails on the key (waiting for it first if it is still open, within
 * this deadline too) or finds it, and returns the stored event. Throws when the database did not take
 * it in time (the alert stays in memory and is tried again).
 */
export async function storeLateOnce(input: { db: Db; key: string; ms: number; store: () => Promise<PersistResult>; within?: Within }): Promise<LateStore> {
  const what = 'the database (storing an alert kept while it was away)';
  const within: Within = input.within ?? ((work, ms, w) => withDeadline(work(), ms, w));
  try {
    return { result: await within(input.store, input.ms, what), already: false };
  } catch (err) {
    if (!isUniqueViolation(err)) throw err;
    const found = await within(() => storedUnder(input.db, input.key), input.ms, what);
    if (!found) throw err;
    return { result: found, already: true };
  }
}

/** Runs database work under a deadline. */
export type Within = <T>(work: () => Promise<T>, ms: number, what: string) => Promise<T>;

/**
 * Late stores (and whatever else runs through `within`) given up at their deadline, at most one
 * left running at a time: while one is, `busy` is true and `within` starts nothing (it fails at
 * once, as the deadline would), so it holds one pool connection at most, not one per try.
 */
export class LateStores {
  #running: Promise<unknown> | null = null;

  /** A try given up at its deadline is still running (its connection held). */
  get busy(): boolean {
    return this.#running !== null;
  }

  readonly within: Within = async (work, ms, what) => {
    if (this.#running) throw new DeadlineError(what, ms);
    const running = work();
    try {
      return await withDeadline(running, ms, what);
    } catch (err) {
      if (err instanceof DeadlineError) {
        const settled = running.then(() => undefined, () => undefined).finally(() => {
          if (this.#running === settled) this.#running = null;
        });
        this.#running = settled;
      }
      throw err;
    }
  };
}
