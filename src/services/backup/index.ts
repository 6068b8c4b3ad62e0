// The backup service's public face: take a snapshot, verify one, prune by retention.
export { createSnapshot, type SnapshotContext, type SnapshotDeps, type SnapshotOptions, type SnapshotResult } from './create-snapshot.js';
export { verifySnapshot, type SnapshotVerification } from './verify.js';
export { inspectLatestBackup, latestBackup, type BackupHealth } from './latest.js';
export { listSnapshots, pruneBackups, selectForPruning, type PruneResult } from './retention.js';
export { MANIFEST_FILE, type Manifest, type VerifyProblem } from './manifest.js';
