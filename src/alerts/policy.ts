// Owns the escalation policy per severity. Stored rows win; without one, critical pages
// on-call → next in rotation → all approvers every ESCALATION_ACK_SLA, for ESCALATION_MAX_ROUNDS,
// with email; warning and info only post to the channel.
import type { Config } from '../config/env.js';
import type { Db } from '../db/client.js';
import { storedAlertPolicies, upsertAlertPolicy } from '../db/queries/alert-policies.js';
import type { AlertPolicy } from '../db/schema/alerts.js';
import type { Severity } from './types.js';

export const RUNGS = ['oncall', 'next', 'approvers'] as const;
export type Rung = (typeof RUNGS)[number];

export interface EscalationPolicy {
  severity: Severity;
  steps: Rung[];
  ackSlaMs: number;
  maxRounds: number;
  email: boolean;
  stored: boolean;
}

export function defaultPolicy(severity: Severity, config: Config): EscalationPolicy {
  const critical = severity === 'critical';
  return {
    severity,
    steps: critical ? ['oncall', 'next', 'approvers'] : [],
    ackSlaMs: config.ESCALATION_ACK_SLA,
    maxRounds: config.ESCALATION_MAX_ROUNDS,
    email: critical,
    stored: false,
  };
}

function fromRow(row: AlertPolicy): EscalationPolicy {
  return {
    severity: row.severity,
    steps: row.steps.filter((s): s is Rung => (RUNGS as readonly string[]).includes(s)),
    ackSlaMs: row.ackSlaMs,
    maxRounds: row.maxRounds,
    email: row.email,
    stored: true,
  };
}

export async function loadPolicies(db: Db, config: Config): Promise<Record<Severity, EscalationPolicy>> {
  const rows = await storedAlertPolicies(db);
  const out = { info: defaultPolicy('info', config), warning: defaultPolicy('warning', config), critical: defaultPolicy('critical', config) };
  for (const row of rows) out[row.severity] = fromRow(row);
  return out;
}

export async function loadPolicy(db: Db, severity: Severity, config: Config): Promise<EscalationPolicy> {
  return (await loadPolicies(db, config))[severity];
}

/** Stores a policy (the default one when only the severity is given), so it is explicit and auditable. */
export async function savePolicy(db: Db, input: { policy: Omit<EscalationPolicy, 'stored'>; now: Date; actor: string }): Promise<EscalationPolicy> {
  const values = {
    severity: input.policy.severity, steps: input.policy.steps, ackSlaMs: input.policy.ackSlaMs,
    maxRounds: input.policy.maxRounds, email: input.policy.email, updatedAt: input.now, updatedBy: input.actor,
  };
  return fromRow(await upsertAlertPolicy(db, values));
}
