// Owns the "unacknowledged critical past its deadline" signal the kill switch can act on. Two ways
// in: subscribe (the escalation tick calls handlers once per group, on the replica that found it
// overdue, after its transaction commits), or poll listOverdueCriticals (any process, any time).
import { sql } from 'drizzle-orm';
import { execute, type Db } from '../db/client.js';

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

/** Critical groups still open (not acknowledged, not resolved) whose first page went unanswered. */
export async function listOverdueCriticals(db: Db): Promise<OverdueCritical[]> {
  const rows = await execute<{ id: string | number; fingerprint: string; title: string; source: string; first_at: string | Date; overdue_at: string | Date }>(db, sql`
    select g.id, g.fingerprint, g.title, g.source, g.first_at, e.overdue_at
    from alert_groups g join alert_escalations e on e.group_id = g.id
    where g.severity = 'critical' and g.status = 'open' and not g.test and e.overdue_at is not null and e.status in ('active', 'exhausted')
    order by e.overdue_at`);
  return rows.map((r) => ({
    groupId: Number(r.id), fingerprint: r.fingerprint, title: r.title, source: r.source,
    firstAt: new Date(r.first_at), overdueAt: new Date(r.overdue_at),
  }));
}
