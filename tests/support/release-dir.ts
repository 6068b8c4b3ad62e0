// A release directory of the tree under test, made as an operator makes a release: every file of this
// checkout's working tree (tracked and untracked, not ignored: uncommitted changes included, so what is
// rehearsed is the code under test) copied into a git repository of its own, committed there, tagged
// when asked, node_modules linked (what `npm ci` would install), and built there by scripts/build.mjs,
// so dist/build-info.json records that repository's commit, tag and whether its tree was clean. Its
// bin/ctb.js is the shipped binary of that release: what the go-live gate's release check judges.
import { execFileSync } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';

const ROOT = new URL('../..', import.meta.url).pathname;

export interface ReleaseDir {
  dir: string;
  /** Its shipped binary (bin/ctb.js). */
  bin: string;
  /** `git …` in the release's repository (a committer configured, no signing). */
  git(...args: string[]): string;
  /** scripts/build.mjs in the release directory, as `npm run build` there. */
  build(): void;
  remove(): void;
}

/**
 * A copy of the tree under test committed in a repository of its own (tagged `tag` unless null) and built.
 * `reuseBuild`: dist/ starts as a copy of this checkout's (which the tests' global setup built from
 * these very files), so the release's build finds nothing it read changed and records only the
 * release's own facts (commit, tag, dirty) in build-info.json, where a build from nothing costs some 3
 * CPU-seconds of esbuild. For tests whose point is what a build records, not that esbuild bundles:
 * the decision is still the build's own (a file changed since runs the bundler as before).
 */
export function releaseDir(opts: { tag: string | null; prefix?: string; reuseBuild?: boolean }): ReleaseDir {
  const dir = mkdtempSync(join(tmpdir(), opts.prefix ?? 'ctb-release-'));
  const git = (...args: string[]) => execFileSync('git', [
    '-c', 'user.email=release@example.com', '-c', 'user.name=release', '-c', 'commit.gpgsign=false', '-c', 'tag.gpgsign=false', ...args,
  ], { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  copyTreeUnderTest(dir);
  git('init', '-q');
  borrowObjects(dir);
  git('add', '-A');
  git('commit', '-qm', 'release under test');
  if (opts.tag !== null) git('tag', opts.tag);
  readyToBuild(dir, opts.reuseBuild === true);
  const build = buildIn(dir);
  build();
  return { dir, bin: join(dir, 'bin/ctb.js'), git, build, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface CheckoutCopy {
  dir: string;
  /** scripts/build.mjs in the copy. */
  build(): void;
  remove(): void;
}

/**
 * A copy of the tree under test (as a release directory's, without its git repository: what a build
 * reads) whose dist/ starts as a copy of this checkout's, as with `reuseBuild`, and built. For tests
 * that delete or rewrite files of a build: this checkout's dist/ is the one every `ctb` the other
 * test files spawn meanwhile loads.
 */
export function checkoutCopy(opts: { prefix: string }): CheckoutCopy {
  const dir = mkdtempSync(join(tmpdir(), opts.prefix));
  copyTreeUnderTest(dir);
  readyToBuild(dir, true);
  const build = buildIn(dir);
  build();
  return { dir, build, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * The new repository reads the objects this checkout's repository already holds from there (git's
 * alternates, as `git clone --shared` sets up): `git add` finds every committed file's blob there
 * and writes only those of files changed since, where writing a loose object for each of the tree's
 * thousand files cost about a CPU-second, mostly the kernel's. Its commits, tags and refs are its own;
 * in this checkout's repository git only refreshes the modification time of the objects it finds.
 */
function borrowObjects(dir: string): void {
  const objects = resolve(ROOT, execFileSync('git', ['rev-parse', '--git-path', 'objects'], { cwd: ROOT, encoding: 'utf8' }).trim());
  writeFileSync(join(dir, '.git/objects/info/alternates'), `${objects}\n`);
}

/** Every file of this checkout's working tree (tracked and untracked, not ignored) copied into `dir`. */
function copyTreeUnderTest(dir: string): void {
  const files = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: ROOT, encoding: 'utf8' }).split('\0').filter(Boolean);
  for (const file of files) {
    // A tracked file deleted in the working tree is not part of the tree under test.
    if (!existsSync(join(ROOT, file))) continue;
    mkdirSync(dirname(join(dir, file)), { recursive: true });
    copyFileSync(join(ROOT, file), join(dir, file));
  }
}

/** node_modules linked (what `npm ci` would install), and what `dir`'s build starts from: this checkout's dist/ when `reuse`, else only its database template. */
function readyToBuild(dir: string, reuse: boolean): void {
  symlinkSync(realpathSync(join(ROOT, 'node_modules')), join(dir, 'node_modules'));
  if (reuse) {
    // With its files' modification times to the nanosecond: the build's record of what it wrote
    // compares them (scripts/build-inputs.mjs), and Node's copy keeps them to the millisecond only.
    execFileSync('cp', ['-a', join(ROOT, 'dist'), join(dir, 'dist')]);
  } else {
    // The embedded database's template depends only on PGlite and migrations/, the same here: copied,
    // so the build does not initialise one again.
    for (const name of ['pglite-template', 'pglite-template.json']) {
      if (existsSync(join(ROOT, 'dist', name))) cpSync(join(ROOT, 'dist', name), join(dir, 'dist', name), { recursive: true });
    }
  }
}

const buildIn = (dir: string) => () => void execFileSync(process.execPath, [join(dir, 'scripts/build.mjs'), '--quiet'], { cwd: dir, stdio: ['ignore', 'ignore', 'inherit'] });
