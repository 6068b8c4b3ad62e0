// Owns the SQL of risk_events, the risk guard's record: a breach that paused entries or was
// reported to the kill switch, and an operator clearing a pause. Amounts are stored exact (text).
import { and, desc, eq, sql } from 'drizzle-orm';
import type { RearmScope } from '../../domain/risk-rearm.js';
import type { Db } from '../client.js';
import { riskEvents } from '../schema/index.js';

export type RiskEvent = typeof riskEvents.$inferSelect;

export async function insertRiskEvent(db: Db, values: typeof riskEvents.$inferInsert): Promise<void> {
  await db.insert(riskEvents).values(values);
}

/** The newest risk event, or the newest with this action. */
export async function latestRiskEvent(db: Db, action?: string): Promise<RiskEvent | undefined> {
  const rows = await db.select().from(riskEvents)
    .where(action === undefined ? undefined : eq(riskEvents.action, action))
    .orderBy(desc(riskEvents.id)).limit(1);
  return rows[0];
}


export interface Rearm {
  id: number;
  at: Date;
  scope: RearmScope;
}

/**
 * The newest forced unpause of this book that re-armed the risk guard (an `entries_resumed` event
 * whose details name a `rearm`): from then on the guard measures from the equity at that resume.
 */
export async function latestRearm(db: Db, mode: string): Promise<Rearm | undefined> {
  const rows = await db.select().from(riskEvents)
    .where(and(eq(riskEvents.action, 'entries_resumed'), sql`${riskEvents.details} ->> 'rearm' is not null`, sql`${riskEvents.details} ->> 'mode' = ${mode}`))
    .orderBy(desc(riskEvents.id)).limit(1);
  const row = rows[0];
  if (!row) return undefined;
  const scope = (row.details as { rearm?: unknown }).rearm;
  return { id: row.id, at: row.at, scope: scope === 'daily' ? 'daily' : 'drawdown_and_daily' };
}
