// The order test files start in. Most of the suite's wall time is waiting (child processes starting,
// a simulator's market moving, the live soak's fault schedule), so more files run side by side than
// there are cores; the run then ends when its longest file ends, and that file must start first.
// Vitest orders by the durations it cached on a previous run; a fresh clone (CI) has none and would
// order by file size, which can start the soak last. These files, measured the longest (a JSON report:
// `npx vitest run --reporter=json --outputFile=/tmp/vt.json`), start first in this order whatever the
// cache says, the shared workers' files kept together (workerOrder below); the rest keep vitest's
// order. Refreshed from a whole run's report after the Slack retry pause and the embedded database's
// idle bound became settings (paging-after-actions and pglite-socket-sessions placed by their shorter
// times), with the files written since the last list. ops/exit leads after the soak: its Slack
// button's wait and its sweep's grace became options its tests shorten (190 s → about 50 s alone),
// which still leaves it more than twice the next file.

export const LONGEST_FIRST = [
  'tests/soak/live-soak.test.ts',
  'tests/integration/ops/exit.test.ts',
  'tests/integration/db/pglite-start.test.ts',
  'tests/integration/db/connect-errors-cli.test.ts',
  'tests/integration/paper-order.test.ts',
  'tests/integration/audit/gate-policy-engine-processes.test.ts',
  'tests/integration/kill/kill-shell.test.ts',
  'tests/integration/start-port-taken-process.test.ts',
  'tests/integration/cli-fast-script.test.ts',
  'tests/integration/kill/kill-web-worker.test.ts',
  'tests/integration/engine-crash.test.ts',
  'tests/integration/audit/gate-policy-processes.test.ts',
  'tests/integration/mode/live-release-processes.test.ts',
  'tests/unit/architecture.test.ts',
  'tests/integration/reconcile/unexplained-at-start.test.ts',
  'tests/integration/npm-script-stop.test.ts',
  'tests/integration/kill/kill.test.ts',
  'tests/integration/db/pglite-socket-sessions.test.ts',
  'tests/integration/release/build-without-git.test.ts',
  'tests/integration/engine-live-fills.test.ts',
  'tests/integration/audit/audit-e2e-fake-kraken.test.ts',
  'tests/integration/audit/fresh-clone.test.ts',
  'tests/integration/engine-live-ws.test.ts',
  'tests/integration/cli-lazy.test.ts',
  'tests/integration/kill/self-heal.test.ts',
  'tests/integration/engine-lease/one-engine-workers.test.ts',
  'tests/integration/stats/stats-cli.test.ts',
  'tests/integration/kill/kill-follow-up-rate-limit.test.ts',
  'tests/integration/kill/one-follow-up-per-incident.test.ts',
  'tests/integration/ledger.test.ts',
  'tests/integration/backup.test.ts',
  'tests/integration/kill/incident-thread-pace.test.ts',
  'tests/integration/kill/kill-slack.test.ts',
  'tests/integration/cli-terminal.test.ts',
  'tests/integration/reconcile/start-reconciliation.test.ts',
  'tests/integration/db/pglite-spares.test.ts',
  'tests/integration/stats/compute-stats.test.ts',
  'tests/integration/engine-lease/one-engine-takeover.test.ts',
  'tests/unit/release-version.test.ts',
];

/**
 * The order vitest's pool is given the files in: `sorted` (vitest's own order) with the listed longest
 * files first, and every file of a shared-worker project (`isolate: false`) in one unbroken run. The
 * pool keeps a shared worker for the next file only when the next file in its queue is also a shared
 * file: an isolated file between two shared ones ends the worker, and the next shared file pays a new
 * worker and all its imports again. With the longest files of both kinds mixed at the front, a run
 * started 14 shared workers instead of 6. So: the longest isolated files first, then the shared files
 * (their longest first), then the other isolated files, which are short and fill the run's tail.
 */
export function workerOrder<T>(sorted: T[], name: (spec: T) => string, shared: (spec: T) => boolean): T[] {
  const rank = (spec: T) => {
    const i = LONGEST_FIRST.findIndex((f) => name(spec).endsWith(`/${f}`));
    return i === -1 ? LONGEST_FIRST.length : i;
  };
  const group = (spec: T) => (shared(spec) ? 1 : rank(spec) < LONGEST_FIRST.length ? 0 : 2);
  // Array.prototype.sort is stable: files of a group outside the list keep vitest's order among themselves.
  return [...sorted].sort((a, b) => group(a) - group(b) || rank(a) - rank(b));
}
