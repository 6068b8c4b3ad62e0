// Owns the SQL of risk_events, the risk guard's record: a breach that paused entries or was
// reported to the kill switch, and an operator clearing a pause. Amounts are stored exact (text).
import { and, desc, eq, sql } from 'drizzle-orm';
import type { RearmScope } from '../../domain/risk-rearm.js';
import { execute, type Db } from '../client.js';
import { riskEvents } from '../schema/index.js';

export type RiskEvent = typeof riskEvents.$inferSelect;

export async function insertRiskEvent(db: Db, values: typeof riskEvents.$inferInsert): Promise<void> {
  await db.insert(riskEvents).values(values);
}

/**
 * Inserts a risk event stamped with the database's clock, not this process's (an operator's shell
 * may run minutes off the engine's), and returns that time.
 */
export async function insertRiskEventAtDbNow(db: Db, values: Omit<typeof riskEvents.$inferInsert, 'at'>): Promise<Date> {
  const rows = await db.insert(riskEvents).values({ ...values, at: sql`now()` }).returning({ at: riskEvents.at });
  return rows[0]!.at;
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
  /** The database's time of the forced unpause. */
  at: Date;
  scope: RearmScope;
  /**
   * Set once the engine has taken the re-arm in: the newest equity snapshot of the book then (every
   * snapshot up to it measures from the earlier peak; only later ones carry the re-armed one). Null
   * while no engine has: every snapshot still carries the earlier peak, whatever its time says.
   */
  followedSnapshotId: number | null;
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
  const followed = (row.details as { followedSnapshotId?: unknown }).followedSnapshotId;
  return { id: row.id, at: row.at, scope: scope === 'daily' ? 'daily' : 'drawdown_and_daily', followedSnapshotId: typeof followed === 'number' ? followed : null };
}

/**
 * Records that the engine took this re-arm in, after writing every snapshot it had queued: the newest
 * snapshot of the book now is the last one measured from the earlier peak (ordered by id, written by
 * the database, so no process's clock decides it). Returns that id (0: none yet).
 */
export async function markRearmFollowed(db: Db, id: number, mode: string): Promise<number> {
  const rows = await execute<{ snapshot_id: string | null }>(db, sql`
    update ${riskEvents} set details = ${riskEvents.details} || jsonb_build_object('followedSnapshotId',
      (select coalesce(max(id), 0) from equity_snapshots where mode = ${mode}))
    where id = ${id}
    returning (details ->> 'followedSnapshotId') as snapshot_id`);
  return Number(rows[0]?.snapshot_id ?? 0);
}
