// npm test: the type check and the test run (vitest run) side by side instead of one after the other.
// Both must pass: the exit code is the first failure's. vitest prints as it runs; the type check's
// report is printed when it ends. Arguments go to vitest.
// The type check is TypeScript 7's compiler (the devDependency `typescript-native`, typescript@7 under
// another name) on the same tsconfig.json, everything it includes: the same full check in about 6
// CPU-seconds where TypeScript 5.9's tsc took about 32 of the suite's ~330 on a 2-core machine. One
// checker thread (--singleThreaded): it runs beside vitest, which has the cores' work to do; alone it
// ends in under 10 s anyway. `typescript` (5.9) stays installed for dependency-cruiser, which parses
// with its JavaScript API (TypeScript 7 has none); `npx tsc` may be either, both check the same.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { DROPPED_FOR_TESTS, testRunEnv } from './test-env.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const bin = (name) => `${root}node_modules/.bin/${name}`;
const TSC = `${root}node_modules/typescript-native/bin/tsc`;
const TSC_ARGS = ['--noEmit', '-p', '.', '--singleThreaded'];

// The caller's environment less what only costs the tests time (scripts/test-env.mjs), said first.
const { env, dropped, kept } = testRunEnv();
for (const name of dropped) process.stdout.write(`npm test: ${name} is not passed to the tests (${DROPPED_FOR_TESTS[name]})\n`);
for (const { name, why } of kept) process.stdout.write(`npm test: ${name} is passed to the tests: ${why} (it slows every node process the suite starts)\n`);

function run(cmd, args, stdio) {
  const child = spawn(cmd, args, { cwd: root, stdio, env });
  const exited = new Promise((resolve) => {
    child.on('error', (err) => {
      process.stderr.write(`${cmd}: ${err.message}\n`);
      resolve(1);
    });
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
  return { child, exited };
}

const started = Date.now();
const tsc = run(process.execPath, [TSC, ...TSC_ARGS], ['ignore', 'pipe', 'pipe']);
let tscOutput = '';
tsc.child.stdout.on('data', (d) => (tscOutput += d));
tsc.child.stderr.on('data', (d) => (tscOutput += d));
const vitest = run(bin('vitest'), ['run', ...process.argv.slice(2)], 'inherit');

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    tsc.child.kill(signal);
    vitest.child.kill(signal);
  });
}

const tscCode = await tsc.exited;
const seconds = ((Date.now() - started) / 1000).toFixed(1);
if (tscCode === 0) process.stdout.write(`\ntype check (TypeScript 7, tsc --noEmit -p .): no errors, ${seconds} s\n`);
else process.stdout.write(`\ntype check (TypeScript 7, tsc --noEmit -p .) FAILED (exit ${tscCode}) after ${seconds} s:\n${tscOutput}\n`);
const vitestCode = await vitest.exited;
if (tscCode !== 0) process.stdout.write(`type check FAILED (see above): npm test fails whatever the tests did\n`);
process.exit(tscCode !== 0 ? tscCode : vitestCode);
