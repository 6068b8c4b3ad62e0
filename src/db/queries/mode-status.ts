// Owns the one statement behind the status views (`/golive status`, `/mode status`, `ctb mode
// status`, the dashboard): the bot_state row, the engine lease with the database's clock, and the
// latest go-live audit's header, read together. Each was its own statement (three round trips on
// three pooled connections per /golive status, the costliest part of a slash command's work after
// the ack in bench:slack-ack); one statement also reads them from one snapshot. Prepared once per
// database handle. The same select also follows a Slack status command's delivery claim in the
// claim's own statement (slack-deliveries.ts), so that command reads the database once.
import { desc, eq, sql, type SQL } from 'drizzle-orm';
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

export interface StatusRow {
  state: BotState | null;
  lease: EngineLease | null;
  dbNow: Date;
  audit: AuditRunHeader | null;
}

/** What selects: the database handle itself, or the handle with a CTE in front (`db.with(cte)`). */
type Selecting = Pick<Db, 'select'>;

/**
 * The status select on `qb`, with `extra` columns beside the status (a claim's taken keys), ready
 * to prepare: bot_state, the engine lease, now(), and the latest run as audit-runs.ts orders it
 * (at, then id, newest first), joined by its id.
 */
export function statusSelect(db: Db, qb: Selecting, extra: Record<string, SQL> = {}) {
  const latestAudit = db.select({ id: auditRuns.id }).from(auditRuns).orderBy(desc(auditRuns.at), desc(auditRuns.id)).limit(1);
  return qb
    .select({
      state: botState,
      lease: engineLease,
      dbNow: sql<Date>`now()`.mapWith(engineLease.heartbeatAt),
      audit: { id: auditRuns.id, at: auditRuns.at, actor: auditRuns.actor, mode: auditRuns.mode, dryRun: auditRuns.dryRun, passed: auditRuns.passed, summary: auditRuns.summary },
      ...extra,
    })
    .from(sql`(select 1) as one`)
    .leftJoin(botState, eq(botState.id, 1))
    .leftJoin(engineLease, eq(engineLease.id, 1))
    .leftJoin(auditRuns, eq(auditRuns.id, sql`(${latestAudit})`));
}

/** A status row as readers take it (no bot_state row yet: state undefined). */
export function statusRowsOf(row: StatusRow | undefined): StatusRows {
  if (!row) throw new Error('the status read returned no row');
  return { state: row.state ?? undefined, lease: row.lease, dbNow: row.dbNow, audit: row.audit };
}

const queries = new WeakMap<Db, { execute(): Promise<StatusRow[]> }>();

/** bot_state, the engine lease with the database's clock, and the latest audit header: one statement. */
export async function readStatusRows(db: Db): Promise<StatusRows> {
  let query = queries.get(db);
  if (!query) {
    query = statusSelect(db, db).prepare('status_rows') as unknown as { execute(): Promise<StatusRow[]> };
    queries.set(db, query);
  }
  const [row] = await query.execute();
  return statusRowsOf(row);
}
