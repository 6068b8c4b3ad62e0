// Owns who may approve a live switch: the approvers the go-live audit judges (checks/approvers.ts) —
// the engine's process's SLACK_APPROVERS, recorded with the gate policy when it took the engine lease
// — not this process's. A web replica started with another SLACK_APPROVERS would otherwise count
// approvals from people no audit ever judged. Before any engine recorded them, this process's own.
import type { Config } from '../../config/env.js';
import type { Db } from '../../db/client.js';
import { golivePolicyRow } from '../../db/queries/golive-policy.js';

export interface LiveApprovers {
  approvers: string[];
  /** Whose list it is, as an operator reads it ("SLACK_APPROVERS" for this process's own). */
  source: string;
  /** This process's SLACK_APPROVERS when they differ from the recorded ones (ignored); null when they agree. */
  ignored: string[] | null;
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x) => b.includes(x));
}

export async function liveApprovers(db: Db, config: Pick<Config, 'SLACK_APPROVERS'>): Promise<LiveApprovers> {
  const row = await golivePolicyRow(db);
  const recorded = row?.engineLimits?.slackApprovers;
  if (!row || !recorded) return { approvers: [...config.SLACK_APPROVERS], source: 'SLACK_APPROVERS', ignored: null };
  return {
    approvers: [...recorded],
    source: `SLACK_APPROVERS of the engine's process ${row.recordedBy}, recorded at ${row.recordedAt.toISOString()}`,
    ignored: sameSet(recorded, config.SLACK_APPROVERS) ? null : [...config.SLACK_APPROVERS],
  };
}
