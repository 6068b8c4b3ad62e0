// Checklist 7: a recent snapshot of the configuration and of the logs/reports exists and still
// matches its manifest (`ctb backup`); the engine runs a tagged release built from a clean tree
// (`ctb version`): the live switch's gate fails anything else, an operator's audit warns of it.
import { formatDuration } from '../../../config/duration.js';
import { inspectLatestBackup } from '../../backup/index.js';
import { builtDirty, describeRelease, readReleaseInfo, type ReleaseInfo } from '../../release/version.js';
import { judgedRelease } from '../sources/engine-release.js';
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

const TAG = 'git tag v1.0-go-live && git push --tags';

/** What makes the judged release a tagged one built from a clean tree, running as the engine. */
function releaseFix(info: ReleaseInfo): string {
  const build = 'build it there (npm ci, or npm run build: dist/build-info.json records the tag) and restart the engine on it (ctb start)';
  if (info.source === 'package' && info.build === null) {
    return `This build records no tag (dist/build-info.json has none) and has no .git to read one from: tag the release (${TAG}), check that tag out, ${build}, and deploy that build.`;
  }
  if (info.source === 'git' && info.dirty) return `Commit or discard the local changes (git status lists them), tag the release (${TAG}), ${build}: \`ctb version\` then prints the tag.`;
  if (builtDirty(info)) return `dist/ was built from uncommitted changes: on a clean checkout of the release tag (git status lists nothing; tag it first if it has none: ${TAG}), ${build}.`;
  if (info.tag !== null) return `Rebuild dist/ from the tagged checkout (npm run build) and restart the engine on it (ctb start).`;
  return `Tag the commit to release (${TAG}), check that tag out where the engine runs, ${build}: \`ctb version\` then prints the tag.`;
}

/**
 * The release check over a reader of this process's release (tests give their own). It judges the
 * engine's recorded release (sources/engine-release.ts). Not a tagged release built from a clean tree:
 * the live switch's gate (purpose `golive`) fails it; an operator's audit warns, saying the gate fails it.
 */
export function releaseCheckOf(readOwn: (ctx: AuditContext) => Promise<ReleaseInfo>) {
  return defineCheck({
    id: 'release.tag',
    title: 'Running code is a tagged release',
    checklistSection: 7,
    async run(ctx, opts) {
      const gate = opts.purpose === 'golive';
      const judged = await judgedRelease(ctx, () => readOwn(ctx), gate ? 'golive' : 'operator');
      const status = gate ? 'fail' : 'warn';
      const because = (fix: string) => (gate ? `Going live needs the engine to run a tagged release built from a clean tree. ${fix}` : `${fix} The live switch's audit fails it until then.`);
      if (judged.info === null) {
        return {
          status,
          value: `not judged: ${judged.why}`,
          fix: because(judged.fix),
          details: { releaseFrom: judged.from, releaseSource: judged.source },
        };
      }
      const info = judged.info;
      const value = `${describeRelease(info)} (${judged.from})`;
      const details = { ...info, releaseFrom: judged.from, releaseSource: judged.source };
      if (info.tagged) return { status: 'pass', value, fix: null, details };
      return { status, value, fix: because(releaseFix(info)), details };
    },
  });
}

export const releaseCheck = releaseCheckOf((ctx) => readReleaseInfo({ buildCommit: ctx.config.BUILD_COMMIT }));
