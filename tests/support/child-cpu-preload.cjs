// Loaded into every node child process a test starts (node --require, through NODE_OPTIONS), only
// when CTB_TEST_CHILD_CPU names a file (tests/support/child-cpu.ts): one JSON line there as the
// process exits, with its CPU-seconds (/proc/self/stat: its own and its reaped children's), its
// lifetime and whether it compiled PGlite's WebAssembly. A process
// ended by a signal it does not handle writes nothing: the test's side keeps a sample of it instead.
'use strict';
const { appendFileSync, readFileSync } = require('node:fs');

const log = process.env.CTB_TEST_CHILD_CPU;
if (log) {
  // PGlite's WebAssembly is megabytes; Node's own (fetch's HTTP parser) is tens of kilobytes.
  let wasm = false;
  const size = (b) => (b && typeof b.byteLength === 'number' ? b.byteLength : 0);
  const note = (b) => {
    if (size(b) > 1_000_000) wasm = true;
  };
  const mark = (fn) => function (...args) {
    note(args[0]);
    return fn.apply(this, args);
  };
  for (const name of ['compile', 'instantiate']) {
    if (typeof WebAssembly[name] === 'function') WebAssembly[name] = mark(WebAssembly[name]);
  }
  WebAssembly.Module = new Proxy(WebAssembly.Module, {
    construct(target, args, newTarget) {
      note(args[0]);
      return Reflect.construct(target, args, newTarget);
    },
  });
  process.on('exit', (code) => {
    let own = null;
    let children = null;
    try {
      const stat = readFileSync('/proc/self/stat', 'utf8');
      const f = stat.slice(stat.lastIndexOf(') ') + 2).split(' ');
      own = (Number(f[11]) + Number(f[12])) / 100;
      children = (Number(f[13]) + Number(f[14])) / 100;
    } catch {
      // not Linux
    }
    const line = {
      kind: 'child', pid: process.pid, ppid: process.ppid, argv: process.argv.slice(1), execArgv: process.execArgv.filter((a) => !a.includes('child-cpu-preload')), code, own, children,
      wallS: Number(process.uptime().toFixed(3)), wasm, file: process.env.CTB_TEST_CHILD_FILE ?? null,
      db: process.env.DATABASE_URL ? 'postgres' : 'embedded',
    };
    try {
      appendFileSync(log, `${JSON.stringify(line)}\n`);
    } catch {
      // the log is the measurement's, never the process's problem
    }
  });
}
