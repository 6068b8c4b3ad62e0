// Owns the go-live audit's contract: what a check is, what it returns, and what one run of the
// audit reports. Every area adds its own checks in its own file (see checks/index.ts), so this file
// is the one thing they all share. Keep it stable: the JSON of AuditReport is a public interface
// (docs/audit-json.md), and the live switch gates on stored runs of it.
import type { KrakenReach } from './sources/kraken-reach.js';
import type { Clock } from '../../clock.js';
import type { Config } from '../../config/env.js';
import type { Db } from '../../db/client.js';
import type { Actor } from '../../domain/actor.js';
import type { ExchangeProvider } from '../../exchange/provider.js';
import type { Logger } from '../../logger.js';
import type { Exchange } from '../../exchange/types.js';
import type { EngineMode } from '../../domain/engine-mode.js';
import type { AuditThresholds, EngineLimits } from '../../domain/golive-thresholds.js';
import type { UserDirectory } from '../oncall/user-directory.js';
import type { SlackTokenScopes } from '../../domain/slack-scopes.js';

export type CheckStatus = 'pass' | 'warn' | 'fail';

/** The sections of the user's go-live checklist (shared/go-live-checklist.md), by number. */
export const CHECKLIST_SECTIONS = {
  1: 'Credentials & Secrets',
  2: 'Mode Toggles',
  3: 'Logging & Monitoring',
  4: 'Risk Controls',
  5: 'Health Audits',
  6: 'Paper Mode → Live Transition',
  7: 'Backup & Versioning',
  8: 'Monitoring & Dashboards',
  9: 'Escalation & Incident Response',
} as const;

export type ChecklistSection = keyof typeof CHECKLIST_SECTIONS;

/** What a check measured. `value` is one short line a person reads beside the status. */
export interface CheckOutcome {
  status: CheckStatus;
  /** The measured value, e.g. "3 of 3 strategies limited" or "key can withdraw". Never a secret. */
  value: string;
  /** One line saying how to make it pass; null when it passes. */
  fix: string | null;
  /** Machine-readable specifics (counts, file:line lists, thresholds). JSON-serialisable, no secrets. */
  details?: Record<string, unknown>;
}

/**
 * What the audit is run for. `golive`: the live switch's gate (src/services/mode/audit-gate.ts, at the
 * request and at the switch), where a check may hold its item to what going live needs; `check`: an
 * operator's audit (`ctb audit`, `/golive audit`, the one a resume in paper needs), where such a check
 * warns and says the gate fails it.
 */
export type AuditPurpose = 'golive' | 'check';

export interface AuditOptions {
  /** Only read-only exchange calls; nothing but the stored run record changes. */
  dryRun: boolean;
  /** Absent: `check`. */
  purpose?: AuditPurpose;
}

/** What running the audit needs: the checks read the configuration, the database and the exchanges. */
export interface AuditDeps {
  config: Config;
  db: Db;
  clock: Clock;
  logger: Logger;
  exchanges: ExchangeProvider;
  /** Slack's users.info, to confirm the on-call members can be paged; null or absent without Slack. */
  people?: UserDirectory | null | undefined;
  /** Which scopes the bot token holds (auth.test); null or absent without Slack. */
  slackScopes?: SlackTokenScopes | null | undefined;
}

/**
 * What a check gets. One per audit run: `memo` shares an expensive answer between checks of the
 * same run (the key rights, the reconciliation), so the exchange is asked once.
 */
export interface AuditContext extends AuditDeps {
  actor: Actor;
  /** The deployment's working directory: where `.env` lives and git is asked about tracked files. */
  cwd: string;
  /**
   * The Kraken adapter with the configured key, or undefined when no key is configured.
   * In a dry run every order-changing method of it throws before any request leaves.
   */
  kraken(): Exchange | undefined;
  /** Every Kraken call of the run goes through it: after one got no answer, the rest fail at once (kraken-reach.ts). */
  krakenReach?: KrakenReach;
  /** The go-live thresholds this run judges by: the stored gate policy (src/services/audit/gate-policy.ts). */
  thresholds: AuditThresholds;
  /**
   * The pre-trade limits and strategies file the engine's process recorded with the gate policy, which
   * the risk checks judge; null when no engine recorded them (the checks then judge this process's).
   */
  engineLimits: { limits: EngineLimits; recordedBy: string; recordedAt: Date } | null;
  memo<T>(key: string, compute: () => Promise<T>): Promise<T>;
}

export interface AuditCheck {
  /** Stable, dotted, lowercase: `exchange.key_rights`. Other code (the live switch, Slack) keys on it. */
  id: string;
  title: string;
  checklistSection: ChecklistSection;
  /** Upper bound on the check's run time; a slower check fails with "timed out". Default 60 s. */
  timeoutMs?: number;
  run(ctx: AuditContext, opts: AuditOptions): Promise<CheckOutcome>;
}

export function defineCheck(check: AuditCheck): AuditCheck {
  if (!/^[a-z][a-z0-9_]*(\.[a-z0-9_]+)*$/.test(check.id)) {
    throw new Error(`audit check id "${check.id}" must be dotted lowercase, e.g. exchange.key_rights`);
  }
  return check;
}

/** One check's line in a report. */
export interface CheckResult extends CheckOutcome {
  id: string;
  title: string;
  section: ChecklistSection;
  sectionTitle: string;
  durationMs: number;
}

export interface AuditSummary {
  pass: number;
  warn: number;
  fail: number;
  total: number;
}

/** One audit run: what `ctb audit --json` prints and what Slack renders. See docs/audit-json.md. */
export interface AuditReport {
  kind: 'audit';
  /** Bumped only when a field changes meaning or disappears. */
  schemaVersion: 3;
  /** True when no check failed (warnings allowed): the CLI exits 0, and the live switch may use it. */
  ok: boolean;
  /** Id of the stored row in audit_runs. */
  runId: number;
  at: string;
  actor: string;
  /** The engine's mode (domain/engine-mode.ts): unknown while a stale armed holder may resume LIVE trading. */
  mode: EngineMode;
  armed: boolean;
  dryRun: boolean;
  /** Restricted to these check ids (verify-credentials), or null for the whole audit. */
  only: string[] | null;
  summary: AuditSummary;
  /** "AUDIT PASSED — 14 pass, 3 warn, 0 fail (dry run, paper)". */
  summaryLine: string;
  /** The go-live thresholds the run judged by (stored with the run), where they come from, and which of this environment's were ignored. */
  thresholds: AuditThresholds;
  results: CheckResult[];
}
