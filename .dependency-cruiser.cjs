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
// src/domain (pure values and their words), src/money.ts, src/config, src/logger,
// src/errors, src/clock are not behind it: every room uses them. src/simulator is not either: it is
// not part of the bot (see SIMULATOR below).
const BEHIND_THE_DOOR = '^src/(services|alerts|engine|jobs|market|exchange|db|email)/';

/** Transport → service value imports that skip commands/ today, and why they do not go through runCommand. [from, to, why] */
const TRANSPORT_EXCEPTIONS = [
  // Reads that are no person's command: no role to check, and a command_log row per probe, per
  // message or per opened tab would bury the operators' trail (App Home's test asserts none).
  ['src/http/health.ts', 'src/services/health/read-health.ts', "/healthz: the load balancer's probe, every few seconds"],
  ['src/slack/reply.ts', 'src/services/badge-state.ts', 'the paper/LIVE badge every message carries, read once per request'],
  ['src/slack/listeners/app-home.ts', 'src/services/dashboard/read-dashboard.ts', 'App Home: opening a tab is not a command'],
  // Work that must run before (or without) the database a command context needs.
  ['src/cli/commands/kill.ts', 'src/services/kill/early-cancel.ts', "ctb kill: Kraken's CancelAll leaves before the database is opened, and cancels alone when the halt cannot be recorded"],
  ['src/cli/commands/kill.ts', 'src/services/kill/cancel-on-kraken-alone.ts', "ctb kill with no database to record the halt in or hand the cancel to: the kill's rounds on Kraken alone, before any context exists"],
  ['src/cli/commands/version.ts', 'src/services/release/version.ts', 'ctb version reads the checkout, never the database (a deploy prints it before migrating)'],
  ['src/cli/with-context.ts', 'src/db/connect-errors.ts', 'names why the context could not be built (refused, missing database, bad login)'],
  // The Slack delivery guard's own table (Slack retries and double clicks): transport state, not a service.
  ['src/slack/deliveries.ts', 'src/db/queries/slack-deliveries.ts', 'the delivery guard claims a Slack delivery key and prunes old ones'],
];

// The Kraken simulator is a separate product: a stand-in for Kraken that the bot reaches over HTTP
// exactly as it reaches Kraken. `ctb simulate-kraken` is its launcher, not a transport into the
// bot: it starts the simulator and reaches none of the bot's services, only the replay data the
// simulator plays. So the bot never imports the simulator, the simulator imports none of the bot's
// rooms (type-only names such as the Exchange port's shapes excepted), and the launcher is held to
// exactly that instead of to the command door. The Slack stand-in (src/slack-simulator/, launched by
// `ctb simulate-slack`) is held to the same: the bot reaches it over HTTP as it reaches Slack.
const SIMULATOR = '^src/(simulator|slack-simulator)/';
const SIMULATOR_LAUNCHER = 'src/cli/commands/simulate-kraken.ts';
const SLACK_SIMULATOR_LAUNCHER = 'src/cli/commands/simulate-slack.ts';
const SIMULATOR_DATA = ['src/market/replay-file.ts', 'src/market/create-feed.ts'];

/** Imports from behind the door up to commands/, a transport or src/app (the AppContext type included). [from, to, why] */
const UPWARD_EXCEPTIONS = [];

/** Imports of @slack/* (or the Slack client) outside src/slack. [from, to, why] — none left. */
const SLACK_OUTSIDE_SLACK_EXCEPTIONS = [];

/** What src/alerts takes from Slack. [from, to, why] — none: alerts emit notifications (alerts/notifier.ts), src/slack renders them. */
const ALERTS_TO_SLACK_EXCEPTIONS = [];

/** Cycles through type imports: the modules of each known cycle (a cycle entirely inside one group passes). */
const KNOWN_TYPE_CYCLES = [
  // Every CLI command module names program.ts's CliRegistration type; program.ts lists the modules.
  ['src/cli/program.ts', 'src/cli/commands/[^/]+\\.ts'],
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
    ).map((r) => (r.from.pathNot ? { ...r, from: { ...r.from, pathNot: [...r.from.pathNot, exact(SIMULATOR_LAUNCHER)] } } : r)),
    {
      name: 'transports-apart',
      comment: 'Slack, the CLI and HTTP never import one another: what two of them share (how an amount reads, say) lives in a room both may use, such as src/domain.',
      severity: 'error',
      from: { path: TRANSPORTS },
      to: { path: TRANSPORTS, pathNot: '^src/$1/' },
    },
    {
      name: 'simulator-launcher-reaches-only-the-simulator',
      comment: '`ctb simulate-kraken` starts the Kraken simulator with its replay data, `ctb simulate-slack` the Slack stand-in; they reach none of the bot\'s services.',
      severity: 'error',
      from: { path: [exact(SIMULATOR_LAUNCHER), exact(SLACK_SIMULATOR_LAUNCHER)] },
      to: { path: BEHIND_THE_DOOR, pathNot: SIMULATOR_DATA.map(exact), ...VALUE },
    },
    {
      name: 'bot-without-simulator',
      comment: 'The bot reaches the simulator over HTTP as it reaches Kraken, never by import.',
      severity: 'error',
      from: { path: '^(src|commands|bin)/', pathNot: [SIMULATOR, exact(SIMULATOR_LAUNCHER), exact(SLACK_SIMULATOR_LAUNCHER)] },
      to: { path: SIMULATOR },
    },
    {
      name: 'simulator-without-the-bot',
      comment: 'The simulators are stand-ins for Kraken and Slack: they import none of the bot\'s rooms (type-only shapes excepted).',
      severity: 'error',
      from: { path: SIMULATOR },
      to: { path: ['^commands/', '^src/(services|alerts|engine|jobs|market|exchange|db|email|app|slack|cli|http)/'], ...VALUE },
    },
    {
      name: 'domain-is-pure',
      comment: 'src/domain holds pure values and their words: no I/O, no context; it imports only itself, money and the spelling helper (type-only shapes excepted).',
      severity: 'error',
      from: { path: '^src/domain/' },
      to: { path: '^(src|commands)/', pathNot: '^src/(domain/|money\\.ts$|suggest-similar\\.ts$)', ...VALUE },
    },
    {
      name: 'domain-without-io',
      comment: 'src/domain does no I/O: no Node built-in modules.',
      severity: 'error',
      from: { path: '^src/domain/' },
      to: { dependencyTypes: ['core'] },
    },
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
    ...withExceptions(
      'services-not-up',
      'Services, alerts, the engine, jobs, metrics, notifications and the ports never import commands/, a transport or src/app (the AppContext type included): each declares the few members it needs as its own Deps type, and only src/app and the transports know the whole context.',
      '^src/(services|alerts|engine|jobs|market|exchange|db|email|metrics|notifications|domain)/',
      { path: ['^commands/', TRANSPORTS, '^src/app/'] },
      UPWARD_EXCEPTIONS,
    ),
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
  value: { TRANSPORT_EXCEPTIONS, UPWARD_EXCEPTIONS, ALERTS_TO_SLACK_EXCEPTIONS, SLACK_OUTSIDE_SLACK_EXCEPTIONS, KNOWN_TYPE_CYCLES, SIMULATOR_LAUNCHER, SIMULATOR_DATA },
});
