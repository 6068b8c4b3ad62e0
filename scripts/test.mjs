// npm test: the type check (tsc --noEmit -p .) and the test run (vitest run) side by side instead of
// one after the other. tsc takes about 28 CPU-seconds on one core, and before it ended no test
// started; vitest's run leaves cores idle while its files wait (child processes starting, the soak's
// schedule), so the type check fits into that time. Both must pass: the exit code is the first
// failure's. vitest prints as it runs; tsc's report is printed when it ends. Arguments go to vitest.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const bin = (name) => `${root}node_modules/.bin/${name}`;

function run(cmd, args, stdio) {
  const child = spawn(cmd, args, { cwd: root, stdio });
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
const tsc = run(bin('tsc'), ['--noEmit', '-p', '.'], ['ignore', 'pipe', 'pipe']);
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
if (tscCode === 0) process.stdout.write(`\ntype check (tsc --noEmit -p .): no errors, ${seconds} s\n`);
else process.stdout.write(`\ntype check (tsc --noEmit -p .) FAILED (exit ${tscCode}) after ${seconds} s:\n${tscOutput}\n`);
const vitestCode = await vitest.exited;
if (tscCode !== 0) process.stdout.write(`type check FAILED (see above): npm test fails whatever the tests did\n`);
process.exit(tscCode !== 0 ? tscCode : vitestCode);
