// vitest globalSetup: builds dist/ with the shipped build step (scripts/build.mjs) once, before any
// test, so every test that spawns bin/ctb.js runs a build of the sources under test, never a stale
// dist/. An unchanged build is left in place (the script compares hashes).
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

// vitest calls a global setup once for the root project and once for each project that runs files:
// the first call builds, the others find it done.
const memo = globalThis as { __ctbCliBuilt?: boolean };

export default function buildCli(): void {
  if (memo.__ctbCliBuilt) return;
  const root = fileURLToPath(new URL('../..', import.meta.url));
  execFileSync(process.execPath, ['scripts/build.mjs', '--quiet'], { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] });
  memo.__ctbCliBuilt = true;
}
