// Owns the escalation policy per severity. The default: critical pages on-call → next in rotation →
// all approvers every ESCALATION_ACK_SLA, for ESCALATION_MAX_ROUNDS, with email; warning and info
// only post to the channel. Paging follows one stored row per severity, in the database: every
// replica runs the escalation tick, so the first pager (or `ctb oncall set`) stores its configured
// default where none is stored, and every replica — and the go-live audit — reads that row, whatever
// its own ESCALATION_* say. A stored row is never changed behind the operator's back: once stored,
// ESCALATION_* no longer apply to it, and `source` (and `envIgnored`) say so wherever the policy is
// shown; a process whose ESCALATION_* differ from the stored row says so when it starts.
import type { Config } from '../config/env.js';
import type { Db } from '../db/client.js';
import { storeAlertPolicyOnce, storedAlertPolicies, upsertAlertPolicy } from '../db/queries/alert-policies.js';
import type { AlertPolicy } from '../db/schema/alerts.js';
import type { Severity } from './types.js';

export const RUNGS = ['oncall', 'next', 'approvers'] as const;
export type Rung = (typeof RUNGS)[number];

/** Where a value comes from: the stored policy row, the environment variable, or the built-in default. */
export type PolicySource = 'stored' | 'env' | 'default';

export interface EscalationPolicy {
  severity: Severity;
  steps: Rung[];
  ackSlaMs: number;
  maxRounds: number;
  email: boolean;
  stored: boolean;
  /** Where ackSlaMs and maxRounds come from (a stored row: who stored it, when). */
  source: { ackSla: PolicySource; maxRounds: PolicySource; updatedBy?: string; updatedAt?: string };
  /** ESCALATION_* set in this process's environment but not in effect, because a stored row wins. */
  envIgnored: string[];
}

const envSource = (config: Config, name: 'ESCALATION_ACK_SLA' | 'ESCALATION_MAX_ROUNDS'): PolicySource => (config.escalationEnv?.[name] ? 'env' : 'default');

export function defaultPolicy(severity: Severity, config: Config): EscalationPolicy {
  const critical = severity === 'critical';
  return {
    severity,
    steps: critical ? ['oncall', 'next', 'approvers'] : [],
    ackSlaMs: config.ESCALATION_ACK_SLA,
    maxRounds: config.ESCALATION_MAX_ROUNDS,
    email: critical,
    stored: false,
    source: { ackSla: envSource(config, 'ESCALATION_ACK_SLA'), maxRounds: envSource(config, 'ESCALATION_MAX_ROUNDS') },
    envIgnored: [],
  };
}

function fromRow(row: AlertPolicy, config: Config): EscalationPolicy {
  const ignored: string[] = [];
  if (config.escalationEnv?.ESCALATION_ACK_SLA && config.ESCALATION_ACK_SLA !== row.ackSlaMs) ignored.push('ESCALATION_ACK_SLA');
  if (config.escalationEnv?.ESCALATION_MAX_ROUNDS && config.ESCALATION_MAX_ROUNDS !== row.maxRounds) ignored.push('ESCALATION_MAX_ROUNDS');
  return {
    severity: row.severity,
    steps: row.steps.filter((s): s is Rung => (RUNGS as readonly string[]).includes(s)),
    ackSlaMs: row.ackSlaMs,
    maxRounds: row.maxRounds,
    email: row.email,
    stored: true,
    source: { ackSla: 'stored', maxRounds: 'stored', updatedBy: row.updatedBy, updatedAt: row.updatedAt.toISOString() },
    envIgnored: ignored,
  };
}

export async function loadPolicies(db: Db, config: Config): Promise<Record<Severity, EscalationPolicy>> {
  const rows = await storedAlertPolicies(db);
  const out = { info: defaultPolicy('info', config), warning: defaultPolicy('warning', config), critical: defaultPolicy('critical', config) };
  for (const row of rows) out[row.severity] = fromRow(row, config);
  return out;
}

export async function loadPolicy(db: Db, severity: Severity, config: Config): Promise<EscalationPolicy> {
  return (await loadPolicies(db, config))[severity];
}

/** The stored policy of `severity`, or null while none is stored (no pager has run, no `ctb oncall set`). */
export async function storedPolicy(db: Db, severity: Severity, config: Config): Promise<EscalationPolicy | null> {
  const row = (await storedAlertPolicies(db)).find((r) => r.severity === severity);
  return row ? fromRow(row, config) : null;
}

/**
 * The policy paging follows: the stored row, or — none stored yet — this process's configured
 * default, stored now unless another process stored one first (then that one). `by` names the process.
 */
export async function pagingPolicy(db: Db, input: { severity: Severity; config: Config; now: Date; by: string }): Promise<EscalationPolicy> {
  const stored = await storedPolicy(db, input.severity, input.config);
  if (stored) return stored;
  const own = defaultPolicy(input.severity, input.config);
  const row = await storeAlertPolicyOnce(db, {
    severity: own.severity, steps: own.steps, ackSlaMs: own.ackSlaMs, maxRounds: own.maxRounds, email: own.email, updatedAt: input.now, updatedBy: input.by,
  });
  return fromRow(row, input.config);
}

/** Stores a policy (the default one when only the severity is given), so it is explicit and auditable. */
export async function savePolicy(db: Db, input: { policy: Pick<EscalationPolicy, 'severity' | 'steps' | 'ackSlaMs' | 'maxRounds' | 'email'>; now: Date; actor: string; config: Config }): Promise<EscalationPolicy> {
  const values = {
    severity: input.policy.severity, steps: input.policy.steps, ackSlaMs: input.policy.ackSlaMs,
    maxRounds: input.policy.maxRounds, email: input.policy.email, updatedAt: input.now, updatedBy: input.actor,
  };
  return fromRow(await upsertAlertPolicy(db, values), input.config);
}
