// Owns the one statement behind the status views (`/golive status`, `/mode status`, `ctb mode
// status`, the dashboard): the bot_state row, the engine lease with the database's clock, and the
// latest go-live audit's header, read together. Each was its own statement (three round trips on
// three pooled connections per /golive status, the costliest part of a slash command's work after
// the ack in bench:slack-ack); one statement also reads them from one snapshot. Prepared once per
// database handle.
import { desc, eq, sql } from 'drizzle-orm';
import type { Db } from '../client.js';
import { auditRuns, botState, engineLease, type BotState, type EngineLease } from '../schema/index.js';
import type { AuditRunHeader } from './audit-runs.js';

export interface StatusRows {
  /** Undefined before anything created the row (services/bot-state.ts creates it). */
  state: BotState | undefined;
  lease: EngineLease | null;
  /** The database's now(), so the lease's age is measured on one clock. */
  dbNow: Date;
  audit: AuditRunHeader | null;
}

interface Row {
  state: BotState | null;
  lease: EngineLease | null;
  dbNow: Date;
  audit: AuditRunHeader | null;
}

const queries = new WeakMap<Db, { execute(): Promise<Row[]> }>();

function prepare(db: Db): { execute(): Promise<Row[]> } {
  // The latest run as audit-runs.ts orders it (at, then id, newest first), joined by its id.
  const latestAudit = db.select({ id: auditRuns.id }).from(auditRuns).orderBy(desc(auditRuns.at), desc(auditRuns.id)).limit(1);
  return db
    .select({
      state: botState,
      lease: engineLease,
      dbNow: sql<Date>`now()`.mapWith(engineLease.heartbeatAt),
      audit: { id: auditRuns.id, at: auditRuns.at, actor: auditRuns.actor, mode: auditRuns.mode, dryRun: auditRuns.dryRun, passed: auditRuns.passed, summary: auditRuns.summary },
    })
    .from(sql`(select 1) as one`)
    .leftJoin(botState, eq(botState.id, 1))
    .leftJoin(engineLease, eq(engineLease.id, 1))
    .leftJoin(auditRuns, eq(auditRuns.id, sql`(${latestAudit})`))
    .prepare('status_rows') as unknown as { execute(): Promise<Row[]> };
}

/** bot_state, the engine lease with the database's clock, and the latest audit header: one statement. */
export async function readStatusRows(db: Db): Promise<StatusRows> {
  let query = queries.get(db);
  if (!query) {
    query = prepare(db);
    queries.set(db, query);
  }
  const [row] = await query.execute();
  if (!row) throw new Error('the status read returned no row');
  return { state: row.state ?? undefined, lease: row.lease, dbNow: row.dbNow, audit: row.audit };
}
