// Alert rows as the database returns them, for the pure render functions' tests.
import type { AlertEvent, AlertGroup } from '../../src/db/schema/alerts.js';

export function alertGroupRow(over: Partial<AlertGroup> = {}): AlertGroup {
  const at = new Date('2026-01-05T12:00:00Z');
  return {
    id: 42, fingerprint: 'risk:max_drawdown', source: 'risk', severity: 'critical', title: 'Risk guard paused new entries', status: 'open',
    count: 1, firstAt: at, lastAt: at, test: false, slackChannel: null, slackTs: null, version: 1, reportedVersion: 0, reportedEventId: 0,
    acknowledgedBy: null, acknowledgedAt: null, resolvedBy: null, resolvedAt: null, silencedUntil: null, silencedBy: null, ...over,
  };
}

export function alertEventRow(over: Partial<AlertEvent> = {}): AlertEvent {
  return {
    id: 1, groupId: 42, at: new Date('2026-01-05T12:00:00Z'), source: 'risk', severity: 'critical', title: 'Risk guard paused new entries',
    details: {}, raiseKey: null, ...over,
  };
}
