// Adds up what CTB_TEST_CHILD_CPU recorded (tests/support/child-cpu.ts): the child processes of a
// test run by kind (the `ctb` subcommand, the helper script, the program), with how many ran, their
// CPU-seconds in total and each, their wall time, and how many opened PGlite or ran embedded.
// Usage: node scripts/child-cpu-report.mjs <log.jsonl> [--files]   (--files: the costliest test files too)
import { readFileSync } from 'node:fs';
import { basename, relative } from 'node:path';

const [log, ...flags] = process.argv.slice(2);
if (!log) {
  process.stderr.write('usage: node scripts/child-cpu-report.mjs <log.jsonl> [--files]\n');
  process.exit(2);
}
const lines = readFileSync(log, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
const own = new Map(lines.filter((l) => l.kind === 'child').map((l) => [l.pid, l]));
const spawned = lines.filter((l) => l.kind === 'spawn');
const spawnedPids = new Set(spawned.map((s) => s.pid));

// node's options that take the next word as their value.
const WITH_VALUE = new Set(['--import', '--require', '-r', '--loader', '--experimental-loader', '-e', '--eval', '-p', '--print', '--input-type']);

/** `ctb stats`, `engine-child.mjs`, `node -e`, `npm` …: what a command line is, for grouping. */
function kindOf(argv) {
  if (!/(^|\/)node$/.test(argv[0] ?? '')) return basename(argv[0] ?? '?');
  let i = 1;
  const options = [];
  while (i < argv.length && argv[i].startsWith('-')) {
    const [flag] = argv[i].split('=');
    options.push(flag);
    i += WITH_VALUE.has(flag) && !argv[i].includes('=') ? 2 : 1;
  }
  const traced = options.includes('--import') ? ' [traced imports]' : '';
  if (options.includes('-e') || options.includes('--eval') || options.includes('-p')) return `node -e${traced}`;
  const script = argv[i] ?? '';
  const rest = argv.slice(i + 1);
  if (/bin\/ctb\.js$|dist\/ctb\.js$/.test(script)) {
    const words = rest.filter((a) => !a.startsWith('-')).slice(0, ['mode', 'runbook', 'alerts', 'incident', 'reconcile'].includes(rest[0]) ? 2 : 1);
    return `ctb ${words.join(' ') || rest[0] || '(none)'}${script.endsWith('dist/ctb.js') ? ' [dist/ctb.js]' : ''}${traced}`;
  }
  return `${basename(script) || 'node'}${traced}`;
}

const rows = [];
for (const s of spawned) {
  const c = own.get(s.pid);
  const argv = [s.command, ...s.args];
  const cpu = c && c.own !== null ? c.own + c.children : s.sampledS;
  rows.push({ kind: kindOf(argv), file: s.file, cpu: cpu ?? 0, measured: Boolean(c), wall: s.wallS, wasm: c?.wasm ?? false, db: c?.db ?? '?' });
}
// Node processes that a child started in its turn (a bot's own children, npm's node): counted as their own kind.
for (const c of own.values()) {
  if (spawnedPids.has(c.pid)) continue;
  rows.push({ kind: `${kindOf(['node', ...(c.execArgv ?? []), ...c.argv])} (started by a child)`, file: c.file, cpu: (c.own ?? 0) + (c.children ?? 0), measured: true, wall: c.wallS, wasm: c.wasm, db: c.db, nested: true, ppid: c.ppid });
}

const group = (key) => {
  const m = new Map();
  for (const r of rows) {
    const k = key(r);
    const g = m.get(k) ?? { k, n: 0, cpu: 0, wall: 0, wasm: 0, embedded: 0, sampled: 0 };
    g.n++;
    g.cpu += r.cpu;
    g.wall += r.wall;
    if (r.wasm) g.wasm++;
    if (r.db === 'embedded') g.embedded++;
    if (!r.measured) g.sampled++;
    m.set(k, g);
  }
  return [...m.values()].sort((a, b) => b.cpu - a.cpu);
};

const top = rows.filter((r) => !r.nested);
// A node child counts its reaped node children in its own figure; those of another program (script, npm's sh) are added.
const orphans = rows.filter((r) => r.nested && !own.has(r.ppid));
const total = top.reduce((s, r) => s + r.cpu, 0) + orphans.reduce((s, r) => s + r.cpu, 0);
const out = [];
out.push(`${top.length} child processes started by tests, ${total.toFixed(1)} CPU-s (their own and their reaped children's, and ${orphans.length} node processes that a program other than node started); ${rows.length - top.length} node processes started by those children.`);
out.push('');
out.push('| kind | count | CPU-s total | CPU-s each | wall s each | opened PGlite | embedded db | CPU sampled (killed) |');
out.push('|---|---:|---:|---:|---:|---:|---:|---:|');
for (const g of group((r) => r.kind)) {
  out.push(`| ${g.k} | ${g.n} | ${g.cpu.toFixed(1)} | ${(g.cpu / g.n).toFixed(2)} | ${(g.wall / g.n).toFixed(2)} | ${g.wasm} | ${g.embedded} | ${g.sampled} |`);
}
if (flags.includes('--files')) {
  out.push('');
  out.push('| test file | children | CPU-s |');
  out.push('|---|---:|---:|');
  for (const g of group((r) => r.file).slice(0, 30)) out.push(`| ${relative(process.cwd(), g.k ?? '?')} | ${g.n} | ${g.cpu.toFixed(1)} |`);
}
process.stdout.write(`${out.join('\n')}\n`);
