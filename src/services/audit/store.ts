// Owns the audit_runs records: every run is stored (who, when, mode, results) and the latest one
// is what the live switch gates on.
import { desc, eq } from 'drizzle-orm';
import type { Db } from '../../db/client.js';
import { auditRuns, type AuditRun } from '../../db/schema/index.js';
import type { Mode } from '../bot-state.js';
import type { CheckResult } from './types.js';

/** What a verdict shows of a run: everything but its results (a whole audit's worth of JSON). */
export type AuditRunHeader = Omit<AuditRun, 'results'>;

// Read by every /golive status and `ctb mode status`: prepared once per database handle (one round
// trip; unprepared, its LIMIT parameter made postgres.js describe the statement first, every time).
const headerQueries = new WeakMap<Db, { execute(): Promise<AuditRunHeader[]> }>();

/** The most recent audit run without its results, or null when none was stored. */
export async function latestAuditRunHeader(db: Db): Promise<AuditRunHeader | null> {
  let query = headerQueries.get(db);
  if (!query) {
    query = db
      .select({ id: auditRuns.id, at: auditRuns.at, actor: auditRuns.actor, mode: auditRuns.mode, dryRun: auditRuns.dryRun, passed: auditRuns.passed, summary: auditRuns.summary })
      .from(auditRuns)
      .orderBy(desc(auditRuns.at), desc(auditRuns.id))
      .limit(1)
      .prepare('latest_audit_run_header');
    headerQueries.set(db, query);
  }
  const rows = await query.execute();
  return rows[0] ?? null;
}

export async function insertAuditRun(
  db: Db,
  run: { at: Date; actor: string; mode: Mode; dryRun: boolean; passed: boolean; summary: string; results: CheckResult[] },
): Promise<number> {
  const rows = await db.insert(auditRuns).values(run).returning({ id: auditRuns.id });
  return rows[0]!.id;
}

export interface StoredAuditRun extends Omit<AuditRun, 'results'> {
  results: CheckResult[];
}

/**
 * The most recent audit run, or null when none was stored. Only whole audits are stored
 * (`verify-credentials` runs part of it and is recorded in the command log instead).
 * Pass `dryRun: false` to require a run that was not a dry run.
 */
export async function latestAuditRun(db: Db, opts: { dryRun?: boolean } = {}): Promise<StoredAuditRun | null> {
  const base = db.select().from(auditRuns);
  const filtered = opts.dryRun === undefined ? base : base.where(eq(auditRuns.dryRun, opts.dryRun));
  const rows = await filtered.orderBy(desc(auditRuns.at), desc(auditRuns.id)).limit(1);
  const row = rows[0];
  return row ? { ...row, results: row.results as CheckResult[] } : null;
}
