#!/usr/bin/env node
// The ctb binary: runs the JavaScript build in dist/ (scripts/build.mjs). `npm ci` builds it through
// the `prepare` script and `npm run build` rebuilds it; nothing is compiled at run time. A command
// with a one-script build in dist/fast/ (`ctb stats`, `ctb kill`, `ctb start` …: scripts/build.mjs FAST) runs from it
// (bin/fast-script.js); every other command, and any command whose script is missing, from dist/ctb.js.
// In a git checkout whose HEAD has moved since the build (a pull without `npm ci`), or whose sources
// changed since (an edit not built: changedSource below), it says so on stderr and runs the build it
// has: refusing would also refuse `ctb kill`.
import { fastScriptFor, loadFastScript } from './fast-script.js';

// Node's modules as CommonJS gives them, not through `import`: an ES module import of node:fs builds
// its facade by reading every export, and a lazy one loads its module then (fs's ReadStream and
// WriteStream: internal/fs/streams, which `ctb stats` never uses).
const { existsSync, readFileSync, statSync } = process.getBuiltinModule('node:fs');
const { isAbsolute, join } = process.getBuiltinModule('node:path');
const { fileURLToPath } = process.getBuiltinModule('node:url');

const root = fileURLToPath(new URL('..', import.meta.url));
const entry = join(root, 'dist', 'ctb.js');
if (!existsSync(entry)) {
  process.stderr.write('ctb is not built: dist/ctb.js is missing. Run `npm ci` (it builds) or `npm run build` in the checkout.\n');
  process.exit(2);
}

const read = (file) => {
  try {
    return readFileSync(file, 'utf8').trim();
  } catch {
    return null;
  }
};

/** HEAD's commit read from .git (a file read or three, no `git` process), or null. */
function headCommit() {
  let gitDir = join(root, '.git');
  const pointer = read(gitDir); // a worktree's .git is a file: "gitdir: <path>"
  if (pointer?.startsWith('gitdir: ')) {
    const dir = pointer.slice(8);
    gitDir = isAbsolute(dir) ? dir : join(root, dir);
  }
  const head = read(join(gitDir, 'HEAD'));
  if (!head?.startsWith('ref: ')) return head;
  const ref = head.slice(5);
  const common = read(join(gitDir, 'commondir'));
  const commonDir = common === null ? gitDir : isAbsolute(common) ? common : join(gitDir, common);
  const loose = read(join(gitDir, ref)) ?? read(join(commonDir, ref));
  if (loose) return loose;
  const packed = read(join(commonDir, 'packed-refs'));
  return packed?.split('\n').find((line) => line.endsWith(` ${ref}`))?.split(' ')[0] ?? null;
}

/**
 * The commit dist/ was built at, or null: build-info.json missing, empty, cut short or not the
 * build's JSON is "no build commit" (only the HEAD warning below needs it), never a reason to stop
 * a command — `ctb kill` above all.
 */
function builtCommit() {
  const text = read(join(root, 'dist', 'build-info.json'));
  if (!text) return null;
  try {
    const commit = JSON.parse(text)?.commit;
    return typeof commit === 'string' && commit !== '' ? commit : null;
  } catch {
    return null;
  }
}

/**
 * A source of the checkout changed (or gone) since dist/ was built from it, as far as the directories
 * tell cheaply (dist/build-sources.json: scripts/build-inputs.mjs recordSources says how far), or
 * null: none, no readable record, or a path that cannot be stat'ed — never a reason to stop a command.
 * Read here, not from a module of its own: importing one cost `ctb --help` about half a millisecond.
 */
function changedSource() {
  let stamp;
  try {
    stamp = JSON.parse(read(join(root, 'dist', 'build-sources.json')) ?? 'null');
  } catch {
    return null;
  }
  const since = stamp?.since;
  if (typeof since !== 'number' || stamp.dirs === null || typeof stamp.dirs !== 'object') return null;
  const changed = (p) => {
    const st = statSync(join(root, p), { throwIfNoEntry: false });
    return st === undefined || st.mtimeMs >= since;
  };
  try {
    for (const [dir, names] of Object.entries(stamp.dirs)) {
      if (!Array.isArray(names) || !changed(dir)) continue;
      const name = names.find((n) => changed(dir === '.' ? n : `${dir}/${n}`));
      if (name !== undefined) return dir === '.' ? name : `${dir}/${name}`;
    }
  } catch {
    // not a directory any more, no permission: nothing it can tell
  }
  return null;
}

const built = builtCommit();
const head = built ? headCommit() : null;
if (head && head !== built) {
  process.stderr.write(
    `ctb: warning: dist/ was built at commit ${built.slice(0, 12)} but the checkout is at ${head.slice(0, 12)}; ` +
      'run `npm run build` (or `npm ci`) to run the code you checked out.\n',
  );
} else if (head) {
  // HEAD as built, but a source edited since (and not built).
  const changed = changedSource();
  if (changed) process.stderr.write(`ctb: warning: dist/ was built from older sources (${changed} changed since): run \`npm run build\`.\n`);
}

const fastDir = join(root, 'dist', 'fast');
const fastEntry = fastScriptFor(fastDir, process.argv.slice(2));
const fast = fastEntry ? loadFastScript(fastDir, fastEntry) : null;
if (fast) await fast.exports.runMain();
else await import(new URL('../dist/ctb.js', import.meta.url).href);

// Once the command's work is done (nothing left on the event loop) the process ends through
// process.exit, with the exit code the command set: a natural exit first frees V8's heap page by
// page, which the operating system does at once when the process ends (about 25 CPU-ms of a
// `ctb stats --json`, whose heap is ~18 MB: bench:cli-cpu). Not while the command has a
// beforeExit listener of its own (a logger flushing its buffer): that one may start more work,
// and the process then ends as usual once it is done. Put first, so that the command's are still
// there to count (a once listener is removed before it runs).
process.prependOnceListener('beforeExit', () => {
  if (process.listenerCount('beforeExit') === 0) process.exit();
});
