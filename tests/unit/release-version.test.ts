import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { STARTING_STOP_WAIT_MS } from '../../src/app/started-parts.js';
import { describeRelease, readDescribe, readReleaseInfo } from '../../src/services/release/version.js';
import { holdGit } from '../support/held-git.js';
import { withEnv } from '../support/with-env.js';

const dirs: string[] = [];
function dir(): string {
  const d = mkdtempSync(join(tmpdir(), 'ctb-version-'));
  dirs.push(d);
  writeFileSync(join(d, 'package.json'), JSON.stringify({ name: 'x', version: '1.2.3' }));
  return d;
}
function git(cwd: string, ...args: string[]): void {
  execFileSync('git', ['-c', 'user.email=t@example.com', '-c', 'user.name=t', '-c', 'commit.gpgsign=false', '-c', 'tag.gpgsign=false', ...args], { cwd, stdio: 'ignore' });
}
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('ctb version (release info)', () => {
  it('reports a clean checkout on a tag as a tagged release', async () => {
    const d = dir();
    git(d, 'init', '-q');
    git(d, 'add', '.');
    git(d, 'commit', '-qm', 'first');
    git(d, 'tag', 'v1.0-go-live');
    const info = await readReleaseInfo({ root: d });
    expect(info).toMatchObject({ source: 'git', label: 'v1.0-go-live', tag: 'v1.0-go-live', tagged: true, dirty: false });
    expect(describeRelease(info)).toMatch(/^v1\.0-go-live \(tagged release, commit [0-9a-f]{12}\)$/);
  });

  it('reads label, tag and commit as plain git describe, describe --exact-match and rev-parse HEAD answer them', async () => {
    const d = dir();
    const out = (...args: string[]): string | null => {
      try {
        return execFileSync('git', args, { cwd: d, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
      } catch {
        return null;
      }
    };
    const states: string[] = [];
    const compare = async (state: string) => {
      states.push(state);
      const info = await readReleaseInfo({ root: d });
      const label = out('describe', '--tags', '--always', '--dirty');
      expect(label, state).not.toBeNull();
      expect(info, state).toMatchObject({ source: 'git', label, tag: out('describe', '--tags', '--exact-match', 'HEAD'), commit: out('rev-parse', 'HEAD') });
    };
    git(d, 'init', '-q');
    git(d, 'add', '.');
    git(d, 'commit', '-qm', 'first');
    await compare('no tag');
    writeFileSync(join(d, 'package.json'), '{}');
    await compare('no tag, modified');
    git(d, 'commit', '-qam', 'second');
    // A tag whose name looks like describe's own suffix, on HEAD and then behind it.
    git(d, 'tag', 'rc-2-gabc1234');
    await compare('on a tag named like a describe suffix');
    writeFileSync(join(d, 'b.txt'), 'b');
    git(d, 'add', '.');
    git(d, 'commit', '-qm', 'third');
    await compare('one past that tag');
    git(d, 'tag', '-a', 'v2.0', '-m', 'annotated');
    await compare('on an annotated tag');
    writeFileSync(join(d, 'b.txt'), 'changed');
    await compare('on an annotated tag, modified');
    expect(states).toHaveLength(6);
    // Control: the reading itself, on the forms git prints.
    expect(readDescribe('v1.0-0-gabc1234')).toEqual({ label: 'v1.0', tag: 'v1.0', dirty: false });
    expect(readDescribe('v1.0-4-gabc1234-dirty')).toEqual({ label: 'v1.0-4-gabc1234-dirty', tag: null, dirty: true });
    expect(readDescribe('abc1234')).toEqual({ label: 'abc1234', tag: null, dirty: false });
  });

  it('does not call a commit after the tag, or modified files, a release', async () => {
    const d = dir();
    git(d, 'init', '-q');
    git(d, 'add', '.');
    git(d, 'commit', '-qm', 'first');
    git(d, 'tag', 'v1.0');
    writeFileSync(join(d, 'a.txt'), 'a');
    git(d, 'add', '.');
    git(d, 'commit', '-qm', 'second');
    const ahead = await readReleaseInfo({ root: d });
    expect(ahead.label).toMatch(/^v1\.0-1-g[0-9a-f]+$/);
    expect(ahead).toMatchObject({ tag: null, tagged: false, dirty: false });

    git(d, 'tag', 'v1.1');
    writeFileSync(join(d, 'a.txt'), 'changed');
    const dirty = await readReleaseInfo({ root: d });
    expect(dirty).toMatchObject({ label: 'v1.1-dirty', tag: 'v1.1', dirty: true, tagged: false });
    expect(describeRelease(dirty)).toMatch(/uncommitted changes: not a release/);
  });

  it('falls back to package.json and BUILD_COMMIT outside a git checkout', async () => {
    const d = dir();
    expect(await readReleaseInfo({ root: d, buildCommit: 'abcdef1234567' })).toMatchObject({
      source: 'package', label: '1.2.3+abcdef123456', commit: 'abcdef1234567', tagged: false,
    });
    const bare = await readReleaseInfo({ root: d });
    expect(bare.label).toBe('1.2.3');
    expect(describeRelease(bare)).toMatch(/BUILD_COMMIT is unset/);
  });

  it("names the commit dist/ was built at beside the checkout's when they differ", async () => {
    const d = dir();
    git(d, 'init', '-q');
    git(d, 'add', '.');
    git(d, 'commit', '-qm', 'first');
    const head = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: d, encoding: 'utf8' }).trim();
    mkdirSync(join(d, 'dist'));
    writeFileSync(join(d, 'dist', 'build-info.json'), JSON.stringify({ hash: 'h', commit: head }));
    const same = await readReleaseInfo({ root: d });
    expect(same.distCommit).toBe(head);
    expect(describeRelease(same)).not.toMatch(/dist\//);

    const old = 'a'.repeat(40);
    writeFileSync(join(d, 'dist', 'build-info.json'), JSON.stringify({ hash: 'h', commit: old }));
    const moved = await readReleaseInfo({ root: d });
    expect(moved).toMatchObject({ commit: head, distCommit: old });
    expect(describeRelease(moved)).toBe(
      `${moved.label} (commit ${head.slice(0, 12)}, not on a release tag); but dist/ (what ctb runs) was built at commit aaaaaaaaaaaa: run \`npm run build\` to run the checkout's code`,
    );
  });

  it('outside a git checkout, shows the tag dist/ was built on, as build-info.json recorded it: a tagged release when built from a clean tree', async () => {
    const d = dir();
    mkdirSync(join(d, 'dist'));
    const commit = 'c'.repeat(40);
    writeFileSync(join(d, 'dist', 'build-info.json'), JSON.stringify({ hash: 'h', commit, tag: 'v2.0', dirty: false }));
    const info = await readReleaseInfo({ root: d, buildCommit: 'd'.repeat(40) });
    expect(info).toMatchObject({ source: 'package', label: 'v2.0', tag: 'v2.0', commit, tagged: true, dirty: false });
    expect(describeRelease(info)).toBe('v2.0 (tagged release, commit cccccccccccc, as dist/ was built; not a git checkout)');

    writeFileSync(join(d, 'dist', 'build-info.json'), JSON.stringify({ hash: 'h', commit, tag: 'v2.0', dirty: true }));
    const dirty = await readReleaseInfo({ root: d });
    expect(dirty).toMatchObject({ label: 'v2.0', tagged: false, dirty: true });
    expect(describeRelease(dirty)).toBe('v2.0 (dist/ built at commit cccccccccccc with uncommitted changes: not a release; not a git checkout)');

    writeFileSync(join(d, 'dist', 'build-info.json'), JSON.stringify({ hash: 'h', commit, tag: null, dirty: false }));
    expect(describeRelease(await readReleaseInfo({ root: d }))).toBe('1.2.3+cccccccccccc (dist/ built at commit cccccccccccc, not on a release tag; not a git checkout)');
  });

  it('a clean checkout on a tag is no release when dist/ was built from uncommitted changes, or before builds recorded it', async () => {
    const d = dir();
    git(d, 'init', '-q');
    git(d, 'add', '.');
    git(d, 'commit', '-qm', 'first');
    git(d, 'tag', 'v1.0-go-live');
    const head = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: d, encoding: 'utf8' }).trim();
    mkdirSync(join(d, 'dist'));
    writeFileSync(join(d, 'dist', 'build-info.json'), JSON.stringify({ hash: 'h', commit: head, tag: 'v1.0-go-live', dirty: false }));
    expect(await readReleaseInfo({ root: d })).toMatchObject({ tagged: true, build: { commit: head, tag: 'v1.0-go-live', dirty: false } });

    writeFileSync(join(d, 'dist', 'build-info.json'), JSON.stringify({ hash: 'h', commit: head, tag: 'v1.0-go-live', dirty: true }));
    const dirty = await readReleaseInfo({ root: d });
    expect(dirty).toMatchObject({ tag: 'v1.0-go-live', dirty: false, tagged: false });
    expect(describeRelease(dirty)).toBe(`v1.0-go-live (commit ${head.slice(0, 12)}; but dist/ (what ctb runs) was built from uncommitted changes: not a release)`);

    writeFileSync(join(d, 'dist', 'build-info.json'), JSON.stringify({ hash: 'h', commit: head }));
    expect(await readReleaseInfo({ root: d })).toMatchObject({ tag: 'v1.0-go-live', tagged: false, build: null });
  });

  it('a clean checkout on a tag is no release when dist/ is built but its build-info.json is missing or unreadable', async () => {
    const d = dir();
    git(d, 'init', '-q');
    git(d, 'add', '.');
    git(d, 'commit', '-qm', 'first');
    git(d, 'tag', 'v1.0-go-live');
    mkdirSync(join(d, 'dist'));
    writeFileSync(join(d, 'dist', 'ctb.js'), '// built somewhere, from some tree\n');
    const missing = await readReleaseInfo({ root: d });
    expect(missing).toMatchObject({ tag: 'v1.0-go-live', dirty: false, tagged: false, build: null });
    expect(describeRelease(missing)).toMatch(/^v1\.0-go-live \(commit [0-9a-f]{12} on the tag; but dist\/build-info\.json \(what dist\/ was built from\) is missing or unreadable: not a release until rebuilt\)$/);
    for (const text of ['', '{"hash": "h", "commit": "ab']) {
      writeFileSync(join(d, 'dist', 'build-info.json'), text);
      expect(await readReleaseInfo({ root: d })).toMatchObject({ tag: 'v1.0-go-live', tagged: false });
    }
  });

  it('reports the build commit outside a git checkout when BUILD_COMMIT is unset', async () => {
    const d = dir();
    mkdirSync(join(d, 'dist'));
    writeFileSync(join(d, 'dist', 'build-info.json'), JSON.stringify({ hash: 'h', commit: 'b'.repeat(40) }));
    expect(describeRelease(await readReleaseInfo({ root: d }))).toMatch(/; dist\/ was built at commit bbbbbbbbbbbb$/);
  });

  // The engine part's start reads the release; a start stopped meanwhile waits STARTING_STOP_WAIT_MS
  // for that part. A git that never answers must give the build's facts before that wait ends, not
  // race it: at git's old 5 s timeout, which ended first was chance.
  // And a checkout whose git did not answer may hold changes dist/'s record cannot know of: no release
  // (a slow git made a dirty checkout pass the live gate's release check as the build's tag).
  it('gives the build\'s facts without git, before a stopped start\'s wait on the part ends, when git hangs, and no release', async () => {
    const d = dir();
    mkdirSync(join(d, '.git'));
    mkdirSync(join(d, 'dist'));
    writeFileSync(join(d, 'dist', 'build-info.json'), JSON.stringify({ hash: 'h', commit: 'c'.repeat(40), tag: 'v2.0', dirty: false }));
    const held = await holdGit();
    try {
      const askedAt = Date.now();
      const info = await withEnv({ PATH: held.path }, () => readReleaseInfo({ root: d }));
      const tookMs = Date.now() - askedAt;
      expect(await held.called).toMatch(/^describe /);
      expect(info).toMatchObject({ source: 'package', commit: 'c'.repeat(40), tagged: false, gitTimedOut: true });
      expect(describeRelease(info)).toMatch(/git did not answer within 3 s, so whether the checkout is clean is unknown: not a release/);
      expect(tookMs).toBeLessThan(STARTING_STOP_WAIT_MS);
    } finally {
      await held.close();
    }
  });

  it("a checkout's build read without git because git is missing (not slow) keeps the build's recorded release", async () => {
    const d = dir();
    mkdirSync(join(d, '.git'));
    mkdirSync(join(d, 'dist'));
    writeFileSync(join(d, 'dist', 'build-info.json'), JSON.stringify({ hash: 'h', commit: 'c'.repeat(40), tag: 'v2.0', dirty: false }));
    const noGit = mkdtempSync(join(tmpdir(), 'ctb-version-nogit-'));
    dirs.push(noGit);
    const info = await withEnv({ PATH: noGit }, () => readReleaseInfo({ root: d }));
    expect(info).toMatchObject({ source: 'package', label: 'v2.0', tagged: true });
    expect(info.gitTimedOut).toBeUndefined();
  });
});
