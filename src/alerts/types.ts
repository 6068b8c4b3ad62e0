// Owns the alert hook that every part of the bot raises alerts through. The pipeline behind it
// (outbox, Slack threads, email, escalation) lives in src/alerts; until it is wired, alerts are logged.
import type { Db } from '../db/client.js';
import type { Logger } from '../logger.js';
import type { OverdueHooks } from './overdue.js';

export type Severity = 'info' | 'warning' | 'critical';

export type AlertSource =
  | 'trade_failure' | 'exchange' | 'log' | 'risk' | 'reconciliation' | 'audit' | 'kill' | 'mode'
  | 'engine' | 'self_heal' | 'test' | 'oncall' | 'system';

export interface AlertInput {
  source: AlertSource;
  severity: Severity;
  title: string;
  /** Alerts with one fingerprint are grouped into one Slack thread. Defaults to source + title. */
  fingerprint?: string;
  details?: Record<string, unknown>;
}

/** A recovery: what was wrong is no longer, so the live group with this fingerprint is resolved. */
export interface AlertRecovery {
  fingerprint: string;
  /** Who or what resolved it (a Slack user id, `cli:…`, or a system actor): shown in the thread. */
  by: string;
  /** What recovered, posted in the group's thread with who resolved it. */
  note: string;
}

export interface AlertSink {
  raise(alert: AlertInput): Promise<void>;
  /**
   * Stores the alert in the outbox through `db` — a transaction of the caller's — and throws when it
   * cannot (raise keeps a refused alert in memory instead): the alert is stored exactly when that
   * transaction commits, with whatever else the caller wrote in it. Returns what the caller calls once
   * that transaction committed: only then is the alert counted (ctb_alerts_raised_total) and logged as
   * stored — one rolled back was not. Absent on the log fallback.
   */
  raiseWithin?(db: Db, alert: AlertInput): Promise<() => void>;
  /**
   * Resolves the live group with this fingerprint (as `ctb alerts resolve` does: its escalation stops
   * and the thread says who resolved it and why). Returns the group's id, or null when no live group
   * had that fingerprint. Absent on the log fallback, which has no groups.
   */
  resolve?(recovery: AlertRecovery): Promise<number | null>;
  /**
   * Subscribes to "a critical alert is still unacknowledged past its first deadline" (the auto-kill
   * hook). Called once per alert group, on the replica whose escalation tick noticed it. Returns an
   * unsubscribe function. Polling alternative: listOverdueCriticals(db) in src/alerts/overdue.ts.
   */
  onOverdueCritical?(handler: (alert: { groupId: number; title: string; source: string; fingerprint: string; overdueAt: Date }) => void | Promise<void>): () => void;
  /** Where the escalation tick emits what onOverdueCritical's subscribers hear (the outbox sink's; absent on the log fallback). */
  readonly overdueHooks?: OverdueHooks;
}

/** The fallback sink: an alert becomes a log line (error level for critical, warn otherwise). */
export function logAlertSink(logger: Logger): AlertSink {
  return {
    async raise(alert) {
      const level = alert.severity === 'critical' ? 'error' : alert.severity === 'warning' ? 'warn' : 'info';
      logger[level]({ alert }, `alert: ${alert.title}`);
    },
  };
}
