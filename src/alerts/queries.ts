// Read-only questions other areas ask about alerts (go-live audit, paper→live criteria).
import { sql } from 'drizzle-orm';
import { execute, type Db } from '../db/client.js';
import type { Severity } from './types.js';

/** Alerts raised since `since` at `severity`, test alerts excluded. */
export async function countAlertsSince(db: Db, input: { since: Date; severity: Severity }): Promise<number> {
  const [row] = await execute<{ n: number }>(db, sql`
    select count(*)::int as n from alert_events e join alert_groups g on g.id = e.group_id
    where e.at >= ${input.since.toISOString()}::timestamptz and e.severity = ${input.severity} and not g.test`);
  return row?.n ?? 0;
}

export async function latestAlertTest(db: Db) {
  return (await db.query.alertTests.findFirst({ orderBy: (t, { desc }) => [desc(t.at), desc(t.id)] })) ?? null;
}
