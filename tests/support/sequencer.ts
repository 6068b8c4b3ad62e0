// The order test files start in. Most of the suite's wall time is waiting (child processes starting,
// a simulator's market moving, the live soak's fault schedule), so more files run side by side than
// there are cores; the run then ends when its longest file ends, and that file must start first.
// Vitest orders by the durations it cached on a previous run; a fresh clone (CI) has none and would
// order by file size, which can start the soak last. These files, measured the longest (a JSON report:
// `npx vitest run --reporter=json --outputFile=/tmp/vt.json`), start first in this order whatever the
// cache says; the rest keep vitest's order.
import { BaseSequencer, type TestSpecification } from 'vitest/node';

export const LONGEST_FIRST = [
  'tests/soak/live-soak.test.ts',
  'tests/integration/kill/kill.test.ts',
  'tests/integration/cli-fast-script.test.ts',
  'tests/integration/db/pglite-socket-sessions.test.ts',
  'tests/integration/audit/fresh-clone.test.ts',
  'tests/integration/cli-lazy.test.ts',
  'tests/integration/mode/live-release-processes.test.ts',
  'tests/integration/audit/audit-e2e-fake-kraken.test.ts',
  'tests/integration/start-replay.test.ts',
  'tests/integration/engine-lease/one-engine-workers.test.ts',
  'tests/integration/alerts/paging-after-actions.test.ts',
  'tests/integration/mode/live-switch.test.ts',
  'tests/integration/kill/one-follow-up-per-incident.test.ts',
  'tests/integration/engine-live-fills.test.ts',
  'tests/integration/kill/kill-slack.test.ts',
  'tests/integration/engine-lease/one-engine-takeover.test.ts',
  'tests/integration/audit/checks-local.test.ts',
  'tests/integration/engine-lease/lease.test.ts',
  'tests/integration/kill/incident-capabilities.test.ts',
  'tests/integration/engine-lease/one-engine-embedded.test.ts',
  'tests/integration/kill/kraken-shared-counter.test.ts',
  'tests/integration/kill/kill-slow-kraken.test.ts',
  'tests/integration/flatten-engine-book.test.ts',
  'tests/integration/reconcile/block-from-another-process.test.ts',
  'tests/integration/kill/self-heal.test.ts',
  'tests/integration/kill/kill-shell.test.ts',
  'tests/integration/reconcile/unexplained-at-start.test.ts',
  'tests/integration/db/pglite-start.test.ts',
  'tests/integration/kill/kill-web-worker.test.ts',
  'tests/integration/engine-crash.test.ts',
];

export default class LongestFirstSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const rank = (spec: TestSpecification) => {
      const i = LONGEST_FIRST.findIndex((f) => spec.moduleId.endsWith(`/${f}`));
      return i === -1 ? LONGEST_FIRST.length : i;
    };
    // Array.prototype.sort is stable: files outside the list keep vitest's order among themselves.
    return sorted.sort((a, b) => rank(a) - rank(b));
  }
}
