// What a build of dist/ read (scripts/build.mjs): every file esbuild took in (its metafile's inputs:
// the sources and the bundled packages' files) and the files that decide how it reads them, hashed by
// content with this Node. When none of them has changed since the last build, the build is not run
// again: it cost some 4 CPU-seconds before every test run only to find the same output.
// The record also lists the files that build left in dist/ with their sizes and modification times
// (outputsIntact): a file of dist/ since deleted, cut short or written over is rebuilt, not kept.
// Sizes and times, not contents: a stat of each costs a few ms where hashing dist/'s 14 MB cost
// 60-120 ms, on a check that runs before every test run.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const INPUTS_RECORD = 'build-inputs.json';
export const SOURCES_STAMP = 'build-sources.json';

/** Files every build reads besides esbuild's inputs: the build itself, the package set, the compiler options. */
export const BUILD_SETTINGS = [
  'scripts/build.mjs', 'scripts/build-inputs.mjs', 'scripts/pglite-template-key.mjs', 'bin/fast-script.js',
  'package.json', 'package-lock.json', 'tsconfig.json', 'node_modules/esbuild/package.json',
];

/** One hash of the contents of `inputs` and BUILD_SETTINGS (paths relative to `root`; a missing file counts as missing). */
export function inputsDigest(root, inputs) {
  const h = createHash('sha256').update(`${process.version} ${process.arch}\0`);
  for (const p of [...BUILD_SETTINGS, ...inputs]) {
    h.update(p).update('\0');
    try {
      h.update(readFileSync(join(root, p)));
    } catch {
      h.update('\0missing\0');
    }
    h.update('\0');
  }
  return h.digest('hex');
}

/**
 * Files of `out` that are not the build's output as recorded: the record itself, build-info.json
 * (rewritten by every build, also an unchanged one, with the checkout's commit), build-sources.json
 * (likewise, with when the build began: recordSources), the database
 * template (kept by its own key, scripts/pglite-template-key.mjs) and a build's temporary files.
 */
const NOT_OUTPUT = new Set([INPUTS_RECORD, 'build-info.json', SOURCES_STAMP, 'pglite-template', 'pglite-template.json']);

/** Each file of `out` the build wrote (relative path, '/'-separated) with its size and modification time. */
export function outputsOf(out) {
  const outputs = {};
  const walk = (rel) => {
    for (const e of readdirSync(join(out, rel), { withFileTypes: true })) {
      const p = rel === '' ? e.name : `${rel}/${e.name}`;
      if (e.name.startsWith('.') || (rel === '' && NOT_OUTPUT.has(e.name))) continue;
      if (e.isDirectory()) walk(p);
      else {
        const st = statSync(join(out, p));
        outputs[p] = [st.size, st.mtimeMs];
      }
    }
  };
  walk('');
  return outputs;
}

function readRecord(out) {
  try {
    return JSON.parse(readFileSync(join(out, INPUTS_RECORD), 'utf8'));
  } catch {
    return null;
  }
}

/** The files the build recorded in `out` read (root-relative), or null when there is no record. */
export function recordedInputs(out) {
  const inputs = readRecord(out)?.inputs;
  return Array.isArray(inputs) ? inputs : null;
}

/** Whether the build recorded in `out` read exactly what `root` holds now (false when there is no record). */
export function inputsUnchanged(root, out) {
  const record = readRecord(out);
  if (!Array.isArray(record?.inputs) || typeof record.digest !== 'string') return false;
  return inputsDigest(root, record.inputs) === record.digest;
}

/**
 * Whether every file the recorded build wrote to `out` is there as it was written: same size and
 * modification time (false when there is no record, or it lists no files).
 */
export function outputsIntact(out) {
  const outputs = readRecord(out)?.outputs;
  if (outputs === null || typeof outputs !== 'object' || Object.keys(outputs).length === 0) return false;
  return Object.entries(outputs).every(([p, want]) => {
    try {
      const st = statSync(join(out, p));
      return Array.isArray(want) && st.isFile() && st.size === want[0] && st.mtimeMs === want[1];
    } catch {
      return false;
    }
  });
}

/**
 * Records in `out` that its build read `inputs` and left the files `out` holds now (outputsOf) — unless one of them (or of BUILD_SETTINGS) changed
 * at or after `startedAt` (ms since the epoch, when the build began): then what `out` holds may
 * predate that change, and the record is removed so that the next build runs in full.
 */
export function recordInputs(root, out, inputs, startedAt) {
  const files = [...new Set(inputs)].sort();
  const target = join(out, INPUTS_RECORD);
  const changedSince = [...BUILD_SETTINGS, ...files].some((p) => {
    try {
      return statSync(join(root, p)).mtimeMs >= startedAt;
    } catch {
      return false;
    }
  });
  if (changedSince) {
    rmSync(target, { force: true });
    return false;
  }
  const tmp = join(out, `.${INPUTS_RECORD}-${process.pid}`);
  writeFileSync(tmp, `${JSON.stringify({ digest: inputsDigest(root, files), inputs: files, outputs: outputsOf(out) })}\n`);
  renameSync(tmp, target);
  return true;
}

/** The checkout's own files among a build's inputs (root-relative, '/'-separated): no package's. */
const ownFile = (p) => !p.startsWith('../') && !p.split('/').includes('node_modules');

/**
 * Writes `out`/build-sources.json for bin/ctb.js, which warns when a source changed after the build
 * began: `since` (ms since the epoch, when it began) and the checkout's own files among `inputs`, by
 * directory. bin/ctb.js stats each directory, and a directory's files only when it changed: a file
 * added, deleted or replaced moves its directory's time (git checkout, stash and reset; editors that
 * save by writing a new file and renaming it over the old one; sed -i). A file rewritten in place
 * leaves its directory as it was and goes unseen: stat'ing every source (some 530) on every start
 * cost `ctb --help` some 6 ms of CPU in 20-odd of its own, the directories (some 50) about 0.1 ms.
 */
export function recordSources(out, inputs, since) {
  const dirs = {};
  for (const p of [...new Set(inputs)].filter(ownFile).sort()) {
    const at = p.lastIndexOf('/');
    (dirs[at === -1 ? '.' : p.slice(0, at)] ??= []).push(p.slice(at + 1));
  }
  const tmp = join(out, `.${SOURCES_STAMP}-${process.pid}`);
  writeFileSync(tmp, `${JSON.stringify({ since, dirs })}\n`);
  renameSync(tmp, join(out, SOURCES_STAMP));
}
