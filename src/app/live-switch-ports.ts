// Wires the live switch's ports to their real implementations: the whole go-live audit as the
// gate, the backup service's snapshot, the process's notifier as the announcer (which needs a
// notifier that carries change requests: Slack with SLACK_OPS_CHANNEL), and Slack's reactions.get
// as the reading of a request message's reactions (none without Slack: no quorum completes).
// Every command builds these ports with its context, few use them: the audit (every check, email
// among them) and the snapshot are imported on first use, not with the context; the notifier and the
// reactions load their client on their first call.
import type { Config } from '../config/env.js';
import type { Db } from '../db/client.js';
import type { Notifier } from '../notifications/notification.js';
import {
  noSlackAnnouncer, noSlackReactions, type GoLiveGate, type LiveSwitchPorts, type MessageReactions, type Snapshotter,
} from '../services/mode/ports.js';
import { slackCallMaxMs } from '../slack/call-bound.js';
import { notifiedModeAnnouncer } from './notifier-ports.js';

const lazyAuditGate: GoLiveGate = async (ctx, opts) => (await import('../services/mode/audit-gate.js')).auditGate()(ctx, opts);

const lazySnapshotter: Snapshotter = async (ctx, opts) => (await import('../services/mode/backup-snapshot.js')).backupSnapshotter(ctx, opts);

/** reactions.get, loaded with the Web API client when a quorum is first checked. */
function lazySlackReactions(config: Config): MessageReactions {
  let real: Promise<MessageReactions> | undefined;
  const load = () => (real ??= import('../slack/message-reactions.js').then((m) => m.slackMessageReactions(config)));
  return { read: async (where) => (await load()).read(where) };
}

export function defaultLiveSwitchPorts(config: Config, notifier: Notifier | null, db: Db, overrides: Partial<LiveSwitchPorts> = {}): LiveSwitchPorts {
  return {
    gate: overrides.gate ?? lazyAuditGate,
    snapshot: overrides.snapshot ?? lazySnapshotter,
    announcer: overrides.announcer ?? notifiedModeAnnouncer(notifier, db, slackCallMaxMs(config)) ?? noSlackAnnouncer,
    reactions: overrides.reactions ?? (config.slackEnabled ? lazySlackReactions(config) : noSlackReactions),
  };
}
