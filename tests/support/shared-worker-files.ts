// The test files that share worker processes (vitest.config.ts, project `shared`, isolate: false): one
// worker runs many of them one after another and imports the sources once, where an isolated file
// pays a fresh process and every import again (about half a CPU-second a file, more with drizzle,
// Bolt or ccxt). A file belongs here only if it leaves nothing behind in its process that the next
// file could see, in any order of files (`npx vitest run --project shared --sequence.shuffle.files`; the
// tests inside a file keep their order, which some files rely on):
// - no vi.mock / vi.doMock, vi.stubEnv / vi.stubGlobal; fake timers made real again, spies restored;
// - no write to process.env (a variable needed for one call is set through tests/support/with-env.ts,
//   which puts it back), process.exitCode or the working directory (a call run from another directory
//   goes through tests/support/with-cwd.ts, which puts it back); a process listener removed;
// - no import of a support module that registers hooks when imported (tests/support/simulator.ts
//   registers its afterEach once per process, so only the first file of a worker would get it);
// - nothing left in the sources' module state that another file reads: the Kraken rate limiter's
//   counters per API key, the pending-kill queue, the order lock, open servers or timers.
// tests/unit/shared-worker-files.test.ts checks what can be read off each file's text (and off the helper
// modules under tests/ it imports).
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

/** Globs as vitest reads them: a directory's every test file (`dir/**\/*.test.ts`) or one file. */
export const SHARED_WORKER_FILES = [
  'tests/unit/**/*.test.ts',
  // In-process integration files: no child process, no Kraken key (the rate limiter's counters are
  // per key and per process), no kill (its queue is per process).
  'tests/integration/alerts/alert-buttons-slack.test.ts',
  'tests/integration/alerts/alerts-list-cli.test.ts',
  'tests/integration/alerts/deliveries-of-group.test.ts',
  'tests/integration/alerts/delivery.test.ts',
  'tests/integration/alerts/email.test.ts',
  'tests/integration/alerts/escalation.test.ts',
  'tests/integration/alerts/log-source.test.ts',
  'tests/integration/alerts/writer.test.ts',
  'tests/integration/audit-log-cli.test.ts',
  'tests/integration/audit/alerting-after-alerts-test.test.ts',
  'tests/integration/audit/alerting-oncall-checks.test.ts',
  'tests/integration/audit/backups-logs-release-checks.test.ts',
  'tests/integration/audit/review-schedule-check.test.ts',
  'tests/integration/backup-cli.test.ts',
  'tests/integration/check-logs-cli.test.ts',
  'tests/integration/cli-on-path.test.ts',
  'tests/integration/cli-terminal.test.ts',
  'tests/integration/coalesced-writes.test.ts',
  'tests/integration/command-log-append-only.test.ts',
  'tests/integration/db-prepared.test.ts',
  'tests/integration/db.test.ts',
  'tests/integration/db/connect-errors.test.ts',
  'tests/integration/db/pglite-lock-race.test.ts',
  'tests/integration/db/pglite-start.test.ts',
  'tests/integration/db/pglite-spares.test.ts',
  'tests/integration/engine-backoff.test.ts',
  'tests/integration/engine-exchange-errors.test.ts',
  'tests/integration/engine-replay.test.ts',
  'tests/integration/engine-requests.test.ts',
  'tests/integration/engine-snapshot-stamps.test.ts',
  'tests/integration/flatten.test.ts',
  'tests/integration/health.test.ts',
  'tests/integration/ledger-fills.test.ts',
  'tests/integration/ledger.test.ts',
  'tests/integration/metrics/alert-rules.test.ts',
  'tests/integration/metrics/metrics-endpoint.test.ts',
  'tests/integration/metrics/replicas.test.ts',
  'tests/integration/mode-status-read.test.ts',
  'tests/integration/oncall/oncall-commands.test.ts',
  'tests/integration/oncall/oncall-slack.test.ts',
  'tests/integration/ops/exit-bot.test.ts',
  'tests/integration/ops/exit.test.ts',
  'tests/integration/ops/pause-engine.test.ts',
  'tests/integration/ops/pause-slack.test.ts',
  'tests/integration/ops/trading-state.test.ts',
  'tests/integration/paper-exchange.test.ts',
  'tests/integration/paper-order.test.ts',
  'tests/integration/partial-exit.test.ts',
  'tests/integration/reconcile/load-ledger.test.ts',
  'tests/integration/risk-guard.test.ts',
  'tests/integration/runbook-command.test.ts',
  'tests/integration/slack-ack-queue.test.ts',
  'tests/integration/slack-app-home.test.ts',
  'tests/integration/slack-commands.test.ts',
  'tests/integration/slack-framework.test.ts',
  'tests/integration/slack-golive-audit.test.ts',
  'tests/integration/slack-ssl-check.test.ts',
  'tests/integration/snapshot-writer.test.ts',
  'tests/integration/start-port-taken.test.ts',
  'tests/integration/stats/compute-stats.test.ts',
  'tests/integration/stats/scheduled-summaries.test.ts',
  'tests/integration/stats/stats-cli.test.ts',
  'tests/integration/stats/stats-slack.test.ts',
  'tests/integration/stats/trade-rollup.test.ts',
  'tests/integration/validate-trades.test.ts',
  // The Kraken simulator's own tests: each simulator is closed when its test ends, the adapter runs
  // without our rate limiter.
  'tests/integration/simulator/auth.test.ts',
  'tests/integration/simulator/control-api.test.ts',
  'tests/integration/simulator/dead-man.test.ts',
  'tests/integration/simulator/executions-ws.test.ts',
  'tests/integration/simulator/faults.test.ts',
  'tests/integration/simulator/market.test.ts',
  'tests/integration/simulator/orders.test.ts',
  'tests/integration/simulator/rate-limits.test.ts',
  'tests/integration/simulator/state-file.test.ts',
  'tests/integration/simulator/system-status.test.ts',
  // In-process files with a Kraken key (fake Kraken, nock or the simulator) or a kill: what they leave
  // in the process (the rate limiter's level per key, the pending-kill and order queues) holds no
  // other file's result.
  'tests/integration/audit/checks-kraken.test.ts',
  'tests/integration/audit/run-audit.test.ts',
  'tests/integration/backup.test.ts',
  'tests/integration/engine-live-fills.test.ts',
  'tests/integration/engine-live-start.test.ts',
  'tests/integration/engine-locks.test.ts',
  'tests/integration/kill/announce-incident.test.ts',
  'tests/integration/kill/auto-kill-test-alert.test.ts',
  'tests/integration/kill/auto-kill.test.ts',
  'tests/integration/kill/dead-man.test.ts',
  'tests/integration/kill/fence.test.ts',
  'tests/integration/kill/halt-means-cancel.test.ts',
  'tests/integration/kill/halt-watcher.test.ts',
  'tests/integration/kill/incident-capabilities.test.ts',
  'tests/integration/kill/incident-resume.test.ts',
  'tests/integration/kill/incident-web-worker.test.ts',
  'tests/integration/kill/kill-cli.test.ts',
  'tests/integration/kill/kill-http.test.ts',
  'tests/integration/kill/kill-slack.test.ts',
  'tests/integration/kill/kill.test.ts',
  'tests/integration/kill/nul-text.test.ts',
  'tests/integration/kill/pending-kill-lock-break-race.test.ts',
  'tests/integration/kill/pending-kill-race.test.ts',
  'tests/integration/kill/self-heal.test.ts',
  'tests/integration/kraken/direct-cancel-all.test.ts',
  'tests/integration/kraken/fake-kraken.test.ts',
  'tests/integration/kraken/key-rights-unknown.test.ts',
  'tests/integration/kraken/kraken-exchange.test.ts',
  'tests/integration/kraken/kraken-fills.test.ts',
  'tests/integration/kraken/map-error.test.ts',
  'tests/integration/mode/expiry-announce-once.test.ts',
  'tests/integration/mode/mode-at-start.test.ts',
  'tests/integration/mode/mode-cli.test.ts',
  'tests/integration/mode/mode-slack.test.ts',
  'tests/integration/ops/gate-counts-cancels.test.ts',
  'tests/integration/ops/pre-trade-gate.test.ts',
  'tests/integration/ops/trades-balance.test.ts',
  'tests/integration/order-accepted.test.ts',
  'tests/integration/paper-invariant.test.ts',
  'tests/integration/reconcile/start-reconciliation.test.ts',
  // Files that undo what they change of the process: fake timers made real again, a process listener
  // removed, spies restored.
  'tests/integration/engine-feed-watch.test.ts',
  'tests/integration/mode/live-switch.test.ts',
  'tests/integration/slack-request-gate.test.ts',
  // Files whose every bot, simulator and `ctb` command is a child process (or that compute alone), on
  // databases and directories of their own: what they start they stop, and nothing of it is in this
  // process for the next file. The Kraken simulator some run in-process is closed by the file.
  'tests/integration/audit/fresh-clone.test.ts',
  'tests/integration/engine-crash.test.ts',
  'tests/integration/engine-lease/one-engine-embedded.test.ts',
  'tests/integration/engine-lease/one-engine-takeover.test.ts',
  'tests/integration/engine-lease/one-engine-workers.test.ts',
  'tests/integration/start-first-line.test.ts',
  'tests/integration/start-port-taken-process.test.ts',
  'tests/integration/start-replay.test.ts',
  'tests/soak/soak-checks.test.ts',
  // Files still isolated when the lists above were made, reviewed since: what they run in-process (a
  // bot, the fake Kraken, the simulator, a PostgreSQL client, the audit's local checks) their own hooks
  // stop, and the rest are child processes. Each isolated file paid a fresh worker and its imports
  // again (about half a CPU-second); shuffled runs of the shared project with them passed.
  'tests/integration/audit/checks-local.test.ts',
  'tests/integration/db/connect-errors-cli.test.ts',
  'tests/integration/db/postgres-close.test.ts',
  'tests/integration/demo-talks.test.ts',
  'tests/integration/engine-live-ws.test.ts',
  'tests/integration/kill/kill-shell.test.ts',
  'tests/integration/kill/kill-slow-kraken.test.ts',
  'tests/integration/kill/kill-web-worker.test.ts',
  'tests/integration/reconcile/unexplained-at-start.test.ts',
  'tests/integration/start-starting.test.ts',
  // Files written since the review above, reviewed the same way: no mock, stub or process change, what
  // they start in-process (bots, fakes, runners, clients) stopped by their own hooks, the rest child
  // processes. Left isolated: pglite-socket-sessions (a healthz deadline under load), kraken-rate-limit
  // (it measures the rate limiter's level per key, which is per process), kill-rate-limited-rounds and
  // kraken-shared-counter (the same: the limiter's counter for the tests' one key is per process, and a
  // level another file left would change their rounds) and array-types-once (what a postgres.js client
  // reads once). (cli-fast-script, left out then for a case near the test timeout under load, has had
  // 120 s a test since and is listed below.)
  'tests/integration/alerts/actions-during-sends.test.ts',
  'tests/integration/alerts/alerts-test-no-channel.test.ts',
  'tests/integration/alerts/email-config-warning.test.ts',
  'tests/integration/alerts/kill-alert-recovery.test.ts',
  'tests/integration/alerts/one-alert-per-event.test.ts',
  'tests/integration/alerts/paging-after-actions.test.ts',
  'tests/integration/alerts/recovery-resolves.test.ts',
  'tests/integration/audit/gate-policy-engine-processes.test.ts',
  'tests/integration/audit/gate-policy-incomplete.test.ts',
  'tests/integration/audit/gate-policy-processes.test.ts',
  'tests/integration/audit/gate-status.test.ts',
  'tests/integration/audit/paper-trades-floor-cli.test.ts',
  'tests/integration/audit/roi-exchange-equity.test.ts',
  'tests/integration/cli-fresh-data-dir.test.ts',
  'tests/integration/db/migrate-up-to-date.test.ts',
  'tests/integration/db/postgres-spares.test.ts',
  'tests/integration/engine-context-data-dir.test.ts',
  'tests/integration/engine-lease/lease.test.ts',
  'tests/integration/engine-live-venue-hold.test.ts',
  'tests/integration/flatten-engine-book.test.ts',
  'tests/integration/kill/halt-cancel-follow-up.test.ts',
  'tests/integration/kill/halt-cancel-report.test.ts',
  'tests/integration/kill/incident-thread-pace.test.ts',
  'tests/integration/kill/kill-follow-up-rate-limit.test.ts',
  'tests/integration/kill/one-follow-up-per-incident.test.ts',
  'tests/integration/kill/self-heal-kraken-limits.test.ts',
  'tests/integration/kraken/add-order-refusals.test.ts',
  'tests/integration/kraken/call-retry.test.ts',
  'tests/integration/log-rotation-processes.test.ts',
  'tests/integration/mode/live-gate-policy.test.ts',
  'tests/integration/mode/paper-positions-at-live.test.ts',
  'tests/integration/npm-script-stop.test.ts',
  'tests/integration/oncall/oncall-reachability.test.ts',
  'tests/integration/ops/in-flight-views.test.ts',
  'tests/integration/reconcile/block-from-another-process.test.ts',
  'tests/integration/reconcile/open-orders-check.test.ts',
  'tests/integration/reconcile/quote-balance.test.ts',
  'tests/integration/simulator/cli.test.ts',
  'tests/integration/slack-api-timeout.test.ts',
  'tests/integration/start-bad-strategies.test.ts',
  'tests/integration/stats/live-drawdown.test.ts',
  'tests/integration/stats/snapshot-age.test.ts',
  'tests/integration/alerts/page-crash-after-send.test.ts',
  'tests/integration/engine-follower-bug.test.ts',
  'tests/integration/mode/live-release-gate.test.ts',
  'tests/integration/mode/live-release-processes.test.ts',
  'tests/integration/reconcile/reconcile-unreachable.test.ts',
  // Reviewed later the same way (no mock, stub or process change; what they start in-process — a
  // bot, an engine, fakes, harnesses — stopped by their own hooks; the rest child processes), and
  // run shuffled twice among the files above.
  'tests/integration/alerts/resolve-during-page-processes.test.ts',
  'tests/integration/audit/gate-policy-record-retry.test.ts',
  'tests/integration/engine-progress-halt.test.ts',
  'tests/integration/mode/live-approvers-policy.test.ts',
  'tests/integration/release/build-without-git.test.ts',
  'tests/integration/release/cli-bad-build-info.test.ts',
  'tests/integration/release/live-release-alert.test.ts',
  'tests/integration/start-data-dir-in-use.test.ts',
  'tests/integration/start-files-once.test.ts',
  // Isolated files of the kill, mode and ops tests (and one db file) reviewed the same way for the
  // suite's CPU (issue 15): child processes (a bot, `ctb` commands) and servers the file closes; a
  // lease held by its own hook until it ends; an in-process engine stopped and contexts closed by their
  // hooks; no Kraken key used in this process. Each paid a fresh worker and its imports again.
  'tests/integration/db/not-postgres-cli.test.ts',
  'tests/integration/kill/kill-other-dir.test.ts',
  'tests/integration/kill/kill-shell-advice.test.ts',
  'tests/integration/mode/live-gate-holder-record.test.ts',
  'tests/integration/ops/exit-expiry-clock.test.ts',
  'tests/integration/ops/pause-keeps-peak.test.ts',
  // Files written since, reviewed the same way for the suite's CPU (issue 15): `ctb` commands and bots
  // as child processes, servers (fake Slack and Kraken, a closing PostgreSQL stand-in) and in-process
  // harnesses, engines and contexts their own hooks close, database triggers they drop; no kill in this
  // process. trading-pairs-check asks the fake Kraken with the rate limiter off; jobs-cron-logger
  // restores its spies on the console and stops its jobs.
  'tests/integration/alerts/alerts-cli-words.test.ts',
  'tests/integration/alerts/alerts-list-test-alerts.test.ts',
  'tests/integration/alerts/escalation-clock-skew.test.ts',
  'tests/integration/alerts/escalation-policy-replicas.test.ts',
  'tests/integration/alerts/oncall-clock-skew.test.ts',
  'tests/integration/audit/trading-pairs-check.test.ts',
  'tests/integration/cli-fast-script.test.ts',
  'tests/integration/cli/missing-command-shell.test.ts',
  'tests/integration/cli/setting-names-shell.test.ts',
  'tests/integration/db/startup-closed-cli.test.ts',
  'tests/integration/db/test-database-precheck.test.ts',
  'tests/integration/engine-snapshot-write-behind.test.ts',
  'tests/integration/jobs-cron-logger.test.ts',
  'tests/integration/kill/kill-demo-keyless.test.ts',
  'tests/integration/ops/exit-tell-durable.test.ts',
  'tests/integration/slack-token-scopes.test.ts',
  'tests/integration/stats/stats-starting-balance.test.ts',
  // The clock-skew and recovery files of the database's-clock work, and two process files, reviewed
  // the same way for the suite's CPU (issue 15): replicas and engines on ManualClocks of their own
  // (kill-clock-skew's Date.now spy is restored in its finally), simulators closed when their test
  // ends, bots as child processes; no rate limiter level read. Each paid a fresh worker and its imports.
  'tests/integration/alerts/outbox-clock-skew.test.ts',
  'tests/integration/alerts/silence-clock-skew.test.ts',
  'tests/integration/children-stay-local.test.ts',
  'tests/integration/intent-reopened-by-venue.test.ts',
  'tests/integration/kill/kill-clock-skew.test.ts',
  'tests/integration/mode/mode-clock-skew.test.ts',
  'tests/integration/ops/exit-outcome-sweep.test.ts',
  'tests/integration/recovery-clock-skew.test.ts',
  'tests/integration/recovery-resolved-meanwhile.test.ts',
  'tests/integration/recovery-stuck-clock-skew.test.ts',
  'tests/integration/start-sighup-process.test.ts',
  // Written since, reviewed the same way: the idle-poll files restore the PGlite they count statements
  // on (in a finally) and stop their runners and harnesses; not-the-database closes its servers;
  // cli-wasm-compiler's commands and bot are child processes.
  'tests/integration/cli-wasm-compiler.test.ts',
  'tests/integration/db/not-the-database.test.ts',
  'tests/integration/engine-requests-idle-poll.test.ts',
  'tests/integration/escalation-idle-tick.test.ts',
  // Written since, reviewed the same way for the suite's CPU (issue 15): contexts, runtimes, bots and
  // engines in this process closed by their own hooks or finally blocks (the engine's feed state is
  // keyed by its database object, not the process), servers and proxies closed; kraken-no-answer's
  // key runs with the rate limiter off; spies restored after each test. Each paid a fresh worker.
  'tests/integration/alerts/alerts-test-last-try.test.ts',
  'tests/integration/audit/kraken-no-answer.test.ts',
  'tests/integration/cli/command-stderr-format.test.ts',
  'tests/integration/command-log-bound.test.ts',
  'tests/integration/engine-lease/standby-banner.test.ts',
  'tests/integration/health-feed.test.ts',
  // Written since, reviewed the same way: its simulators and contexts closed by its own hook, the
  // Kraken key used with the rate limiter off, no kill, no mock or spy.
  'tests/integration/kill/self-heal-resting-fill.test.ts',
  // Isolated files written since, reviewed the same way for the suite's CPU (issue 15): each paid a
  // fresh worker, vitest's start-up and its imports again (0.3 to 3 CPU-s a file; 39 CPU-s for these
  // in a whole run). No mock, stub or process change; spies restored after each test; `ctb` commands
  // and bots as child processes; servers, proxies, fake Kraken and Slack, contexts, runtimes and
  // engines in this process closed by their own hooks or finally blocks; watchdogs and request
  // runners without a timer; kills in this process against a recording exchange or with the rate
  // limiter off; simulators closed when their test ends (tests/support/simulator.ts). Left isolated:
  // feed-pacing (its feed paces its public calls with the rate limiter on, whose level is per
  // process), audit-e2e-fake-kraken and go-live-tools-cli (the audit reads the directory it runs in:
  // chdir), and the files that mock a module.
  'tests/integration/alerts/email-repeat.test.ts',
  'tests/integration/alerts/escalation-step-crash.test.ts',
  'tests/integration/db/migrate-together-cli.test.ts',
  'tests/integration/db/postgres-closed-write.test.ts',
  'tests/integration/db/watchdog-clocks.test.ts',
  'tests/integration/engine-lease/unarmed-takeover.test.ts',
  'tests/integration/engine-request-claim-gone.test.ts',
  'tests/integration/kill/cancel-again-hung-kraken.test.ts',
  'tests/integration/kill/cancel-again-slack-progress.test.ts',
  'tests/integration/kill/halt-cancel-hung-kraken.test.ts',
  'tests/integration/kill/halt-watcher-overtaken.test.ts',
  'tests/integration/kill/kill-hung-kraken.test.ts',
  'tests/integration/kill/kill-lost-cancel-answer.test.ts',
  'tests/integration/kill/kill-no-bot-database-lost-answer.test.ts',
  'tests/integration/kill/kill-other-dir-dropped-connection.test.ts',
  'tests/integration/kill/kill-saved-follow-up-race.test.ts',
  'tests/integration/kill/kill-shell-database-busy.test.ts',
  'tests/integration/kill/saved-kill-halted-bot.test.ts',
  'tests/integration/kill/saved-kill-target.test.ts',
  'tests/integration/kill/self-heal-live-at-stake.test.ts',
  'tests/integration/kill/self-heal-page-again.test.ts',
  'tests/integration/kill/self-heal-watchdog-clocks.test.ts',
  'tests/integration/kraken/markets-load-recovers.test.ts',
  'tests/integration/metrics/dashboard-trading-panel.test.ts',
  'tests/integration/mode/live-switch-lease-held.test.ts',
  'tests/integration/mode/mode-status-json-stale.test.ts',
  'tests/integration/mode/stale-armed-mode.test.ts',
  'tests/integration/mode/unarmed-restart-processes.test.ts',
  'tests/integration/mode/unarmed-withdrawal.test.ts',
  'tests/integration/mode/withdrawal-lock-wait.test.ts',
  'tests/integration/ops/exit-answer-hold.test.ts',
  'tests/integration/slack-simulator/rehearse-live.test.ts',
  'tests/integration/slack-simulator/web-api.test.ts',
  'tests/integration/start-missed-runs.test.ts',
  // Written since, reviewed the same way: contexts, alert runtimes, the bot, servers and the stall
  // proxy closed by their own hooks or finally blocks; ledger-indexes alters only databases of its own,
  // closed after each test (tests/support/db.ts hands one on only if its schema is the template's).
  'tests/integration/alerts/direct-lane-outage.test.ts',
  'tests/integration/alerts/late-mark-thread.test.ts',
  'tests/integration/db/ledger-indexes.test.ts',
  // Files that mocked a query module (vi.mock) to fail, count or hold one statement, now doing it on
  // a database of their own (tests/support/statement-hooks.ts: the statement failed, counted or held
  // where the code sends it), closed by their hooks; no module replaced, nothing else of the process
  // changed. The kills run keyless against recording exchanges.
  'tests/integration/badge-engine-mode.test.ts',
  'tests/integration/badge-shared-read.test.ts',
  'tests/integration/kill/kill-lease-read-once.test.ts',
  'tests/integration/kill/never-live-fence-unread.test.ts',
  // Files that replaced a module (vi.mock) to watch a call, now handed a seam instead: cli-command-names
  // gives each `ctb` run a command runner of its own (CliIo.commandRunner: no database opened);
  // order-booked-before-accepted gives its context an ear on the order lock (OrderLockDeps.orderLockAsked),
  // restores its spies, and leaves the lock free (every holder ends within its test).
  'tests/integration/cli-command-names.test.ts',
  'tests/integration/order-booked-before-accepted.test.ts',
  // Isolated files written since, reviewed the same way for the suite's CPU (issue 15): bots and `ctb`
  // commands as child processes; stall proxies, fake Slack and SMTP servers, contexts, alert beds and
  // bots in this process closed by their own hooks or finally blocks; startBot registers no process
  // listener; spies restored after each test; nock's network switch put back after the file; saved
  // kills in DATA_DIRs of their own (the replay's per-process memory is keyed by file and kill id).
  'tests/integration/alerts/direct-lane-bot-process.test.ts',
  'tests/integration/alerts/late-store-deadline.test.ts',
  'tests/integration/alerts/start-outage.test.ts',
  'tests/integration/kill/damaged-pending-file.test.ts',
  'tests/integration/kill/kill-saved-cli.test.ts',
  'tests/integration/kill/kill-saved-copy-lock.test.ts',
  'tests/integration/kill/saved-kill-announce.test.ts',
  'tests/integration/secrets-leave-scrubbed.test.ts',
  'tests/integration/slack-history-missing-scope.test.ts',
  'tests/integration/start-database-cut.test.ts',
  'tests/integration/start-database-stall.test.ts',
  'tests/integration/start-part-retry.test.ts',
  'tests/integration/start-wait-engine-gate.test.ts',
  // The live soak: its bot, simulator, Slack stand-in and commands are child processes, its helpers
  // (tests/soak/*.ts) register no hook and write no variable. cli-lazy: its commands are child
  // processes, and the exit listener its preload adds is theirs (tests/support/list-builtins.mjs).
  // The audit files that ran `ctb` in this process from the checkout after a process.chdir, now
  // through withCwd (tests/support/with-cwd.ts), which puts the directory back when the run ends.
  'tests/soak/live-soak.test.ts',
  'tests/integration/cli-lazy.test.ts',
  'tests/integration/audit/audit-e2e-fake-kraken.test.ts',
  'tests/integration/audit/go-live-tools-cli.test.ts',
  // Written since, reviewed the same way for the suite's CPU (issue 15): `ctb start` bots and `ctb`
  // commands as child processes; the fake Slack and Kraken, simulators, stall proxies, response_url
  // servers, contexts, an in-process bot, engines, watchers and runners stopped by their own hooks or
  // finally blocks; the one PGlite client whose query is wrapped put back in a finally; the Kraken key
  // used in this process with the rate limiter off; no kill in this process, no mock, spy or process
  // change. Each paid a fresh worker and its imports again (0.5 to 1 CPU-s a file).
  'tests/integration/alerts/probe-bound.test.ts',
  'tests/integration/engine-housekeeping-statement.test.ts',
  'tests/integration/engine-lease/gate-open-version.test.ts',
  'tests/integration/engine-lease/gate-reason-row.test.ts',
  'tests/integration/kill/halt-watcher-handed-reads.test.ts',
  'tests/integration/kill/kill-slack-while-migrating.test.ts',
  'tests/integration/kill/kill-while-migrating.test.ts',
  'tests/integration/mode/announce-alert-no-slack.test.ts',
  'tests/integration/mode/announce-outcomes.test.ts',
  'tests/integration/mode/announce-overdue.test.ts',
  'tests/integration/mode/announce-retry.test.ts',
  'tests/integration/mode/announce-takeover.test.ts',
  // Files left isolated for reasons that no longer hold, reviewed again for the suite's CPU (issue 15).
  // kill-rate-limited-rounds and kraken-shared-counter: their contexts run with the rate limiter off
  // (tests/support/live-engine.ts), so no counter of this process is read; the counter their kills pace
  // by is the simulator's (a new one each test) and the refusals recorded in their own database.
  // array-types-once: what a postgres.js client reads once is kept in that client's options, and its
  // clients are its own, closed by its hooks. pglite-socket-sessions: its bot and `ctb` commands are
  // child processes killed by its hook, its socket clients ended, the runs in this process (runCli)
  // close their connections; it has no /healthz deadline any more.
  'tests/integration/db/array-types-once.test.ts',
  'tests/integration/db/pglite-socket-sessions.test.ts',
  'tests/integration/kill/kill-rate-limited-rounds.test.ts',
  'tests/integration/kill/kraken-shared-counter.test.ts',
  // Files of the rate limiter's process-wide state, made independent of it: feed-pacing waits for the
  // process's count of public calls (which falls by one a second) to be empty before its simulator
  // starts, as a new `ctb start`'s is; kraken-rate-limit's counter is a key of its own on its own clock,
  // and its check that no promise hook is left on in the process is a file of its own.
  'tests/integration/kraken/kraken-rate-limit.test.ts',
  'tests/integration/simulator/feed-pacing.test.ts',
  // A stop during the start (at its banner too), or twice: the bot in this process started and stopped through startBot as
  // the start-* files above (its parts, jobs and database closed by the stop the test sends), and a
  // `ctb start` child (with its held git), killed by the file's hook.
  'tests/integration/start-stop-during-each-part.test.ts',
  'tests/integration/start-stop-at-banner.test.ts',
  'tests/integration/start-stop-during-engine-process.test.ts',
  'tests/integration/start-stopped-twice.test.ts',
  'tests/integration/start-stopped-twice-process.test.ts',
  // Still isolated: fs-lock-write-release (it mocks node:fs to fail a lock's write and to put another
  // process's step in between two of its calls: the lock modules take no file functions to hand a
  // seam) and urgent-lane-hooks (it checks that no promise hook is on in the whole process, which a
  // file before it in a shared worker could leave on; it imports one small module).
];

/** The files SHARED_WORKER_FILES names, relative to `root` (the repository). */
export function sharedWorkerFiles(root: string): string[] {
  return SHARED_WORKER_FILES.flatMap((pattern) => {
    const dir = /^(.*)\/\*\*\/\*\.test\.ts$/.exec(pattern)?.[1];
    if (dir === undefined) return [pattern];
    return readdirSync(join(root, dir), { recursive: true, encoding: 'utf8' })
      .filter((f) => f.endsWith('.test.ts'))
      .map((f) => `${dir}/${f}`);
  }).sort();
}
