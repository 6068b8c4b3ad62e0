// Only src/config reads the process's environment (issue 17): every other module takes its settings
// from the parsed config or from the variables it is handed, so a setting has one parser and one
// message when it is wrong. dependency-cruiser sees imports, not property reads, so this reads the
// source: `process.env`, `process['env']` and destructuring `env` out of `process`.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const READS = [/\bprocess\s*\.\s*env\b/, /\bprocess\s*\[\s*['"`]env['"`]\s*\]/, /\{[^}]*\benv\b[^}]*\}\s*=\s*(globalThis\.)?process\b/];

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sources(path);
    return /\.(ts|js|mjs|cjs)$/.test(name) ? [path] : [];
  });
}

/** Files (relative to the root) outside `allowed` whose code reads the environment; comments are skipped. */
function envReaders(dirs: string[], allowed: RegExp): string[] {
  return dirs.flatMap((d) => sources(join(ROOT, d)))
    .map((path) => relative(ROOT, path))
    .filter((file) => !allowed.test(file))
    .filter((file) => {
      const code = readFileSync(join(ROOT, file), 'utf8').replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
      return READS.some((re) => re.test(code));
    });
}

describe('environment reads', () => {
  it('happen only in src/config (src/, commands/, bin/)', () => {
    expect(envReaders(['src', 'commands', 'bin'], /^src\/config\//)).toEqual([]);
  });

  it('are found in each spelling (the check is not blind)', () => {
    const spelled = ['const a = process.env.X;', "const b = process['env'];", 'const { env } = process;'];
    for (const code of spelled) expect(READS.some((re) => re.test(code)), code).toBe(true);
    expect(READS.some((re) => re.test('const environment = config.env;'))).toBe(false);
    // The real tree has readers inside src/config: without the exemption they are reported.
    expect(envReaders(['src/config'], /^$/)).toContain('src/config/process-env.ts');
  });
});
