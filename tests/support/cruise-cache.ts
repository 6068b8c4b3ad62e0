// What a cruise of the import-boundary test (tests/support/cruise-child.ts) is a function of, as one
// key: a result kept with its key is given again only while every one of these is as it was, and the
// cruise is run again when any changed. Starting dependency-cruiser and TypeScript and cruising the
// real tree cost its process ~5 CPU-seconds; hashing what it read, a tenth of one.
//   - the config (its rules and options) and the process that cruises (its own built file, the
//     versions of Node, dependency-cruiser and TypeScript, the lockfile beside the config);
//   - the job's directory's tsconfig.json and package.json, and the directories cruised, by name;
//   - every file under those directories, by path and content (a file added or gone changes it);
//   - every file outside them that the last cruise found imported (outsideFiles), and the names of
//     the files beside each (a new x.js beside an imported x.ts is what `./x.js` resolves to): a
//     file it had not found is only imported once a file above changes to import it.
// A cruise where an import could not be resolved is not kept: the file it names might appear later
// without any file above changing.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

export interface CruiseJob {
  cwd: string;
  dirs: string[];
}

/** What a cruise result's modules say of themselves (the fields read here). */
export interface CruisedModules {
  modules: Array<{ source: string; coreModule?: boolean; couldNotResolve?: boolean; dependencies: Array<{ couldNotResolve?: boolean }> }>;
}

/** The cruise process's own inputs that are not the job's: its built file and the versions it runs. */
export interface CruiserIdentity {
  script: string;
  versions: string[];
}

const read = (path: string): Buffer | null => {
  try {
    return readFileSync(path);
  } catch {
    return null;
  }
};

/** The files under `dir` (relative to `cwd`, sorted), following no link: node_modules is never walked. */
/** The names in a directory, sorted, one a line (none when it cannot be read). */
function namesIn(dir: string): string | null {
  try {
    return readdirSync(dir).sort().join('\n');
  } catch {
    return null;
  }
}

function filesUnder(cwd: string, dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    let entries;
    try {
      entries = readdirSync(join(cwd, d), { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const path = join(d, e.name);
      if (e.isDirectory()) walk(path);
      else if (e.isFile()) out.push(path);
    }
  };
  walk(dir);
  return out.sort();
}

/** The key of a cruise of `job` with `config`: see the top of this file for what goes into it. */
export function cruiseCacheKey(config: string, job: CruiseJob, outside: string[], cruiser: CruiserIdentity): string {
  const hash = createHash('sha256');
  const add = (label: string, content: Buffer | string | null) => {
    hash.update(label).update('\0');
    if (content === null) hash.update('<none>');
    else hash.update(String(content.length)).update('\0').update(content);
    hash.update('\0');
  };
  add('config', read(config));
  add('lockfile', read(join(dirname(config), 'package-lock.json')));
  add('cruiser', read(cruiser.script));
  add('versions', cruiser.versions.join(' '));
  add('tsconfig', read(join(job.cwd, 'tsconfig.json')));
  add('package', read(join(job.cwd, 'package.json')));
  add('dirs', job.dirs.join('\n'));
  for (const dir of job.dirs) for (const file of filesUnder(job.cwd, dir)) add(`file ${file}`, read(join(job.cwd, file)));
  for (const file of [...outside].sort()) add(`outside ${file}`, read(join(job.cwd, file)));
  // And the names beside each of them: an import resolves `./x.js` to x.js before x.ts, so a file
  // added next to one already imported can change what is imported without changing any file read.
  for (const dir of [...new Set(outside.map((f) => dirname(f)))].sort()) add(`beside ${dir}`, namesIn(join(job.cwd, dir)));
  return hash.digest('hex');
}

/** The files of a cruise's modules outside the cruised directories and node_modules (relative to its cwd). */
export function outsideFiles(result: CruisedModules, job: CruiseJob): string[] {
  const inside = (source: string) => job.dirs.some((d) => source === d || source.startsWith(`${d}/`)) || source.split(/[\\/]/).includes('node_modules');
  return [...new Set(result.modules.filter((m) => !m.coreModule && !m.couldNotResolve && !inside(m.source)).map((m) => m.source))].sort();
}

/** Whether a cruise may be kept: none of its imports failed to resolve. */
export const cacheable = (result: CruisedModules): boolean =>
  result.modules.every((m) => !m.couldNotResolve && m.dependencies.every((d) => !d.couldNotResolve));
