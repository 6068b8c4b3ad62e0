// Owns what telling people what happened to a request says: its reply in the request's thread and
// its alert. A request with a thread has them delivered, recorded and retried (announce-pending.ts);
// a rollback to paper, which has no thread, posts a notice here, best effort — the decision is already
// committed and recorded — a failure logged, never swallowed, and never undoing or blocking the change.
import type { AlertInput, AlertSink } from '../../alerts/types.js';
import type { Logger } from '../../logger.js';
import type { ModeChangeRequest } from '../../db/schema/index.js';
import type { LiveSwitchPorts, OutcomeAnnouncement } from './ports.js';

const TITLES: Record<string, (r: ModeChangeRequest) => string> = {
  switched: (r) => (r.toMode === 'live' ? `Switched to LIVE trading (request #${r.id})` : `Switched to paper trading`),
  rejected: (r) => `Live change request #${r.id} rejected`,
  expired: (r) => `Live change request #${r.id} expired`,
  failed: (r) => `Live change request #${r.id} failed`,
  withdrawn: (r) => `Live change request #${r.id} withdrawn`,
  approved: (r) => `Live change request #${r.id} approved`,
};

export function outcomeOf(request: ModeChangeRequest, approvals: Array<{ user: string; at: Date }> = []): OutcomeAnnouncement {
  const status = request.status === 'requested' ? 'approved' : request.status;
  const lines: string[] = [];
  if (request.outcome) lines.push(request.outcome);
  if (request.switchAuditSummary) lines.push(`Go-live audit at the switch: ${request.switchAuditSummary} (run #${request.switchAuditRunId ?? '—'})`);
  if (request.snapshotRef) lines.push(`Snapshot: ${request.snapshotRef}`);
  return { requestId: request.id, status, toMode: request.toMode, title: TITLES[status]!(request), lines, approvals };
}

/** What telling people needs: the alert sink, and the log for what could not be delivered. */
export interface AnnounceDeps {
  logger: Logger;
  alerts: AlertSink;
}

async function deliver(ctx: AnnounceDeps, what: string, fn: () => Promise<void>): Promise<void> {
  try {
    await fn();
  } catch (err) {
    ctx.logger.error({ err, what }, `could not deliver ${what}`);
  }
}

/** The alert of a request closed without switching. */
export function closedAlert(request: ModeChangeRequest): AlertInput {
  return {
    source: 'mode', severity: request.status === 'failed' ? 'warning' : 'info', title: outcomeOf(request).title,
    fingerprint: `mode-request-${request.id}`, details: { requestId: request.id, status: request.status, outcome: request.outcome },
  };
}

/** The alert of a switch, naming who approved it. */
export function switchedAlert(request: ModeChangeRequest, approvals: Array<{ user: string; at: Date }>): AlertInput {
  return {
    source: 'mode', severity: 'warning', title: outcomeOf(request, approvals).title, fingerprint: `mode-request-${request.id}`,
    details: {
      requestId: request.id, from: request.fromMode, to: request.toMode, requester: request.requester,
      approvedBy: approvals.map((a) => ({ user: a.user, at: a.at.toISOString() })), outcome: request.outcome,
    },
  };
}

/** The alert of a request's outcome: its switch, or its closing without one. */
export function outcomeAlert(request: ModeChangeRequest, approvals: Array<{ user: string; at: Date }>): AlertInput {
  return request.status === 'switched' ? switchedAlert(request, approvals) : closedAlert(request);
}

export async function announceSwitched(
  ctx: AnnounceDeps,
  ports: LiveSwitchPorts,
  request: ModeChangeRequest,
  approvals: Array<{ user: string; at: Date }>,
): Promise<void> {
  const view = outcomeOf(request, approvals);
  if (request.slackChannel && request.slackTs) {
    await deliver(ctx, 'the switch result to Slack', () => ports.announcer.postInThread(request.slackChannel!, request.slackTs!, view));
  } else {
    await deliver(ctx, 'the mode notice to Slack', () => ports.announcer.postNotice(view));
  }
  await deliver(ctx, 'the mode alert', () => ctx.alerts.raise(switchedAlert(request, approvals)));
}
