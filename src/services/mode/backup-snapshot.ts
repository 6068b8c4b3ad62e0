// Owns the live switch's snapshot: the backup service's createSnapshot (configuration with secrets
// redacted, logs, reports and an export of every table, with a SHA-256 manifest and a `backups`
// row), taken after the re-audit passes and before the mode changes.
import { createSnapshot } from '../backup/index.js';
import type { Snapshotter } from './ports.js';

export const backupSnapshotter: Snapshotter = async (ctx, { reason }) => {
  const snapshot = await createSnapshot(ctx, { reason, actor: 'system:live-switch' });
  return { path: snapshot.path, id: String(snapshot.id) };
};
