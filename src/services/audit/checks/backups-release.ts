// Checklist 7: a recent snapshot of the configuration and of the logs/reports exists and still
// matches its manifest (`ctb backup`); the running code is a tagged release (`ctb version`).
import { formatDuration } from '../../../config/duration.js';
import { inspectLatestBackup } from '../../backup/index.js';
import { describeRelease, readReleaseInfo } from '../../release/version.js';
import { defineCheck } from '../types.js';

function age(ms: number): string {
  const rounded = ms >= 86_400_000 ? Math.floor(ms / 3_600_000) * 3_600_000 : Math.floor(ms / 60_000) * 60_000;
  return rounded > 0 ? formatDuration(rounded) : 'under a minute';
}

export const backupsCheck = defineCheck({
  id: 'backups.snapshot',
  title: 'Recent configuration and log/report snapshots',
  checklistSection: 7,
  // Verifying re-hashes every file of the newest snapshot (logs can be a few hundred MB).
  timeoutMs: 120_000,
  async run(ctx) {
    const health = await inspectLatestBackup(ctx.db);
    const fixNew = 'Take one now: `ctb backup --reason pre-go-live`, then `ctb backup verify <dir>`.';
    if (!health) return { status: 'warn', value: 'no backup snapshot taken yet', fix: fixNew };
    const { record, verification, holds } = health;
    const old = ctx.clock.now().getTime() - record.at.getTime();
    const details = { path: record.path, at: record.at.toISOString(), reason: record.reason, files: record.files, holds, problems: verification.problems };
    const name = `${record.path} (${record.reason}, ${age(old)} old)`;
    if (!verification.ok) {
      const first = verification.problems[0]?.detail ?? 'unknown problem';
      return {
        status: 'fail',
        value: `newest snapshot ${name} fails verification: ${first}${verification.problems.length > 1 ? ` (+${verification.problems.length - 1} more)` : ''}`,
        fix: `Find out who changed it, then take a fresh one. ${fixNew}`,
        details,
      };
    }
    const missing = (['config', 'logs'] as const).filter((part) => !holds[part]);
    if (missing.length > 0) {
      return { status: 'warn', value: `newest snapshot ${name} has no ${missing.join(' or ')}`, fix: `Check LOG_DIR holds the logs, then ${fixNew}`, details };
    }
    if (old > ctx.config.BACKUP_RECENT_WITHIN) {
      return {
        status: 'warn',
        value: `newest snapshot ${name} is older than ${formatDuration(ctx.config.BACKUP_RECENT_WITHIN)} (BACKUP_RECENT_WITHIN)`,
        fix: fixNew,
        details,
      };
    }
    return { status: 'pass', value: `${name}: ${verification.checked} files match the manifest`, fix: null, details };
  },
});

export const releaseCheck = defineCheck({
  id: 'release.tag',
  title: 'Running code is a tagged release',
  checklistSection: 7,
  async run(ctx) {
    const info = await readReleaseInfo({ buildCommit: ctx.config.BUILD_COMMIT });
    const details = { ...info };
    if (info.tagged) return { status: 'pass', value: describeRelease(info), fix: null, details };
    return {
      status: 'warn',
      value: describeRelease(info),
      fix: info.dirty
        ? 'Commit or discard the local changes, tag the release (git tag v1.0-go-live && git push --tags) and deploy that tag.'
        : 'Tag the release (git tag v1.0-go-live && git push --tags) and deploy that tag (`ctb version` then prints the tag).',
      details,
    };
  },
});
