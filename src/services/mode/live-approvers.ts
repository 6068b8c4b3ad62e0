// Owns who may approve a live switch: the approvers the go-live audit judges (checks/approvers.ts) —
// the engine's process's SLACK_APPROVERS, recorded with the gate policy when it took the engine lease
// — not this process's. A web replica started with another SLACK_APPROVERS would otherwise count
// approvals from people no audit ever judged. Before any engine recorded them, this process's own.
// The rule is the audit's own (judgedApprovers): one place decides whose list counts.
import type { Config } from '../../config/env.js';
import type { Db } from '../../db/client.js';
import { loadGatePolicy, recordedEngineLimits } from '../audit/gate-policy.js';
import { judgedApprovers } from '../audit/sources/engine-operations.js';

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
  const judged = judgedApprovers({ config, engineLimits: recordedEngineLimits(await loadGatePolicy(db)) });
  if (judged.source === 'process') return { approvers: judged.value, source: 'SLACK_APPROVERS', ignored: null };
  return {
    approvers: judged.value,
    source: `SLACK_APPROVERS of ${judged.from}`,
    ignored: sameSet(judged.value, config.SLACK_APPROVERS) ? null : [...config.SLACK_APPROVERS],
  };
}
