// The order the suite's files are handed to vitest's pool (tests/support/worker-order.ts): the pool
// keeps a shared worker only while the next file in its queue is a shared file too, so every isolated
// file between two shared ones costs a new shared worker and its imports again.
import { readdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sharedWorkerFiles } from '../support/shared-worker-files.js';
import { LONGEST_FIRST, workerOrder } from '../support/worker-order.js';

const ROOT = resolve(new URL('../..', import.meta.url).pathname);

interface Spec {
  file: string;
  shared: boolean;
}
const order = (specs: Spec[]) => workerOrder(specs, (s) => `${ROOT}/${s.file}`, (s) => s.shared);

/** How many unbroken runs of shared files `specs` has: each run starts the shared workers anew. */
const sharedRuns = (specs: Spec[]) => specs.filter((s, i) => s.shared && !specs[i - 1]?.shared).length;

describe('the order files reach the worker pool in', () => {
  // As vitest's own order has them: the isolated project's files, then the shared project's.
  const shared = new Set(sharedWorkerFiles(ROOT));
  const all = readdirSync(`${ROOT}/tests`, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.test.ts'))
    .map((f) => `tests/${f}`)
    .sort();
  /** Vitest's own order when the files `isShared` names share workers. */
  const vitestOrder = (isShared: (f: string) => boolean): Spec[] =>
    [...all.filter((f) => !isShared(f)), ...all.filter((f) => isShared(f))].map((file) => ({ file, shared: isShared(file) }));

  it("keeps this suite's shared files in one unbroken run, whichever of them are the longest", () => {
    expect(LONGEST_FIRST.some((f) => shared.has(f))).toBe(true);
    // Both kinds among the longest files: the case that broke the run up. The suite as it is, and with
    // one of its longest shared files isolated, as when a long file must run in a process of its own.
    const madeIsolated = LONGEST_FIRST.filter((f) => shared.has(f))[2]!;
    expect(all).toContain(madeIsolated);
    for (const isShared of [(f: string) => shared.has(f), (f: string) => shared.has(f) && f !== madeIsolated]) {
      const specs = vitestOrder(isShared);
      const sorted = order(specs);
      expect(sharedRuns(sorted)).toBe(1);
      expect([...sorted].map((s) => s.file).sort()).toEqual(all);
    }
  });

  it('starts the longest isolated files first, then the shared files longest first, then the other isolated files', () => {
    const soak = 'tests/soak/live-soak.test.ts';
    const exit = 'tests/integration/ops/exit.test.ts';
    const specs: Spec[] = [
      { file: 'tests/integration/iso-a.test.ts', shared: false },
      { file: soak, shared: false },
      { file: 'tests/integration/iso-b.test.ts', shared: false },
      { file: 'tests/unit/shared-a.test.ts', shared: true },
      { file: exit, shared: true },
      { file: 'tests/unit/shared-b.test.ts', shared: true },
    ];
    expect(order(specs).map((s) => s.file)).toEqual([
      soak,
      exit,
      'tests/unit/shared-a.test.ts',
      'tests/unit/shared-b.test.ts',
      'tests/integration/iso-a.test.ts',
      'tests/integration/iso-b.test.ts',
    ]);
  });
});
