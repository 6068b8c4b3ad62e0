// The import boundaries of issue 17, checked in `npm test` (tests/unit/architecture.test.ts runs
// dependency-cruiser with this file; `npm run lint:boundaries` prints the same report).
//
//   transports (src/slack, src/cli, src/http) → commands/ → services → ports (src/db, src/exchange)
//
// What is not yet so is listed below, one edge per line with its reason: the test fails when a
// listed edge is gone (delete its line), and any edge not listed fails the check — the list can
// only get shorter. Type-only imports do not count as a door (a view may name the shape of a
// result it renders); they do count for cycles.
'use strict';

const TRANSPORTS = '^src/(slack|cli|http)/';
// Everything behind the command door: domain services, their queues and jobs, and the ports.
const BEHIND_THE_DOOR = '^src/(services|alerts|engine|jobs|market|exchange|simulator|db|email)/';

/** Transport → service value imports that skip commands/ today. [from, to, why] */
const TRANSPORT_EXCEPTIONS = [
  // The badge on every Slack reply reads the mode, the halt latch and the trading state itself.
  ['src/slack/reply.ts', 'src/services/bot-state.ts', 'badge: reads the effective mode for every reply'],
  ['src/slack/reply.ts', 'src/services/kill/deadline.ts', 'badge: bounds the state read with withDeadline'],
  ['src/slack/reply.ts', 'src/services/trading-state.ts', 'badge: names the trading state'],
  ['src/slack/views/trading-state.ts', 'src/services/trading-state.ts', 'view: the meaning text of each trading state lives with the state'],
  // Pure describe/format helpers owned by services and rendered by both transports.
  ['src/cli/commands/check-logs.ts', 'src/services/logcheck/scan-logs.ts', 'pure: describeFinding'],
  ['src/cli/commands/exit.ts', 'src/services/exits/request-exit.ts', 'pure: describeExit'],
  ['src/slack/views/exit.ts', 'src/services/exits/request-exit.ts', 'pure: describeExit'],
  ['src/cli/render/reconcile.ts', 'src/services/reconcile/match.ts', 'pure: canonicalDecimal'],
  ['src/cli/render/reconcile.ts', 'src/services/reconcile/start/state.ts', 'pure: describeStanding'],
  ['src/cli/commands/mode.ts', 'src/services/reconcile/start/state.ts', 'pure: describeStanding'],
  ['src/cli/commands/mode.ts', 'src/services/engine-lease/holder-view.ts', 'pure: describeHolder'],
  ['src/cli/commands/mode.ts', 'src/services/trading-state.ts', 'pure: tradingStateText'],
  ['src/cli/commands/incident.ts', 'src/services/kill/checklist.ts', 'constant: the checklist keys for argument parsing'],
  ['src/cli/render/kill.ts', 'src/services/kill/checklist.ts', 'pure: awaitingFills'],
  ['src/slack/views/kill.ts', 'src/services/kill/checklist.ts', 'pure: awaitingFills, checklistSpec'],
  ['src/cli/render/trades.ts', 'src/services/trades/list-trades.ts', 'pure: formatAge'],
  ['src/slack/views/trades.ts', 'src/services/trades/list-trades.ts', 'pure: formatAge'],
  ['src/cli/commands/runbook.ts', 'src/services/runbook/index.ts', 'pure: renders a runbook with placeholder data offline'],
  ['src/cli/commands/runbook.ts', 'src/services/release/version.ts', 'constant: PROJECT_ROOT'],
  ['src/slack/views/runbook.ts', 'src/services/runbook/index.ts', 'pure: renderRunbook'],
  ['src/cli/commands/version.ts', 'src/services/release/version.ts', 'reads the release file without a context'],
  ['src/slack/listeners/stats-route.ts', 'src/services/stats/periods.ts', 'constant: the period names for argument parsing'],
  // Work a command should own and does not yet.
  ['src/slack/listeners/stats-route.ts', 'src/services/stats/equity-chart.ts', 'renders the chart PNG after the stats command'],
  ['src/cli/commands/stats.ts', 'src/services/stats/equity-chart.ts', 'renders the chart PNG after the stats command'],
  ['src/slack/listeners/app-home.ts', 'src/services/dashboard/read-dashboard.ts', 'App Home reads the dashboard without a command'],
  ['src/slack/listeners/exit-routes.ts', 'src/services/exits/request-exit.ts', 'waits for the engine to fill an exit after the exit command'],
  ['src/slack/listeners/kill-routes.ts', 'src/services/kill/incident.ts', 'reads the current incident to render its checklist'],
  // The kill from a shell must work with the database down: it cancels at Kraken before any context.
  ['src/cli/commands/kill.ts', 'src/exchange/kraken/create.ts', 'kill: early CancelAll before the context is built'],
  ['src/cli/commands/kill.ts', 'src/services/kill/early-cancel.ts', 'kill: early CancelAll before the context is built'],
  ['src/cli/commands/kill.ts', 'src/services/kill/kill.ts', 'kill: the no-key notice text'],
  ['src/cli/commands/kill.ts', 'src/exchange/urgency.ts', 'kill: the early CancelAll runs in the urgent lane'],
  // Start-up and health work before (or without) a command context.
  ['src/cli/commands/start.ts', 'src/db/client.ts', 'start: refuses a second bot on one database before wiring'],
  ['src/cli/commands/start.ts', 'src/db/pglite-lock.ts', 'start: reads the embedded database lock before wiring'],
  ['src/cli/with-context.ts', 'src/db/connect-errors.ts', 'turns a failed connection into a clear message'],
  ['src/http/health.ts', 'src/db/connect-errors.ts', 'health: names a failed database connection'],
  ['src/http/health.ts', 'src/services/bot-state.ts', 'health: reads the mode'],
  ['src/http/health.ts', 'src/services/kill/deadline.ts', 'health: bounds each probe'],
  ['src/http/health.ts', 'src/services/kill/runtime.ts', 'health: reports the in-process halt latch'],
  ['src/http/health.ts', 'src/services/trading-state.ts', 'health: names the trading state'],
  ['src/http/health.ts', 'src/services/engine-lease/holder-view.ts', 'health: reports the engine lease holder'],
  ['src/http/health.ts', 'src/services/engine-lease/runtime.ts', 'health: whether this process holds the lease'],
  ['src/http/health.ts', 'src/services/reconcile/start/monitor.ts', 'health: the start-up reconciliation gate'],
  ['src/http/health.ts', 'src/services/reconcile/start/state.ts', 'health: the gate standing'],
  // The Slack delivery guard's own table (Slack retries and double clicks): transport state, not a service.
  ['src/slack/deliveries.ts', 'src/db/queries/slack-deliveries.ts', 'the delivery guard claims a Slack delivery key'],
  ['src/slack/feature.ts', 'src/db/queries/slack-deliveries.ts', 'prunes old delivery keys'],
  // The Kraken simulator is a development tool run from the CLI, not part of the bot.
  ['src/cli/commands/simulate-kraken.ts', 'src/market/replay-file.ts', 'simulator tool'],
  ['src/cli/commands/simulate-kraken.ts', 'src/market/create-feed.ts', 'simulator tool'],
  ['src/cli/commands/simulate-kraken.ts', 'src/simulator/cli-options.ts', 'simulator tool'],
  ['src/cli/commands/simulate-kraken.ts', 'src/simulator/control-api.ts', 'simulator tool'],
  ['src/cli/commands/simulate-kraken.ts', 'src/simulator/simulator.ts', 'simulator tool'],
  ['src/cli/commands/simulate-kraken.ts', 'src/simulator/state-file.ts', 'simulator tool'],
];

/** Imports of @slack/* (or the Slack client) outside src/slack. [from, to, why] — none left. */
const SLACK_OUTSIDE_SLACK_EXCEPTIONS = [];

/** What src/alerts takes from Slack. [from, to, why] — none: alerts emit notifications (alerts/notifier.ts), src/slack renders them. */
const ALERTS_TO_SLACK_EXCEPTIONS = [];

/** Cycles through type imports: the modules of each known cycle (a cycle entirely inside one group passes). */
const KNOWN_TYPE_CYCLES = [
  // Every CLI command module names program.ts's CliRegistration type; program.ts lists the modules.
  ['src/cli/program.ts', 'src/cli/commands/[^/]+\\.ts'],
  // AppContext names the ports' types; the ports' implementations take AppContext (issue 17: Deps per service).
  ['src/app/context.ts', 'src/services/mode/ports.ts', 'src/services/kill/incident-ports.ts', 'src/services/reconcile/reconcile.ts'],
  // The simulator's parts name the KrakenSimulator class type that owns them.
  ['src/simulator/simulator.ts', 'src/simulator/state-file.ts', 'src/simulator/server.ts', 'src/simulator/control-api.ts'],
];

const exact = (p) => `^${p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`;
const moduleTo = (p) => (p.startsWith('src/') ? exact(p) : `(^|/)node_modules/${p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/`);

/** One rule for the files without exceptions, one per file with exceptions (allowing exactly its listed edges). */
function withExceptions(name, comment, from, to, exceptions) {
  const files = [...new Set(exceptions.map(([f]) => f))];
  return [
    { name, comment, severity: 'error', from: { path: from, pathNot: files.map(exact) }, to: { ...to } },
    ...files.map((f) => ({
      name,
      comment: `${comment} (known exceptions of ${f} listed in .dependency-cruiser.cjs)`,
      severity: 'error',
      from: { path: exact(f) },
      to: { ...to, pathNot: exceptions.filter(([x]) => x === f).map(([, t]) => moduleTo(t)) },
    })),
  ];
}

const VALUE = { dependencyTypesNot: ['type-only'] };

module.exports = {
  forbidden: [
    ...withExceptions(
      'transports-through-commands',
      'Slack, the CLI and HTTP reach services only through commands/ (runCommand checks the role and writes the trail).',
      TRANSPORTS,
      { path: BEHIND_THE_DOOR, ...VALUE },
      TRANSPORT_EXCEPTIONS,
    ),
    ...withExceptions(
      'alerts-without-slack',
      'Alerts emit notifications; src/slack alone renders and sends them (one WebClient per process).',
      '^src/alerts/',
      { path: ['(^|/)node_modules/@slack/', '^src/slack/'] },
      ALERTS_TO_SLACK_EXCEPTIONS,
    ),
    ...withExceptions(
      'slack-only-in-src-slack',
      'Only src/slack imports @slack/* and builds a Slack client.',
      '^(src|commands|bin)/',
      { path: ['(^|/)node_modules/@slack/', '^src/slack/web-client\\.ts$'] },
      SLACK_OUTSIDE_SLACK_EXCEPTIONS,
    ).map((r) => (r.from.pathNot ? { ...r, from: { ...r.from, pathNot: [...r.from.pathNot, '^src/slack/'] } } : r)),
    {
      name: 'ccxt-only-in-src-exchange',
      comment: 'Only src/exchange talks to ccxt (one error map, one rate limiter).',
      severity: 'error',
      from: { path: '^(src|commands|bin)/', pathNot: '^src/exchange/' },
      to: { path: '(^|/)node_modules/ccxt/' },
    },
    {
      name: 'commands-not-transports',
      comment: 'commands/ knows nothing of Slack, the terminal or HTTP.',
      severity: 'error',
      from: { path: '^commands/' },
      to: { path: TRANSPORTS },
    },
    {
      name: 'no-value-cycles',
      comment: 'No cycle among value imports.',
      severity: 'error',
      from: {},
      to: { circular: true, viaOnly: VALUE },
    },
    {
      name: 'no-cycles',
      comment: 'No cycle through type imports either, except inside the known groups listed in .dependency-cruiser.cjs.',
      severity: 'error',
      from: {},
      // One regular expression: dependency-cruiser does not join a via.pathNot array itself.
      to: { circular: true, via: { pathNot: KNOWN_TYPE_CYCLES.map((g) => `^(${g.join('|')})$`).join('|') } },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default', 'types'] },
  },
};

// The lists themselves, for tests/unit/architecture.test.ts (not enumerable: dependency-cruiser's
// schema admits only its own keys).
Object.defineProperty(module.exports, 'exceptions', {
  enumerable: false,
  value: { TRANSPORT_EXCEPTIONS, ALERTS_TO_SLACK_EXCEPTIONS, SLACK_OUTSIDE_SLACK_EXCEPTIONS, KNOWN_TYPE_CYCLES },
});
