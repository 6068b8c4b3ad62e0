// Wires the live switch's ports to their real implementations: the whole go-live audit as the
// gate, the backup service's snapshot, and Slack posting (which needs SLACK_OPS_CHANNEL).
import type { Config } from '../config/env.js';
import type { Db } from '../db/client.js';
import type { Logger } from '../logger.js';
import { backupSnapshotter } from '../services/mode/backup-snapshot.js';
import { auditGate } from '../services/mode/audit-gate.js';
import { noSlackAnnouncer, type LiveSwitchPorts } from '../services/mode/ports.js';
import { createSlackModeAnnouncer } from '../slack/mode-announcer.js';

export function defaultLiveSwitchPorts(config: Config, logger: Logger, db: Db, overrides: Partial<LiveSwitchPorts> = {}): LiveSwitchPorts {
  const announcer =
    overrides.announcer ??
    (config.slackEnabled && config.SLACK_OPS_CHANNEL ? createSlackModeAnnouncer(config, logger, db) : noSlackAnnouncer);
  return {
    gate: overrides.gate ?? auditGate(),
    snapshot: overrides.snapshot ?? backupSnapshotter,
    announcer,
  };
}
