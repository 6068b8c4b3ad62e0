// vitest globalSetup: builds dist/ with the shipped build step (scripts/build.mjs) once, before any
// test, so every test that spawns bin/ctb.js runs a build of the sources under test, never a stale
// dist/. An unchanged build is left in place (the script compares hashes).
// The build is a child process this one waits for without blocking (tests/support/global-setup.ts
// runs the other builds meanwhile).
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

// vitest calls a global setup once for the root project and once for each project that runs files:
// the first call builds, the others wait for that build.
const memo = globalThis as { __ctbCliBuilt?: Promise<void> };

function build(): Promise<void> {
  const root = fileURLToPath(new URL('../..', import.meta.url));
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['scripts/build.mjs', '--quiet'], { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] });
    child.on('error', reject);
    child.on('exit', (code, signal) => (code === 0 ? resolve() : reject(new Error(`node scripts/build.mjs --quiet failed (${signal ?? `exit ${code}`})`))));
  });
}

export default function buildCli(): Promise<void> {
  memo.__ctbCliBuilt ??= build();
  return memo.__ctbCliBuilt;
}
