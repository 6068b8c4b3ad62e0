// Owns "which code is running": the release tag or commit of the checkout this module was loaded
// from (`git describe --tags --always --dirty`), or, outside a git checkout (a deployed tarball),
// package.json's version plus BUILD_COMMIT — and the release facts scripts/build.mjs recorded in
// dist/build-info.json (commit, tag, dirty at build), since dist/ is the code `ctb` runs: a tarball
// built on a tag shows that tag, and a build from a dirty tree is no release even once the tree is
// clean again. `ctb version`, backups, the engine's recorded release and the audit's release check use it.
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import type { BuildFacts, ReleaseInfo } from '../../domain/release.js';
import { PROJECT_ROOT } from '../../paths.js';
import { describedHash, readDescribe } from '../../domain/git-describe.js';

const run = promisify(execFile);

export { PROJECT_ROOT };

export type { BuildFacts, ReleaseInfo } from '../../domain/release.js';

export interface ReleaseOptions {
  /** Directory of the checkout (default: this project's root). */
  root?: string;
  buildCommit?: string | undefined;
}

function packageVersion(root: string): string {
  try {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version?: unknown };
    return typeof pkg.version === 'string' ? pkg.version : '0.0.0';
  } catch {
    return '0.0.0';
  }
}

function readBuildInfo(root: string): Record<string, unknown> | null {
  try {
    const info = JSON.parse(readFileSync(join(root, 'dist', 'build-info.json'), 'utf8')) as unknown;
    return info !== null && typeof info === 'object' ? (info as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

const text = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : null);

function distCommit(info: Record<string, unknown> | null): string | null {
  return text(info?.['commit']);
}

/** The build's release facts; null when build-info.json is missing or older than them (no `dirty` key). */
function buildFacts(info: Record<string, unknown> | null): BuildFacts | null {
  if (!info || !('dirty' in info)) return null;
  return { commit: text(info['commit']), tag: text(info['tag']), dirty: typeof info['dirty'] === 'boolean' ? info['dirty'] : null };
}

/**
 * How long one read of a checkout's release waits on its git processes, together: past it, git is
 * taken not to answer and the release is read without it (dist/build-info.json, package.json). The
 * engine part's start reads it, and a start stopped meanwhile waits 5 s for that part
 * (STARTING_STOP_WAIT_MS, src/app/started-parts.ts): a git that hangs must give the fallback well
 * before, not race it (at 5 s each, which ended first was chance, and describe then rev-parse was 10 s).
 */
export const RELEASE_GIT_TIMEOUT_MS = 3_000;

/** git's output (null when it failed or is missing), and whether it was given up on for the read's time. */
interface GitAnswer {
  stdout: string | null;
  timedOut: boolean;
}

/** Runs git within the read's time for git (`deadline`, epoch ms). */
async function git(root: string, args: string[], deadline: number): Promise<GitAnswer> {
  const timeout = deadline - Date.now();
  if (timeout <= 0) return { stdout: null, timedOut: true };
  try {
    const { stdout } = await run('git', args, { cwd: root, timeout, windowsHide: true });
    return { stdout: stdout.trim(), timedOut: false };
  } catch (err) {
    return { stdout: null, timedOut: (err as { killed?: unknown }).killed === true };
  }
}

const readText = (path: string): string | null => {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return null; // missing, or a directory
  }
};
const OBJECT_ID = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/;

/**
 * HEAD's commit read from the files under .git (a linked worktree's .git file and commondir, a loose
 * or packed branch ref, or a detached HEAD), without a git process; null when it cannot be read so.
 */
function headCommitFromFiles(root: string): string | null {
  let gitDir = join(root, '.git');
  const pointer = readText(gitDir);
  if (pointer?.startsWith('gitdir: ')) gitDir = resolve(root, pointer.slice('gitdir: '.length));
  const head = readText(join(gitDir, 'HEAD'));
  if (head === null) return null;
  if (OBJECT_ID.test(head)) return head;
  const ref = /^ref: (refs\/\S+)$/.exec(head)?.[1];
  if (!ref) return null;
  const common = readText(join(gitDir, 'commondir'));
  const commonDir = common === null ? gitDir : resolve(gitDir, common);
  const loose = readText(join(gitDir, ref)) ?? readText(join(commonDir, ref));
  if (loose !== null) return OBJECT_ID.test(loose) ? loose : null;
  for (const line of readText(join(commonDir, 'packed-refs'))?.split('\n') ?? []) {
    const [id, name] = line.split(' ');
    if (name === ref && id !== undefined && OBJECT_ID.test(id)) return id;
  }
  return null;
}

export { readDescribe };

/**
 * The release of this project's own checkout, read once per process (per BUILD_COMMIT): a process
 * runs the code it loaded when it started, and a pull, a new tag or an edit in the checkout
 * underneath a running bot does not change that code — they are what the next start runs. So every
 * snapshot, audit and runbook of one process names the same release, and only the first costs a git
 * process. It is read when first asked, not at start (that would cost every command a git process):
 * a bot whose checkout moved before its first read names the moved checkout, as every read did
 * before. A checkout given by path (`root`) is read each time.
 */
const running = new Map<string, Promise<ReleaseInfo>>();

export async function readReleaseInfo(opts: ReleaseOptions = {}): Promise<ReleaseInfo> {
  if (opts.root !== undefined) return readCheckout(opts.root, opts.buildCommit);
  const key = opts.buildCommit ?? '';
  let info = running.get(key);
  if (!info) running.set(key, (info = readCheckout(PROJECT_ROOT, opts.buildCommit)));
  return { ...(await info) };
}

async function readCheckout(root: string, buildCommit: string | undefined): Promise<ReleaseInfo> {
  const version = packageVersion(root);
  const buildInfo = readBuildInfo(root);
  const build = buildFacts(buildInfo);
  // One git process (each costs a command a process start), and only when `root` is itself the top
  // of a work tree (it has a .git), not a directory inside some enclosing repository. HEAD's full
  // commit is read from .git's files when it is the commit describe abbreviated, else asked of git.
  const deadline = Date.now() + RELEASE_GIT_TIMEOUT_MS;
  const describe = existsSync(join(root, '.git')) ? await git(root, ['describe', '--tags', '--always', '--dirty', '--long'], deadline) : null;
  const raw = describe?.stdout ?? null;
  const described = readDescribe(raw);
  if (raw && described) {
    const { label, tag, dirty } = described;
    const abbreviated = describedHash(raw);
    const fromFiles = headCommitFromFiles(root);
    const commit = abbreviated && fromFiles?.startsWith(abbreviated) ? fromFiles : (await git(root, ['rev-parse', 'HEAD'], deadline)).stdout;
    // dist/ is what runs: built from this commit, from a clean tree (a build that predates recording
    // that is not known to be clean). No build at all: the sources run (tsx, tests). A build whose
    // build-info.json is missing or unreadable was made who knows where or how: no release.
    const noBuild = buildInfo === null && !existsSync(join(root, 'dist', 'ctb.js'));
    const builtHere = noBuild || (build !== null && build.commit === commit && build.dirty === false);
    return { source: 'git', label, tag, commit, dirty, tagged: tag !== null && !dirty && builtHere, packageVersion: version, distCommit: distCommit(buildInfo), build };
  }
  if (build?.commit && describe?.timedOut) {
    // A checkout whose git did not answer in time: the tree may hold changes dist/'s record cannot
    // know of (a slow git must not turn a dirty checkout into a release that a quick one refuses).
    return {
      source: 'package', label: `${version}+${build.commit.slice(0, 12)}`, tag: build.tag, commit: build.commit, dirty: build.dirty === true, tagged: false,
      packageVersion: version, distCommit: build.commit, build, gitTimedOut: true,
    };
  }
  if (build?.commit) {
    // A deployed build without .git (or one whose git is missing or refuses it): its tag and
    // cleanliness are the ones recorded when it was built.
    const label = build.tag ?? `${version}+${build.commit.slice(0, 12)}`;
    return {
      source: 'package', label, tag: build.tag, commit: build.commit, dirty: build.dirty === true, tagged: build.tag !== null && build.dirty === false,
      packageVersion: version, distCommit: build.commit, build,
    };
  }
  return {
    source: 'package',
    label: buildCommit ? `${version}+${buildCommit.slice(0, 12)}` : version,
    tag: null,
    commit: buildCommit ?? null,
    dirty: false,
    tagged: false,
    packageVersion: version,
    distCommit: distCommit(buildInfo),
    build,
  };
}

/** dist/ was built from uncommitted changes (recorded at build): no commit holds the code it runs. */
export function builtDirty(info: ReleaseInfo): boolean {
  return info.build?.dirty === true;
}

/** One line for people: what runs and whether it is a tagged release (and dist/'s commit when it differs). */
export function describeRelease(info: ReleaseInfo): string {
  const line = describeCheckout(info);
  if (info.distCommit === null || info.distCommit === info.commit) return line;
  if (info.commit === null) return `${line}; dist/ was built at commit ${info.distCommit.slice(0, 12)}`;
  return `${line}; but dist/ (what ctb runs) was built at commit ${info.distCommit.slice(0, 12)}: run \`npm run build\` to run the checkout's code`;
}

function describeCheckout(info: ReleaseInfo): string {
  if (info.source === 'package' && info.build?.commit) {
    const commit = info.build.commit.slice(0, 12);
    if (info.gitTimedOut) return `${info.label} (dist/ built at commit ${commit}; git did not answer within ${RELEASE_GIT_TIMEOUT_MS / 1000} s, so whether the checkout is clean is unknown: not a release)`;
    if (info.tagged) return `${info.label} (tagged release, commit ${commit}, as dist/ was built; not a git checkout)`;
    if (builtDirty(info)) return `${info.label} (dist/ built at commit ${commit} with uncommitted changes: not a release; not a git checkout)`;
    if (info.build.dirty === null) return `${info.label} (dist/ built at commit ${commit}; whether its tree was clean is unknown: not a release; not a git checkout)`;
    return `${info.label} (dist/ built at commit ${commit}, not on a release tag; not a git checkout)`;
  }
  if (info.source === 'package') {
    return info.commit
      ? `${info.label} (package version ${info.packageVersion}, commit ${info.commit} from BUILD_COMMIT; not a git checkout)`
      : `${info.label} (package version; not a git checkout and BUILD_COMMIT is unset, so the commit is unknown)`;
  }
  const commit = info.commit ? info.commit.slice(0, 12) : 'unknown commit';
  if (info.tagged) return `${info.label} (tagged release, commit ${commit})`;
  if (info.dirty) return `${info.label} (commit ${commit} with uncommitted changes: not a release)`;
  if (info.tag === null) return `${info.label} (commit ${commit}, not on a release tag)`;
  // On a clean tag, but dist/ (what runs) is not that tag's clean build.
  if (info.distCommit === null && info.build === null) {
    return `${info.label} (commit ${commit} on the tag; but dist/build-info.json (what dist/ was built from) is missing or unreadable: not a release until rebuilt)`;
  }
  if (info.distCommit !== info.commit) return `${info.label} (commit ${commit} on the tag, not a release until dist/ is built from it)`;
  if (builtDirty(info)) return `${info.label} (commit ${commit}; but dist/ (what ctb runs) was built from uncommitted changes: not a release)`;
  return `${info.label} (commit ${commit}; but dist/ (what ctb runs) does not record whether its tree was clean: not a release until rebuilt)`;
}
