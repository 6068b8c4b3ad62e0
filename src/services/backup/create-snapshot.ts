// Owns taking a snapshot: configuration (secrets redacted), LOG_DIR logs, reports, and an export of
// every database table, written to BACKUP_DIR/<timestamp>.partial/, sealed with a manifest of SHA-256
// checksums, renamed into place (so a snapshot is either complete or absent), recorded in `backups`,
// then retention runs. `ctb backup` and the live switch both call createSnapshot.
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, join, resolve, sep } from 'node:path';
import type { Clock } from '../../clock.js';
import type { Config } from '../../config/env.js';
import type { Db } from '../../db/client.js';
import { insertBackupRecord } from '../../db/queries/backups.js';
import { strategiesPath } from '../../engine/strategies/config.js';
import { AppError } from '../../errors.js';
import type { Logger } from '../../logger.js';
import { readReleaseInfo } from '../release/version.js';
import { exportTables, type TableExport } from './export-tables.js';
import { listFiles, MANIFEST_FILE, MANIFEST_FORMAT, serializeManifest, sha256, type Manifest } from './manifest.js';
import { backupScrubber, redactedConfig, redactEnvFile } from './redact.js';
import { pruneBackups, PARTIAL_SUFFIX } from './retention.js';
import { snapshotStamp } from './snapshot-names.js';
import { SnapshotWriter } from './snapshot-writer.js';

/** A snapshot: the whole configuration (it is copied, redacted), the database it exports and records in, the clock, the log. */
export interface SnapshotDeps {
  config: Config;
  db: Db;
  clock: Clock;
  logger: Logger;
}

/** The name callers and tests already use for what a snapshot needs. */
export type SnapshotContext = SnapshotDeps;

export interface SnapshotOptions {
  /** Why: `manual`, `live-switch`, `pre-deploy`… Stored in the manifest and the `backups` row. */
  reason: string;
  /** Who asked (Slack user id, `cli:<user>`, `system:<job>`). */
  actor?: string;
  /** The .env file to copy, redacted (default `.env` in the working directory). */
  envFile?: string;
}

export interface SnapshotResult {
  id: number;
  path: string;
  name: string;
  at: string;
  reason: string;
  manifestSha256: string;
  files: number;
  bytes: number;
  tables: TableExport[];
  pruned: string[];
}

async function copyTree(writer: SnapshotWriter, sourceDir: string, target: string, backupDir: string): Promise<number> {
  if (!existsSync(sourceDir) || !(await stat(sourceDir)).isDirectory()) return 0;
  // Never copy earlier snapshots into this one (BACKUP_DIR inside LOG_DIR or REPORTS_DIR).
  const inside = (p: string) => p === backupDir || p.startsWith(`${backupDir}${sep}`);
  const files = (await listFiles(sourceDir)).filter((file) => !inside(resolve(sourceDir, file)));
  for (const file of files) await writer.copyFile(join(sourceDir, file), `${target}/${file}`);
  return files.length;
}

/** The risk settings a restore must bring back: the guard's limits and the capital held back. */
export const RISK_CONFIG_KEYS = [
  'RISK_MAX_DRAWDOWN_PCT', 'RISK_DAILY_LOSS_PCT', 'RISK_HARD_DRAWDOWN_PCT', 'RISK_APPETITE_MAX_DRAWDOWN_PCT',
  'CAPITAL_RESERVE_PCT', 'AUTO_KILL', 'QUOTE_CURRENCY', 'PAPER_STARTING_BALANCE',
] as const;

async function writeConfig(ctx: SnapshotDeps, writer: SnapshotWriter, envFile: string): Promise<void> {
  await writer.writeText('config/effective.json', `${JSON.stringify(redactedConfig(ctx.config), null, 2)}\n`);
  if (existsSync(envFile)) await writer.writeText('config/env.redacted', redactEnvFile(await readFile(envFile, 'utf8')));
  // The file the engine trades from, whether STRATEGIES_FILE names it or it is the repository's
  // config/strategies.json (the checklist asks for the strategy configs in every backup).
  const strategies = strategiesPath(ctx.config);
  if (existsSync(strategies)) await writer.copyFile(strategies, `config/strategies/${basename(strategies)}`);
  else await writer.writeText('config/strategies/MISSING.txt', `The strategies file ${strategies} did not exist when this snapshot was taken.\n`);
  const risk = Object.fromEntries(RISK_CONFIG_KEYS.map((k) => [k, ctx.config[k]]));
  await writer.writeText('config/risk.json', `${JSON.stringify(risk, null, 2)}\n`);
}

async function claimDirectory(backupDir: string, stamp: string): Promise<{ name: string; partial: string }> {
  await mkdir(backupDir, { recursive: true, mode: 0o700 });
  for (let seq = 1; seq < 100; seq += 1) {
    const name = seq === 1 ? stamp : `${stamp}-${seq}`;
    if (existsSync(join(backupDir, name))) continue;
    const partial = join(backupDir, `${name}${PARTIAL_SUFFIX}`);
    try {
      await mkdir(partial, { mode: 0o700 });
      return { name, partial };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
  throw new AppError('conflict', 'backup_name_taken', `Could not find a free snapshot name for ${stamp} in ${backupDir}.`);
}

export async function createSnapshot(ctx: SnapshotDeps, opts: SnapshotOptions): Promise<SnapshotResult> {
  const reason = opts.reason.trim();
  if (!reason) throw new AppError('usage', 'backup_reason_missing', 'A snapshot needs a reason (for example "manual" or "live-switch").');
  const at = ctx.clock.now();
  const actor = opts.actor ?? 'system';
  const backupDir = resolve(ctx.config.BACKUP_DIR);
  const { name, partial } = await claimDirectory(backupDir, snapshotStamp(at));
  const finalPath = join(backupDir, name);
  let sealed = false;
  let written: Omit<SnapshotResult, 'pruned'>;
  try {
    const writer = new SnapshotWriter(partial, backupScrubber(ctx.config));
    await writeConfig(ctx, writer, opts.envFile ?? '.env');
    await copyTree(writer, ctx.config.LOG_DIR, 'logs', backupDir);
    await copyTree(writer, ctx.config.REPORTS_DIR, 'reports', backupDir);
    const tables = await exportTables(ctx.db, writer);
    const release = await readReleaseInfo({ buildCommit: ctx.config.BUILD_COMMIT });
    const manifest: Manifest = { format: MANIFEST_FORMAT, createdAt: at.toISOString(), reason, actor, release: release.label, files: writer.entries };
    // The manifest is written as is: it holds only paths and checksums (which look token-shaped to the scrubber).
    const manifestText = serializeManifest(manifest);
    await writeFile(join(partial, MANIFEST_FILE), manifestText, { mode: 0o600 });
    await rename(partial, finalPath);
    sealed = true;
    const manifestSha256 = sha256(manifestText);
    const files = writer.entries.length;
    const bytes = writer.entries.reduce((sum, e) => sum + e.bytes, 0);
    const id = await insertBackupRecord(ctx.db, { at, path: finalPath, reason, actor, manifestSha256, files, bytes });
    written = { id, path: finalPath, name, at: at.toISOString(), reason, manifestSha256, files, bytes, tables };
  } catch (err) {
    // All or nothing: a snapshot without its row (or a half-written one) is removed.
    await rm(sealed ? finalPath : partial, { recursive: true, force: true });
    if (err instanceof AppError) throw err;
    throw new AppError('internal', 'backup_failed', `The backup snapshot could not be written: ${(err as Error).message}`, {
      hint: `Nothing was kept in ${backupDir}; check that it is writable and has space, then run ctb backup again.`,
      cause: err,
    });
  }
  let pruned: string[] = [];
  try {
    ({ pruned } = await pruneBackups({ backupDir, retention: ctx.config.BACKUP_RETENTION, now: at, keep: [name], db: ctx.db }));
  } catch (err) {
    // The snapshot is safe; failing to prune older ones must not fail it (nor a live switch waiting on it).
    ctx.logger.warn({ err, backupDir }, 'backup retention could not prune old snapshots');
  }
  ctx.logger.info({ path: finalPath, reason, actor, files: written.files, bytes: written.bytes, pruned }, `backup snapshot written to ${finalPath}`);
  return { ...written, pruned };
}
