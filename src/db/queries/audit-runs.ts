// Owns the SQL of the audit_runs records: storing one run, and reading the latest (its header alone
// for the status views, or whole, optionally only runs that were or were not dry runs).
import { desc, eq } from 'drizzle-orm';
import type { Db } from '../client.js';
import { auditRuns, type AuditRun } from '../schema/index.js';

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
      .select({ id: auditRuns.id, at: auditRuns.at, actor: auditRuns.actor, mode: auditRuns.mode, dryRun: auditRuns.dryRun, passed: auditRuns.passed, summary: auditRuns.summary, thresholds: auditRuns.thresholds })
      .from(auditRuns)
      .orderBy(desc(auditRuns.at), desc(auditRuns.id))
      .limit(1)
      .prepare('latest_audit_run_header');
    headerQueries.set(db, query);
  }
  const rows = await query.execute();
  return rows[0] ?? null;
}

/** Stores one run; returns its id. */
export async function insertAuditRun(
  db: Db,
  run: { at: Date; actor: string; mode: AuditRun['mode']; dryRun: boolean; passed: boolean; summary: string; results: unknown[]; thresholds: AuditRun['thresholds'] },
): Promise<number> {
  const rows = await db.insert(auditRuns).values(run).returning({ id: auditRuns.id });
  return rows[0]!.id;
}

/** The most recent run (of either kind, or only dry runs / only full runs), or null when none was stored. */
export async function latestAuditRunRow(db: Db, opts: { dryRun?: boolean } = {}): Promise<AuditRun | null> {
  const base = db.select().from(auditRuns);
  const filtered = opts.dryRun === undefined ? base : base.where(eq(auditRuns.dryRun, opts.dryRun));
  const rows = await filtered.orderBy(desc(auditRuns.at), desc(auditRuns.id)).limit(1);
  return rows[0] ?? null;
}
