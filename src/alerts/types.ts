// Owns the alert hook that every part of the bot raises alerts through. The pipeline behind it
// (outbox, Slack threads, email, escalation) lives in src/alerts; until it is wired, alerts are logged.
import type { Logger } from '../logger.js';
import type { OverdueHooks } from './overdue.js';

export type Severity = 'info' | 'warning' | 'critical';

export type AlertSource =
  | 'trade_failure' | 'exchange' | 'log' | 'risk' | 'reconciliation' | 'audit' | 'kill' | 'mode'
  | 'engine' | 'self_heal' | 'test' | 'system';

export interface AlertInput {
  source: AlertSource;
  severity: Severity;
  title: string;
  /** Alerts with one fingerprint are grouped into one Slack thread. Defaults to source + title. */
  fingerprint?: string;
  details?: Record<string, unknown>;
}

export interface AlertSink {
  raise(alert: AlertInput): Promise<void>;
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
