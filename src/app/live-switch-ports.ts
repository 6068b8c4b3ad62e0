// Wires the live switch's ports to their real implementations: the whole go-live audit as the
// gate, the backup service's snapshot, and the process's notifier as the announcer (which needs a
// notifier that carries change requests: Slack with SLACK_OPS_CHANNEL).
// Every command builds these ports with its context, few use them: the audit (every check, email
// among them) and the snapshot are imported on first use, not with the context; the notifier loads
// its client on its first message.
import type { Db } from '../db/client.js';
import type { Notifier } from '../notifications/notification.js';
import { noSlackAnnouncer, type GoLiveGate, type LiveSwitchPorts, type Snapshotter } from '../services/mode/ports.js';
import { notifiedModeAnnouncer } from './notifier-ports.js';

const lazyAuditGate: GoLiveGate = async (ctx, opts) => (await import('../services/mode/audit-gate.js')).auditGate()(ctx, opts);

const lazySnapshotter: Snapshotter = async (ctx, opts) => (await import('../services/mode/backup-snapshot.js')).backupSnapshotter(ctx, opts);

export function defaultLiveSwitchPorts(notifier: Notifier | null, db: Db, overrides: Partial<LiveSwitchPorts> = {}): LiveSwitchPorts {
  return {
    gate: overrides.gate ?? lazyAuditGate,
    snapshot: overrides.snapshot ?? lazySnapshotter,
    announcer: overrides.announcer ?? notifiedModeAnnouncer(notifier, db) ?? noSlackAnnouncer,
  };
}
