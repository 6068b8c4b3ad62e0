// npm 11 runs a dependency's install scripts only when package.json's allowScripts approves it, and
// ends every `npm ci` with a warning naming each one it is not told about. Every dependency in the
// lockfile with an install script has a decision here, so a fresh clone's `npm ci` is quiet and
// esbuild's postinstall (its platform binary checked and linked) runs.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const readJson = (file: string) => JSON.parse(readFileSync(new URL(`../../${file}`, import.meta.url), 'utf8')) as Record<string, unknown>;

describe('install scripts', () => {
  it('has an allowScripts decision for every locked dependency with an install script, and approves esbuild', () => {
    const lock = readJson('package-lock.json') as { packages: Record<string, { hasInstallScript?: boolean }> };
    const withScripts = [...new Set(Object.entries(lock.packages)
      // The project's own entry ('') is not a dependency: npm runs its scripts (postinstall: patch-package).
      .filter(([path, p]) => p.hasInstallScript && path !== '')
      .map(([path]) => path.slice(path.lastIndexOf('node_modules/') + 'node_modules/'.length)))];
    expect(withScripts).toContain('esbuild');
    const allowScripts = (readJson('package.json').allowScripts ?? {}) as Record<string, boolean>;
    const decided = Object.keys(allowScripts).map((key) => key.replace(/(?<=.)@.*$/, ''));
    expect(withScripts.filter((name) => !decided.includes(name))).toEqual([]);
    expect(allowScripts['esbuild']).toBe(true);
  });
});
