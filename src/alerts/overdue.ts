// Owns the "unacknowledged critical past its deadline" signal the kill switch can act on. Two ways
// in: subscribe (the escalation tick calls handlers once per group, on the replica that found it
// overdue, after its transaction commits), or poll listOverdueCriticals (any process, any time).

/** The polling way in (the query lives with the escalation's SQL). */
export { listOverdueCriticals } from '../db/queries/alert-escalations.js';

export interface OverdueCritical {
  groupId: number;
  fingerprint: string;
  title: string;
  source: string;
  /** A rehearsal (`ctb alerts test`): it pages, but nothing may act on it as a real incident. */
  test?: boolean;
  firstAt: Date;
  /** When the first page's acknowledgement deadline passed. */
  overdueAt: Date;
}

export type OverdueHandler = (alert: OverdueCritical) => void | Promise<void>;

export class OverdueHooks {
  readonly #handlers = new Set<OverdueHandler>();

  add(handler: OverdueHandler): () => void {
    this.#handlers.add(handler);
    return () => void this.#handlers.delete(handler);
  }

  /** Calls every handler; one failing handler does not stop the others. Returns the failures. */
  async emit(alert: OverdueCritical): Promise<unknown[]> {
    const failures: unknown[] = [];
    for (const handler of this.#handlers) {
      try {
        await handler(alert);
      } catch (err) {
        failures.push(err);
      }
    }
    return failures;
  }
}
