// The files that share worker processes (tests/support/shared-worker-files.ts) must leave nothing in
// the process for the next file: what of that shows in a file's text (and in the support modules it
// imports) is checked here, so a new vi.mock or process.env write moves its file to the isolated
// project instead of failing some other file, some of the time, depending on the order.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sharedWorkerFiles } from '../support/shared-worker-files.js';

const ROOT = resolve(new URL('../..', import.meta.url).pathname);
const TESTS = join(ROOT, 'tests');
const SUPPORT = join(TESTS, 'support');

/** process.env, process.chdir and the like taken from the module 'process' are as good as the object's. */
const fromProcess = (names: string) => `\\bimport\\s*\\{[^}]*\\b(${names})\\b[^}]*\\}\\s*from\\s*['"](node:)?process['"]`;

/** What a file must not leave in the process: [what it does, what it is, what undoes it (in the same file)]. */
const LEAKS: Array<[RegExp, string, RegExp?]> = [
  [/\bvi\s*\.\s*(mock|doMock|stubEnv|stubGlobal)\s*\(/, 'vi.mock, vi.stubEnv or vi.stubGlobal'],
  [/\bvi\s*\.\s*useFakeTimers\s*\(/, 'fake timers never made real again', /\bvi\s*\.\s*useRealTimers\s*\(/],
  // Not excused by a restore elsewhere in the file: a variable set for one call goes through withEnv.
  [new RegExp(`${/\bprocess\s*\.\s*env\s*(\.\s*\w+|\[[^\]]+\])\s*(=(?!=)|\?\?=|\|\|=)|\bdelete\s+process\s*\.\s*env\b|Object\.assign\(\s*process\s*\.\s*env\b/.source}|${fromProcess('env')}`),
    'a write to process.env (set it for one call with withEnv)'],
  [new RegExp(`${/\bprocess\s*\.\s*umask\s*\(|\bprocess\s*\.\s*exitCode\s*=(?!=)/.source}|${fromProcess('umask|exitCode')}`), 'a change to the umask or exit code'],
  [/\bprocess\s*\.\s*(on|once|addListener|prependListener)\s*\(/, 'a process listener never removed', /\bprocess\s*\.\s*(off|removeListener)\s*\(/],
  [/\bvi\s*\.\s*spyOn\s*\(/, 'a spy never restored', /\b(restoreAllMocks|mockRestore)\s*\(/],
  // Not excused by a chdir back elsewhere in the file: a command run from another directory goes through withCwd.
  [new RegExp(`${/\bprocess\s*\.\s*chdir\s*\(/.source}|${fromProcess('chdir')}`), 'a change to the working directory (run the call with withCwd)'],
];

/** The one module allowed to write process.env: it puts back what it set when the call it wraps ends. */
const ENV_HELPER = join(SUPPORT, 'with-env.ts');
/** The one module allowed to change the working directory: it puts back the one before when the call it wraps ends. */
const CWD_HELPER = join(SUPPORT, 'with-cwd.ts');
/** Each helper is excused its own rule only. */
const HELPERS = new Map<RegExp, string>([[LEAKS[2]![0], ENV_HELPER], [LEAKS[6]![0], CWD_HELPER]]);

/** What `text` (the file at `source`) leaves in the process, by the rules above. */
function leaksIn(text: string, source: string): string[] {
  return LEAKS.filter(([pattern, , undone]) => pattern.test(text) && !undone?.test(text) && HELPERS.get(pattern) !== source).map(([, what]) => what);
}

/** Relative imports of a file (static and dynamic), resolved to .ts files that exist. */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/(?:from|import\s*\()\s*['"](\.{1,2}\/[^'"]+)['"]/g)]
    .map((m) => resolve(dirname(file), m[1]!.replace(/\.js$/, '.ts')))
    .filter((f) => existsSync(f));
}

/**
 * The helper modules under tests/ a file reaches through its imports (tests/support's, and those kept
 * beside their tests: tests/soak/*.ts, tests/integration/engine-lease/one-engine-bots.ts).
 */
function supportReached(file: string): string[] {
  const seen = new Set<string>();
  const walk = (f: string) => {
    for (const i of importsOf(f)) {
      if (!i.startsWith(`${TESTS}/`) || i.endsWith('.test.ts') || seen.has(i)) continue;
      seen.add(i);
      walk(i);
    }
  };
  walk(file);
  return [...seen];
}

/** Hooks registered at a module's top level run once per process, not once per file that imports it. */
const HOOK_AT_TOP_LEVEL = /^(afterEach|beforeEach|afterAll|beforeAll)\s*\(/m;
const registersHooksAtImport = (file: string) => HOOK_AT_TOP_LEVEL.test(readFileSync(file, 'utf8'));

describe('files sharing worker processes', () => {
  const files = sharedWorkerFiles(ROOT);

  it('are listed and exist', () => {
    expect(files.length).toBeGreaterThan(0);
    for (const f of files) expect(existsSync(join(ROOT, f)), f).toBe(true);
  });

  it('mock, stub and change nothing of the process, restore their spies, and import no support module that registers hooks at import', () => {
    const problems: string[] = [];
    for (const f of files) {
      const path = join(ROOT, f);
      for (const source of [path, ...supportReached(path)]) {
        const text = readFileSync(source, 'utf8');
        const where = source === path ? f : `${f} (through ${relative(ROOT, source)})`;
        for (const what of leaksIn(text, source)) problems.push(`${where}: ${what}`);
        if (source !== path && registersHooksAtImport(source)) problems.push(`${where}: hooks registered when imported`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('would see a file that mocks a module, writes process.env or imports a module that registers hooks', () => {
    // The checks above, on text that breaks each rule: they can fail. (Spelt in pieces, so that this
    // file, itself shared, does not break them.)
    const p = 'process';
    expect(LEAKS[0]![0].test(`vi.${'mock'}('../x.js')`)).toBe(true);
    expect(LEAKS[2]![0].test(`${p}.env.DATA_DIR = '/tmp/x'`)).toBe(true);
    expect(LEAKS[2]![0].test(`${p}.env['X'] ??= 'y'`)).toBe(true);
    expect(LEAKS[2]![0].test(`if (${p}.env.X === undefined) {}`)).toBe(false);
    expect(LEAKS[2]![0].test(`delete ${p}.env.X`)).toBe(true);
    // A direct write is a leak even when the file also puts some variable back in a finally.
    const restoresElsewhere = `beforeAll(() => { ${p}.env.DATA_DIR = '/x'; });\nfunction f() { const old = ${p}.env.PATH; try { g(); } finally { ${p}.env.PATH = old; } }\n`;
    expect(leaksIn(restoresElsewhere, join(ROOT, 'tests/unit/x.test.ts'))).toEqual([LEAKS[2]![1]]);
    expect(leaksIn(restoresElsewhere, join(SUPPORT, 'x.ts'))).toEqual([LEAKS[2]![1]]);
    // Only the helper itself writes, and a call through it is no write.
    expect(leaksIn(readFileSync(ENV_HELPER, 'utf8'), ENV_HELPER)).toEqual([]);
    expect(LEAKS[2]![0].test(readFileSync(ENV_HELPER, 'utf8'))).toBe(true);
    expect(leaksIn(`await withEnv({ PATH: bin }, () => run());\n`, join(ROOT, 'tests/unit/x.test.ts'))).toEqual([]);
    expect(LEAKS[4]![0].test(`${p}.on('exit', f)`)).toBe(true);
    // The working directory: changed only through withCwd, which is excused that rule and no other.
    expect(LEAKS[6]![0].test(`${p}.chdir(dir)`)).toBe(true);
    expect(leaksIn(`const old = ${p}.cwd(); ${p}.chdir(dir); try { run(); } finally { ${p}.chdir(old); }\n`, join(ROOT, 'tests/unit/x.test.ts'))).toEqual([LEAKS[6]![1]]);
    expect(leaksIn(readFileSync(CWD_HELPER, 'utf8'), CWD_HELPER)).toEqual([]);
    expect(LEAKS[6]![0].test(readFileSync(CWD_HELPER, 'utf8'))).toBe(true);
    expect(leaksIn(`${p}.chdir(dir); ${p}.exitCode = 1;\n`, CWD_HELPER)).toEqual([LEAKS[3]![1]]);
    expect(leaksIn(`${p}.chdir(dir);\n`, ENV_HELPER)).toEqual([LEAKS[6]![1]]);
    expect(leaksIn(`await withCwd(checkout.dir, () => runCli(argv, io));\n`, join(ROOT, 'tests/unit/x.test.ts'))).toEqual([]);
    // The same functions taken from the module rather than the object.
    const from = (names: string) => `import { ${names} } from 'node:${p}';\n`;
    expect(leaksIn(from('chdir, cwd'), join(ROOT, 'tests/unit/x.test.ts'))).toEqual([LEAKS[6]![1]]);
    expect(leaksIn(`import { env } from '${p}';\nenv.DATA_DIR = '/x';\n`, join(ROOT, 'tests/unit/x.test.ts'))).toEqual([LEAKS[2]![1]]);
    expect(leaksIn(from('umask'), join(ROOT, 'tests/unit/x.test.ts'))).toEqual([LEAKS[3]![1]]);
    expect(leaksIn(from('cwd, pid'), join(ROOT, 'tests/unit/x.test.ts'))).toEqual([]);
    expect(LEAKS[4]![2]!.test(`${p}.on('exit', f)`)).toBe(false);
    expect(HOOK_AT_TOP_LEVEL.test(`import { x } from './x.js';\n${'after'}Each(closeAll);\n`)).toBe(true);
    expect(registersHooksAtImport(join(SUPPORT, 'db.ts'))).toBe(false); // its hooks are registered by the function a file calls
  });

  it('follow imports into helper modules kept beside their tests, not into other test files', () => {
    // A helper of tests/soak reached through the soak's test file, as tests/support's are.
    expect(supportReached(join(TESTS, 'soak/live-soak.test.ts'))).toEqual(expect.arrayContaining([join(TESTS, 'soak/bot-process.ts'), join(TESTS, 'soak/child.ts')]));
    expect(supportReached(join(TESTS, 'integration/engine-lease/one-engine-embedded.test.ts'))).toContain(join(TESTS, 'integration/engine-lease/one-engine-bots.ts'));
    expect(supportReached(join(TESTS, 'soak/live-soak.test.ts')).filter((f) => f.endsWith('.test.ts'))).toEqual([]);
  });
});
