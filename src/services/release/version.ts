// Owns "which code is running": the release tag or commit of the checkout this module was loaded
// from (`git describe --tags --always --dirty`), or, outside a git checkout (a deployed tarball),
// package.json's version plus BUILD_COMMIT. `ctb version`, backups and the audit's release check use it.
import { execFile } from 'node:child_process';
import { readFileSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { PROJECT_ROOT } from '../../paths.js';

const run = promisify(execFile);

export { PROJECT_ROOT };

export interface ReleaseInfo {
  /** `git` when read from a checkout, `package` when from package.json (+ BUILD_COMMIT). */
  source: 'git' | 'package';
  /** What to print: the tag (`v1.0-go-live`), `v1.0-3-gabc1234`, `abc1234-dirty`, or `0.1.0+abc1234`. */
  label: string;
  /** The tag HEAD sits on exactly, when it does. */
  tag: string | null;
  commit: string | null;
  /** Tracked files differ from the commit. */
  dirty: boolean;
  /** A tagged release: HEAD is exactly on a tag and nothing is modified. */
  tagged: boolean;
  packageVersion: string;
  /**
   * The commit dist/ (what `ctb` runs) was built at, from dist/build-info.json; null when there is no
   * build or it names none. It differs from `commit` after a pull without `npm run build`.
   */
  distCommit: string | null;
}

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

function distCommit(root: string): string | null {
  try {
    const info = JSON.parse(readFileSync(join(root, 'dist', 'build-info.json'), 'utf8')) as { commit?: unknown };
    return typeof info.commit === 'string' && info.commit !== '' ? info.commit : null;
  } catch {
    return null;
  }
}

async function git(root: string, args: string[]): Promise<string | null> {
  try {
    const { stdout } = await run('git', args, { cwd: root, timeout: 5_000, windowsHide: true });
    return stdout.trim();
  } catch {
    return null;
  }
}

function samePath(a: string, b: string): boolean {
  try {
    return realpathSync(a) === realpathSync(b);
  } catch {
    return false;
  }
}

/**
 * `git describe --tags --always --dirty --long` read as the plain `git describe --tags --always
 * --dirty` (the label) and `git describe --tags --exact-match HEAD` (the tag) would answer: with
 * --long, a tag HEAD sits on exactly reads `<tag>-0-g<hash>`, one it is past `<tag>-<n>-g<hash>`
 * (as without --long), and with no tag at all the abbreviated hash. Either may end in -dirty.
 */
export function readDescribe(raw: string | null): { label: string; tag: string | null; dirty: boolean } | null {
  if (!raw) return null;
  const dirty = raw.endsWith('-dirty');
  const core = dirty ? raw.slice(0, -'-dirty'.length) : raw;
  const m = /^(.+)-(\d+)-g[0-9a-f]+$/.exec(core);
  if (m && m[2] === '0') return { label: `${m[1]}${dirty ? '-dirty' : ''}`, tag: m[1]!, dirty };
  return { label: raw, tag: null, dirty };
}

export async function readReleaseInfo(opts: ReleaseOptions = {}): Promise<ReleaseInfo> {
  const root = opts.root ?? PROJECT_ROOT;
  const version = packageVersion(root);
  // Two git processes, one after the other (each costs a command a process start): the work tree's
  // top and HEAD's commit, then — only when `root` is itself the top of a work tree, not inside some
  // enclosing repository — describe.
  const [top, commit] = (await git(root, ['rev-parse', '--show-toplevel', 'HEAD']))?.split('\n') ?? [];
  const isCheckout = top !== undefined && commit !== undefined && samePath(top, root);
  const described = isCheckout ? readDescribe(await git(root, ['describe', '--tags', '--always', '--dirty', '--long'])) : null;
  if (described) {
    const { label, tag, dirty } = described;
    return { source: 'git', label, tag, commit: commit ?? null, dirty, tagged: tag !== null && !dirty, packageVersion: version, distCommit: distCommit(root) };
  }
  const buildCommit = opts.buildCommit ?? null;
  return {
    source: 'package',
    label: buildCommit ? `${version}+${buildCommit.slice(0, 12)}` : version,
    tag: null,
    commit: buildCommit,
    dirty: false,
    tagged: false,
    packageVersion: version,
    distCommit: distCommit(root),
  };
}

/** One line for people: what runs and whether it is a tagged release (and dist/'s commit when it differs). */
export function describeRelease(info: ReleaseInfo): string {
  const line = describeCheckout(info);
  if (info.distCommit === null || info.distCommit === info.commit) return line;
  if (info.commit === null) return `${line}; dist/ was built at commit ${info.distCommit.slice(0, 12)}`;
  return `${line}; but dist/ (what ctb runs) was built at commit ${info.distCommit.slice(0, 12)}: run \`npm run build\` to run the checkout's code`;
}

function describeCheckout(info: ReleaseInfo): string {
  if (info.source === 'package') {
    return info.commit
      ? `${info.label} (package version ${info.packageVersion}, commit ${info.commit} from BUILD_COMMIT; not a git checkout)`
      : `${info.label} (package version; not a git checkout and BUILD_COMMIT is unset, so the commit is unknown)`;
  }
  const commit = info.commit ? info.commit.slice(0, 12) : 'unknown commit';
  if (info.tagged) return `${info.label} (tagged release, commit ${commit})`;
  if (info.dirty) return `${info.label} (commit ${commit} with uncommitted changes: not a release)`;
  return `${info.label} (commit ${commit}, not on a release tag)`;
}
