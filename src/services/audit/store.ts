// Owns the audit's view of its stored runs: every run is stored (who, when, mode, results; by
// run-audit.ts) and the latest one is what the live switch gates on. The statements are in
// src/db/queries/audit-runs.ts; this file gives a stored run's results their type.
import type { Db } from '../../db/client.js';
import { latestAuditRunRow } from '../../db/queries/audit-runs.js';
import type { AuditRun } from '../../db/schema/index.js';
import type { CheckResult } from './types.js';

export { latestAuditRunHeader, type AuditRunHeader } from '../../db/queries/audit-runs.js';

export interface StoredAuditRun extends Omit<AuditRun, 'results'> {
  results: CheckResult[];
}

/**
 * The most recent audit run, or null when none was stored. Only whole audits are stored
 * (`verify-credentials` runs part of it and is recorded in the command log instead).
 * Pass `dryRun: false` to require a run that was not a dry run.
 */
export async function latestAuditRun(db: Db, opts: { dryRun?: boolean } = {}): Promise<StoredAuditRun | null> {
  const row = await latestAuditRunRow(db, opts);
  return row ? { ...row, results: row.results as CheckResult[] } : null;
}
