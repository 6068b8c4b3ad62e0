// The one-command scripts (bin/fast-script.js): a script runs with its code cache only when the cache
// is the one built for it and V8 takes it; a damaged or stale cache falls back to compiling the script
// as usual (V8 itself would crash on a damaged one), and a script that is not the one its manifest
// names is not run at all (ctb then runs dist/ctb.js).
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fastScriptFiles, fastScriptFor, MANIFEST, type FastScriptEntry } from '../../bin/fast-script.js';

type Entry = FastScriptEntry;

let dir: string;
let nonce: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'ctb-fast-script-'));
  // V8 keeps what it compiled in this process by source text: each test's scripts are new to it.
  nonce = randomUUID();
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** Writes a script as the build does (bin/fast-script.js's format); returns its manifest entry. */
async function writeScript(name: string, argv: string[], bundle: string): Promise<Entry> {
  const { files, entry } = await fastScriptFiles(name, argv, `${bundle}\n// ${nonce}`, join(dir, `${name}.cjs`));
  for (const f of files) writeFileSync(join(dir, f.name), f.contents);
  const manifestFile = join(dir, MANIFEST);
  let manifest: Record<string, Entry> = {};
  try {
    manifest = JSON.parse(readFileSync(manifestFile, 'utf8')) as Record<string, Entry>;
  } catch {
    // the first script
  }
  writeFileSync(manifestFile, JSON.stringify({ ...manifest, [name]: entry }));
  return entry;
}

// A bundle with enough code for V8's cache to be more than a header, using what the loader passes in.
const BUNDLE = `
  const parts = [];
  for (let i = 0; i < 200; i++) parts.push(function step() { return i * 2; });
  exports.answer = () => parts.reduce((sum, f) => sum + f(), 0);
  exports.url = __ctbModuleUrl;
  exports.load = (spec) => __ctbImport(spec);
  exports.resolve = (spec) => __ctbResolve(spec);
  exports.requireWorks = typeof require('node:path').join === 'function';
`;
const ANSWER = 39_800;
const LOADER = new URL('../../bin/fast-script.js', import.meta.url).href;

/**
 * loadFastScript in a new process, as ctb runs it: in this one V8 already holds what the build step
 * compiled, by source text, and would never read the cache. What the script answers, and of its cache.
 */
function loadInChild(entry: Entry): { loaded: false } | { loaded: true; cache: string; answer: number; url: string; sep: string; resolved: string; requireWorks: boolean } {
  const program = `
    import { loadFastScript } from ${JSON.stringify(LOADER)};
    const loaded = loadFastScript(${JSON.stringify(dir)}, ${JSON.stringify(entry)});
    if (!loaded) console.log(JSON.stringify({ loaded: false }));
    else {
      const e = loaded.exports;
      console.log(JSON.stringify({ loaded: true, cache: loaded.cache, answer: e.answer(), url: e.url, sep: (await e.load('node:path')).sep, resolved: e.resolve('node:path'), requireWorks: e.requireWorks }));
    }`;
  const run = spawnSync(process.execPath, ['--input-type=module', '-e', program], { encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`loader child exited ${run.status}: ${run.stderr}`);
  return JSON.parse(run.stdout) as ReturnType<typeof loadInChild>;
}

describe('one-command scripts', () => {
  it('serve the command lines their manifest names, and only those', async () => {
    await writeScript('stats', ['stats'], BUNDLE);
    await writeScript('mode', ['mode', 'status'], BUNDLE);
    expect(fastScriptFor(dir, ['stats', '--json'])?.script).toBe('stats.cjs');
    expect(fastScriptFor(dir, ['mode', 'status', '--json'])?.script).toBe('mode.cjs');
    expect(fastScriptFor(dir, ['mode', 'live'])).toBeNull();
    expect(fastScriptFor(dir, ['help', 'stats'])).toBeNull();
    expect(fastScriptFor(dir, [])).toBeNull();
    expect(fastScriptFor(join(dir, 'none'), ['stats'])).toBeNull();
  });

  it('are read back as Latin-1 when ASCII, as UTF-8 otherwise: the same text either way', async () => {
    const ascii = await writeScript('stats', ['stats'], BUNDLE);
    expect(ascii.encoding).toBe('latin1');
    const wide = await writeScript('wide', ['wide'], `${BUNDLE}\n// café — a comment esbuild kept\nexports.word = () => 'caf\\u00e9';`);
    expect(wide.encoding).toBe('utf8');
    expect(loadInChild(wide)).toMatchObject({ loaded: true, cache: 'used', answer: ANSWER });
  });

  it('run with their code cache when it is the one built for them', async () => {
    const entry = await writeScript('stats', ['stats'], BUNDLE);
    expect(loadInChild(entry)).toEqual({
      loaded: true, cache: 'used', answer: ANSWER, url: `file://${join(dir, 'stats.cjs')}`, sep: '/', resolved: 'node:path', requireWorks: true,
    });
  });

  it('never hand V8 a damaged cache (it would crash): the script is compiled as usual', async () => {
    const entry = await writeScript('stats', ['stats'], BUNDLE);
    const cacheFile = join(dir, entry.cache);
    const bytes = readFileSync(cacheFile);
    bytes[bytes.length >> 1]! ^= 0xff; // a byte in the middle: V8 finds nothing wrong in its header
    writeFileSync(cacheFile, bytes);
    expect(loadInChild(entry)).toMatchObject({ loaded: true, cache: 'mismatch', answer: ANSWER });
    // Cut short, too.
    writeFileSync(cacheFile, bytes.subarray(0, 100));
    expect(loadInChild(entry)).toMatchObject({ loaded: true, cache: 'mismatch', answer: ANSWER });
  });

  it('compile as usual with a stale cache (built for another script) or none', async () => {
    const entry = await writeScript('stats', ['stats'], BUNDLE);
    // Another script's cache, recorded as this one's (as V8 sees a cache of another Node or another build).
    const other = await writeScript('other', ['other'], `${BUNDLE}\nexports.more = 1;`);
    expect(loadInChild({ ...entry, cache: other.cache, cacheSha256: other.cacheSha256 })).toMatchObject({ loaded: true, cache: 'rejected', answer: ANSWER });
    rmSync(join(dir, entry.cache));
    expect(loadInChild(entry)).toMatchObject({ loaded: true, cache: 'missing', answer: ANSWER });
  });

  it('do not run a script that is not the one the manifest names, nor a missing one', async () => {
    const entry = await writeScript('stats', ['stats'], BUNDLE);
    const scriptFile = join(dir, entry.script);
    writeFileSync(scriptFile, readFileSync(scriptFile, 'utf8').replace('i * 2', 'i * 3'));
    expect(loadInChild(entry)).toEqual({ loaded: false });
    rmSync(scriptFile);
    expect(loadInChild(entry)).toEqual({ loaded: false });
  });
});
