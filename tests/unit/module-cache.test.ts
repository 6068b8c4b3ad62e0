// vitest keeps the modules it compiled in .test-build/ (tests/support/module-cache.ts): an entry must
// never be used for a module the compiler would now compile differently (what the prune of
// .test-build/ removes of them: tests/unit/prune-test-build.test.ts).
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { KEYED_FILES, MODULE_CACHE_DIR, moduleCacheKey, moduleCacheKeyPlugin, UNCACHED_ENVIRONMENT, type KeyGenerator } from '../support/module-cache.js';

const ROOT = new URL('../..', import.meta.url).pathname;

/** A directory with this repository's copies of the keyed files. */
function checkout(): string {
  const dir = mkdtempSync(join(tmpdir(), 'ctb-module-cache-'));
  for (const f of KEYED_FILES) copyFileSync(join(ROOT, f), join(dir, f));
  return dir;
}

describe("vitest's module cache", () => {
  it('is on, in the gitignored .test-build/ of the checkout', () => {
    const config = readFileSync(join(ROOT, 'vitest.config.ts'), 'utf8');
    expect(config).toMatch(/experimental: \{ fsModuleCache: true, fsModuleCachePath: MODULE_CACHE_DIR \}/);
    expect(config).toMatch(/plugins: \[moduleCacheKeyPlugin\(/);
    expect(MODULE_CACHE_DIR.startsWith('.test-build/')).toBe(true);
    expect(readFileSync(join(ROOT, '.gitignore'), 'utf8').split('\n')).toContain('.test-build/');
  });

  it("keys its entries on tsconfig.json and package.json, which the compiler reads and vitest's own key leaves out", () => {
    const dir = checkout();
    const before = moduleCacheKey(dir);
    expect(moduleCacheKey(dir)).toBe(before);
    const tsconfig = JSON.parse(readFileSync(join(dir, 'tsconfig.json'), 'utf8')) as { compilerOptions: Record<string, unknown> };
    tsconfig.compilerOptions['verbatimModuleSyntax'] = false; // unused imports are dropped then, kept now
    writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify(tsconfig));
    const afterTsconfig = moduleCacheKey(dir);
    expect(afterTsconfig).not.toBe(before);
    writeFileSync(join(dir, 'package.json'), `${readFileSync(join(dir, 'package.json'), 'utf8')}\n`);
    expect(moduleCacheKey(dir)).not.toBe(afterTsconfig);
  });

  it('gives vitest one key generator, however many projects load the config', () => {
    const generators: KeyGenerator[] = [];
    for (let i = 0; i < 3; i++) {
      const plugin = moduleCacheKeyPlugin(ROOT) as { configureVitest: (ctx: unknown) => void };
      plugin.configureVitest({ experimental_defineCacheKeyGenerator: (g: KeyGenerator) => generators.push(g) });
    }
    expect(new Set(generators).size).toBe(1);
    expect(generators[0]!({ environment: { name: 'ssr' } })).toBe(moduleCacheKey(ROOT));
  });

  it("leaves out the global setup's modules, whose runner fails on a cached module when it formats an error", () => {
    let generator: KeyGenerator | undefined;
    (moduleCacheKeyPlugin(ROOT) as { configureVitest: (ctx: unknown) => void }).configureVitest({ experimental_defineCacheKeyGenerator: (g: KeyGenerator) => (generator = g) });
    expect(generator!({ environment: { name: UNCACHED_ENVIRONMENT } })).toBe(false);
    expect(UNCACHED_ENVIRONMENT).toBe('__vitest__');
  });
});
