// Checklist 7: a recent snapshot of the configuration and of the logs/reports exists and still
// matches its manifest (`ctb backup`); the running code is a tagged release (`ctb version`): the
// go-live gate fails an untagged or dirty one, an operator's audit warns of it.
import { formatDuration } from '../../../config/duration.js';
import { inspectLatestBackup } from '../../backup/index.js';
import { describeRelease, readReleaseInfo, type ReleaseInfo } from '../../release/version.js';
import { defineCheck, type AuditContext } from '../types.js';

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

/** What to run to make `info` a tagged release this bot runs. */
function releaseFix(info: ReleaseInfo): string {
  const tag = 'tag it (git tag v1.0-go-live && git push --tags), check that tag out where the bot runs and restart the bot on it (ctb start): `ctb version` then prints the tag';
  if (info.source === 'package') return `Run the bot from a git checkout of the release: ${tag}. Outside a checkout the tag cannot be read.`;
  if (info.dirty) return `Commit or discard the local changes (git status lists them), then ${tag}.`;
  return `Choose the commit to release, ${tag}.`;
}

/**
 * The release check over a reader of the running release (tests give their own). Untagged or dirty,
 * it fails the go-live gate (purpose `golive`) and warns an operator's audit, saying the gate fails it.
 */
export function releaseCheckOf(readRelease: (ctx: AuditContext) => Promise<ReleaseInfo>) {
  return defineCheck({
    id: 'release.tag',
    title: 'Running code is a tagged release',
    checklistSection: 7,
    async run(ctx, opts) {
      const info = await readRelease(ctx);
      const details = { ...info };
      if (info.tagged) return { status: 'pass', value: describeRelease(info), fix: null, details };
      if (opts.purpose === 'golive') return { status: 'fail', value: describeRelease(info), fix: `Going live needs a tagged release. ${releaseFix(info)}`, details };
      return { status: 'warn', value: describeRelease(info), fix: `${releaseFix(info)} The live switch's audit fails an untagged or dirty release.`, details };
    },
  });
}

export const releaseCheck = releaseCheckOf((ctx) => readReleaseInfo({ buildCommit: ctx.config.BUILD_COMMIT }));
