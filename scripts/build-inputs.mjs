// What a build of dist/ read (scripts/build.mjs): every file esbuild took in (its metafile's inputs:
// the sources and the bundled packages' files) and the files that decide how it reads them, hashed by
// content with this Node. When none of them has changed since the last build, the build is not run
// again: it cost some 4 CPU-seconds before every test run only to find the same output.
import { createHash } from 'node:crypto';
import { readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const INPUTS_RECORD = 'build-inputs.json';

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

/** Whether the build recorded in `out` read exactly what `root` holds now (false when there is no record). */
export function inputsUnchanged(root, out) {
  let record;
  try {
    record = JSON.parse(readFileSync(join(out, INPUTS_RECORD), 'utf8'));
  } catch {
    return false;
  }
  if (!Array.isArray(record?.inputs) || typeof record.digest !== 'string') return false;
  return inputsDigest(root, record.inputs) === record.digest;
}

/**
 * Records in `out` that its build read `inputs` — unless one of them (or of BUILD_SETTINGS) changed
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
  writeFileSync(tmp, `${JSON.stringify({ digest: inputsDigest(root, files), inputs: files })}\n`);
  renameSync(tmp, target);
  return true;
}
