// Wires the live switch's ports to their real implementations: the whole go-live audit as the
// gate, the backup service's snapshot, and Slack posting (which needs SLACK_OPS_CHANNEL).
// Every command builds these ports with its context, few use them: the audit (every check, email
// among them), the snapshot and the Slack client are imported on first use, not with the context.
import type { Config } from '../config/env.js';
import type { Db } from '../db/client.js';
import type { Logger } from '../logger.js';
import { noSlackAnnouncer, type GoLiveGate, type LiveSwitchPorts, type ModeAnnouncer, type Snapshotter } from '../services/mode/ports.js';

const lazyAuditGate: GoLiveGate = async (ctx, opts) => (await import('../services/mode/audit-gate.js')).auditGate()(ctx, opts);

const lazySnapshotter: Snapshotter = async (ctx, opts) => (await import('../services/mode/backup-snapshot.js')).backupSnapshotter(ctx, opts);

function lazySlackModeAnnouncer(config: Config, logger: Logger, db: Db): ModeAnnouncer {
  let real: Promise<ModeAnnouncer> | undefined;
  const load = () => (real ??= import('../slack/mode-announcer.js').then((m) => m.createSlackModeAnnouncer(config, logger, db)));
  return {
    available: true,
    postRequest: async (view) => (await load()).postRequest(view),
    postInThread: async (channel, threadTs, view) => (await load()).postInThread(channel, threadTs, view),
    postNotice: async (view) => (await load()).postNotice(view),
  };
}

export function defaultLiveSwitchPorts(config: Config, logger: Logger, db: Db, overrides: Partial<LiveSwitchPorts> = {}): LiveSwitchPorts {
  const announcer =
    overrides.announcer ??
    (config.slackEnabled && config.SLACK_OPS_CHANNEL ? lazySlackModeAnnouncer(config, logger, db) : noSlackAnnouncer);
  return {
    gate: overrides.gate ?? lazyAuditGate,
    snapshot: overrides.snapshot ?? lazySnapshotter,
    announcer,
  };
}
