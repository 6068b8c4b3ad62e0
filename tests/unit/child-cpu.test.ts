// The measurement of the tests' child processes (tests/support/child-cpu.ts), off unless
// CTB_TEST_CHILD_CPU names a file: each node child writes its own line as it exits, and the side
// that started it writes one with its command and test file.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { measureChildren } from '../support/child-cpu.js';

const lines = (log: string) => readFileSync(log, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);

describe('the child processes measurement', () => {
  it("writes a child's own line (CPU, lifetime, database) and its starter's (command, test file), then puts child_process back", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'child-cpu-'));
    const log = join(dir, 'children.jsonl');
    // A run measured as a whole (CTB_TEST_CHILD_CPU set) has its measurement installed in this worker
    // already: put it aside while this one is tested, then back for this file and the worker's next.
    const outer = process.env['CTB_TEST_CHILD_CPU'];
    if (outer) measureChildren(outer, '')();
    const restore = measureChildren(log, '/repo/tests/x.test.ts');
    try {
      const script = join(dir, 'count.mjs');
      writeFileSync(script, 'let x = 0; for (let i = 0; i < 1e6; i++) x += i;\n');
      const child = spawn(process.execPath, [script, 'up'], { env: { PATH: process.env['PATH'] ?? '' }, stdio: 'ignore' });
      await new Promise((resolve) => child.on('exit', resolve));
      await new Promise((resolve) => setImmediate(resolve));
    } finally {
      restore();
    }
    const [own, started] = [lines(log).find((l) => l['kind'] === 'child'), lines(log).find((l) => l['kind'] === 'spawn')];
    expect(own).toMatchObject({ argv: [expect.stringMatching(/count\.mjs$/), 'up'], code: 0, file: '/repo/tests/x.test.ts', db: 'embedded', wasm: false });
    expect(own!['own']).toEqual(expect.any(Number));
    expect(started).toMatchObject({ pid: own!['pid'], command: process.execPath, file: '/repo/tests/x.test.ts', code: 0 });
    // Put back: a child started now is not measured.
    spawnSync(process.execPath, ['-e', '0']);
    expect(lines(log)).toHaveLength(2);
    rmSync(dir, { recursive: true, force: true });
    if (outer) measureChildren(outer, expect.getState().testPath ?? '');
  });
});
