// bin/ctb.js runs the build in dist/: a source edited since, and not built, would run silently as it
// was. It says so on stderr, in one line, where it can tell cheaply (the directories the build's
// sources are in: scripts/build-inputs.mjs recordSources), and runs the build it has all the same.
// Here in a checkout of its own: bin/ and a dist/ whose ctb.js only says it ran, a git HEAD, the
// build's record of its sources as scripts/build.mjs writes it.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, renameSync, rmSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { recordSources, SOURCES_STAMP } from '../../scripts/build-inputs.mjs';

const BIN = new URL('../../bin/', import.meta.url).pathname;
const COMMIT = 'a'.repeat(40);
const SOURCES = ['src/cli/main.ts', 'src/cli/io.ts', 'commands/pause.ts', '../elsewhere/node_modules/zod/index.js'];

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A built checkout whose sources are an hour older than its build. */
function checkout(): string {
  const root = mkdtempSync(join(tmpdir(), 'ctb-stale-sources-'));
  dirs.push(root);
  for (const d of ['bin', 'dist', 'src/cli', 'commands', '.git']) mkdirSync(join(root, d), { recursive: true });
  for (const f of ['ctb.js', 'fast-script.js']) copyFileSync(join(BIN, f), join(root, 'bin', f));
  writeFileSync(join(root, 'package.json'), '{ "type": "module" }\n');
  writeFileSync(join(root, 'dist', 'ctb.js'), "process.stdout.write('ran\\n');\n");
  writeFileSync(join(root, 'dist', 'build-info.json'), JSON.stringify({ hash: 'h', commit: COMMIT }));
  writeFileSync(join(root, '.git', 'HEAD'), `${COMMIT}\n`);
  const hourAgo = new Date(Date.now() - 3_600_000);
  for (const f of SOURCES.filter((p) => !p.startsWith('..'))) {
    writeFileSync(join(root, f), `// ${f}\n`);
    utimesSync(join(root, f), hourAgo, hourAgo);
  }
  for (const d of ['src/cli', 'commands', 'src']) utimesSync(join(root, d), hourAgo, hourAgo);
  recordSources(join(root, 'dist'), SOURCES, Date.now() - 60_000);
  return root;
}

const ctb = (root: string) => spawnSync(process.execPath, [join(root, 'bin', 'ctb.js'), 'version'], { cwd: root, encoding: 'utf8' });

/** Saves `file` as most editors and git do: a new file renamed over the old one. */
function replace(root: string, file: string, text: string): void {
  writeFileSync(join(root, `${file}.tmp`), text);
  renameSync(join(root, `${file}.tmp`), join(root, file));
}

describe('bin/ctb.js and the sources dist/ was built from', () => {
  it('says nothing while every source is as built', () => {
    const r = ctb(checkout());
    expect(r.stdout).toBe('ran\n');
    expect(r.stderr).toBe('');
  });

  it('names a source changed since the build in one warning line, and runs the build it has', () => {
    const root = checkout();
    replace(root, 'src/cli/io.ts', '// edited, not built\n');
    const r = ctb(root);
    expect(r.stderr).toBe('ctb: warning: dist/ was built from older sources (src/cli/io.ts changed since): run `npm run build`.\n');
    expect(r.stdout).toBe('ran\n');
    // A build records its sources anew, as of when it began: the warning is gone.
    recordSources(join(root, 'dist'), SOURCES, Date.now() + 1_000);
    expect(ctb(root).stderr).toBe('');
  });

  it('names a source deleted since the build', () => {
    const root = checkout();
    unlinkSync(join(root, 'commands', 'pause.ts'));
    expect(ctb(root).stderr).toBe('ctb: warning: dist/ was built from older sources (commands/pause.ts changed since): run `npm run build`.\n');
  });

  it('says nothing of a file the build did not read (an editor\'s swap file beside a source)', () => {
    const root = checkout();
    writeFileSync(join(root, 'src', 'cli', '.io.ts.swp'), 'swap');
    writeFileSync(join(root, 'src', 'cli', 'unread.ts'), 'export {};\n');
    expect(ctb(root).stderr).toBe('');
  });

  it('after HEAD moved, says that alone; with no record of the sources, nothing', () => {
    const root = checkout();
    replace(root, 'src/cli/io.ts', '// edited\n');
    writeFileSync(join(root, '.git', 'HEAD'), `${'b'.repeat(40)}\n`);
    const moved = ctb(root);
    expect(moved.stderr).toMatch(/^ctb: warning: dist\/ was built at commit a{12} but the checkout is at b{12}; [^\n]*\n$/);
    writeFileSync(join(root, '.git', 'HEAD'), `${COMMIT}\n`);
    unlinkSync(join(root, 'dist', SOURCES_STAMP));
    expect(ctb(root).stderr).toBe('');
    writeFileSync(join(root, 'dist', SOURCES_STAMP), '{"since": 1, "di');
    const cut = ctb(root);
    expect(cut.stderr).toBe('');
    expect(cut.stdout).toBe('ran\n');
  });
});
