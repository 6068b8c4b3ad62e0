// Owns the running bot: config → logger → database (migrated, served to the CLI when embedded)
// → context → HTTP server → features; and a graceful stop on SIGINT/SIGTERM.
import type { Config } from '../config/env.js';
import { AppError } from '../errors.js';
import { createHttpServer, type HttpServer } from '../http/server.js';
import { killWhileStartingRoute } from '../http/kill-route.js';
import { createLogger, type Logger } from '../logger.js';
import type { Clock } from '../clock.js';
import type { Database } from '../db/client.js';
import { buildAppContext, type BuildContextOptions, type OwnedContext } from './build-context.js';
import type { Feature, StartOptions } from './feature.js';
import { STALLED_STOP_WAIT_MS, StartedParts } from './started-parts.js';
import { features as defaultFeatures } from './features.js';
import { startBanner } from './start-banner.js';
import type { StartFiles } from './start-checks.js';
import { effectiveMode, getBotState } from '../services/bot-state.js';
import { engineMode } from '../domain/engine-mode.js';
import { tradingStateOf } from '../domain/trading-state.js';
import { databaseNow } from '../db/queries/database-clock.js';
import { onlyReplayOrders } from '../db/queries/ledger-intents.js';
import { engineStanding, leaseRowReader } from '../services/engine-lease/runtime.js';
import type { EngineLeaseRow } from '../services/engine-lease/keeper.js';
import { engineProgress, engineTradingWithin, engineWaitingWhy } from '../services/engine-lease/engine-progress.js';
import { ENGINE_TRADING_NOW, holderProgressPhrase } from '../domain/engine-waiting.js';
import { standingOf } from '../domain/reconciliation-standing.js';
import { readEngineHolder } from '../services/engine-lease/holder-view.js';
import { withDeadline } from '../services/kill/deadline.js';
import { StartingKills } from '../services/kill/kill-while-starting.js';
import { latchHalt } from '../services/kill/runtime.js';
import { StartProgress } from './start-progress.js';
import { migrateOrWait, type SlackWhileWaiting } from './migrate-or-wait.js';
import { StartStoppedError, untilDatabaseAnswers } from './wait-for-database.js';

/**
 * How long the banner waits for the engine's first try for its lease, or (role web) for the read of the
 * lease's holder: one query each; a stalled database is said as such. The waits on the engine end at
 * once on a stop signal: the engine's loop ends on it too, and would never answer them.
 */
const BANNER_LEASE_WAIT_MS = 5_000;

export interface RunningBot {
  ctx: OwnedContext;
  port: number;
  /**
   * Stops the bot, bounded: a part's stop that does not end in its wait is left behind (started-parts.ts),
   * and then the job runs and the database's connections are not waited for. Resolves with the parts left behind.
   */
  stop(): Promise<StopOutcome>;
}

/** What a stop left behind: the parts (and a part's start) that had not ended in their wait; empty when all stopped. */
export interface StopOutcome {
  leftBehind: string[];
  /**
   * What this process's engine lease row is when asked: an engine's stop left behind may still release
   * it (or fail to) after the stop returned, so a line that says it reads it as it is written.
   */
  engineLease(): EngineLeaseRow;
}

export type { EngineLeaseRow };

export interface StartBotOptions extends StartOptions {
  config: Config;
  logger?: Logger;
  clock?: Clock;
  database?: Database;
  features?: Feature[];
  port?: number;
  exchanges?: BuildContextOptions['exchanges'];
  liveSwitch?: BuildContextOptions['liveSwitch'];
  /**
   * Aborted when the bot is asked to stop while it starts: a part's start in flight, or a wait for the
   * database (wait-for-database.ts), ends then, with StartStoppedError, after the parts already started
   * are stopped — the part under way too, once its start has ended (started-parts.ts). Parts get it too (StartOptions).
   */
  stop?: AbortSignal;
  /** How long the start banner waits on the engine lease and the engine's first pass (BANNER_LEASE_WAIT_MS by default). */
  bannerWaitMs?: number;
}

/**
 * Binds the HTTP port first: a port already taken (the demo on 3000) is refused before the database,
 * the engine lease or any feature is touched, with the port named and what to set (exit 2). Routes
 * are added as features start; until the last has started, a path with no route yet gets 503
 * "starting" (src/http/server.ts).
 */
async function bindPort(http: HttpServer, port: number, host: string): Promise<number> {
  try {
    return await http.listen(port, host);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE' || code === 'EACCES') {
      throw new AppError('config', 'port_unavailable',
        `port ${port} on ${host} is ${code === 'EADDRINUSE' ? 'already in use (another ctb start, such as the demo, or another server)' : 'not allowed for this user'};`,
        { hint: 'set PORT to a free port (e.g. PORT=3001) and start again.', cause: err });
    }
    throw err;
  }
}

export async function startBot(opts: StartBotOptions): Promise<RunningBot> {
  const features = opts.features ?? defaultFeatures;
  // The files this role's parts read are checked first (unless the caller has: `ctb start`): a bad one
  // is reported in the first second, before the port is taken, the database migrated or any part started.
  const files: StartFiles = opts.files ?? Object.assign({}, ...features.filter((f) => f.roles.includes(opts.role)).map((f) => f.check?.(opts.config) ?? {}));
  const progress = new StartProgress();
  const startOpts: StartOptions = { role: opts.role, feed: opts.feed, files, progress, ...(opts.stop ? { stop: opts.stop } : {}) };
  const logger = opts.logger ?? createLogger({ config: opts.config });
  const http = createHttpServer(logger, { starting: true });
  const port = await bindPort(http, opts.port ?? opts.config.PORT, opts.config.HOST);
  const opening = performance.now();
  let ctx: OwnedContext;
  // Until the kill part serves POST /kill, a kill is taken all the same (cancelling is never refused):
  // while the database is opened and migrated — waited for when it went away or another process holds
  // the migrations — it cancels on Kraken with this process's key and saves the halt in DATA_DIR.
  let built: OwnedContext | undefined;
  const startingKills = new StartingKills({ config: opts.config, logger });
  // What the migrations' wait says of Slack's /kill meanwhile (migrate-or-wait.ts).
  const runsSlack = features.some((f) => f.name === 'slack' && f.roles.includes(opts.role)) && opts.config.slackEnabled;
  let slackWhileWaiting: SlackWhileWaiting = runsSlack && opts.config.SLACK_APP_TOKEN ? 'socket' : 'none';
  if (features.some((f) => f.name === 'kill' && f.roles.includes(opts.role))) {
    http.route('POST', '/kill', killWhileStartingRoute(opts.config, startingKills, () => built));
    // Slack's /kill too, over HTTP, with the running signature check and operator list: Slack itself
    // starts only after the database, and its /kill in the wait got nothing. The Slack part's route
    // replaces this one once it serves. (Socket Mode connects only when the Slack part starts.)
    const { config } = opts;
    if (features.some((f) => f.name === 'slack' && f.roles.includes(opts.role)) && config.slackEnabled && !config.SLACK_APP_TOKEN && config.SLACK_SIGNING_SECRET) {
      const { slackWhileStarting } = await import('../slack/while-starting.js');
      http.route('POST', '/slack/events', slackWhileStarting({ config, logger, kills: startingKills, standing: () => progress.standing(), started: () => built }));
      slackWhileWaiting = 'http';
    }
  }
  try {
    ctx = await buildAppContext({
    config: opts.config,
    logger,
    runMigrations: true,
    // A database that answered and went away during the migrations is waited for, as one that goes away later is.
    migrating: (database, run) => migrateOrWait(database, run, {
      logger, databaseUrl: opts.config.DATABASE_URL, progress, stop: opts.stop, slack: slackWhileWaiting,
      overdueMs: opts.config.START_DB_CHECK_AFTER, probeMs: opts.config.START_DB_CHECK_TIMEOUT,
    }),
    // What Slack's answers during the wait say the start waits on (a wait's end has waitedMs).
    onMigrationWait: ({ text, waitedMs }) => progress.migrationWait(waitedMs === undefined ? text : null),
    serveDatabase: true,
    role: opts.role,
    ...(opts.clock ? { clock: opts.clock } : {}),
    ...(opts.database ? { database: opts.database } : {}),
    ...(opts.exchanges ? { exchanges: opts.exchanges } : {}),
    ...(opts.liveSwitch ? { liveSwitch: opts.liveSwitch } : {}),
    // Alerts the database refuses are retried by the alerts feature's delivery tick, when this role runs it.
    deliveryTick: features.some((f) => f.name === 'alerts' && f.roles.includes(opts.role)),
    // What the features of this role give the context (the kill's incident poster), passed in as it is built.
    incidentPoster: features.find((f) => f.roles.includes(opts.role) && f.provides?.incidentPoster)?.provides?.incidentPoster,
    });
  } catch (err) {
    await http.close();
    throw err;
  }
  built = ctx;
  // A kill taken meanwhile is on disk before the kill part's halt watcher first reads DATA_DIR (it
  // latches and writes it, before the engine starts); one DATA_DIR refused is latched here.
  await startingKills.handOver((reason, killId) => latchHalt(ctx, reason, killId));
  logger.info(
    { event: 'database_ready', database: ctx.database.kind, ms: Math.round(performance.now() - opening) },
    `database ready in ${((performance.now() - opening) / 1000).toFixed(1)} s (${ctx.database.kind}, migrations applied); starting the bot's parts`,
  );
  // The parts' start: the jobs they schedule may miss runs meanwhile, which is the start's doing.
  const startHold = ctx.jobs.holdStart();
  // The database answered (it was migrated): from here on, one that goes away is waited for, while the
  // parts already started serve (/healthz, POST /kill, Slack); the part it cut is started again.
  // A part's start that runs late has the database checked (one read of its clock): a stalled one is an outage too.
  const waitDeps = {
    logger, databaseUrl: opts.config.DATABASE_URL, progress, stop: opts.stop, probe: () => databaseNow(ctx.db),
    overdueMs: opts.config.START_DB_CHECK_AFTER, probeMs: opts.config.START_DB_CHECK_TIMEOUT,
  };
  // The parts started, and the one starting when a stop came: all stopped before the database closes.
  const parts = new StartedParts(logger);
  // `closing`: the start was stopped while the database did not answer (started-parts.ts). Run once: a
  // second stop (SIGINT after SIGTERM) waits for the first, and must not close the database under a
  // part still stopping (the engine releasing its lease).
  // The running bot's stop (`running`) is bounded the same way: a part left behind waits on something that
  // does not answer, most likely the database, and what closes after it is not waited for either.
  let stopping: Promise<StopOutcome> | undefined;
  const stop = (closing?: { jobsWaitMs: number; databaseWaitMs: number }, running = false) => (stopping ??= (async () => {
    // Taken before the parts stop: the engine's stop forgets its lease probe once it has released.
    const engineLease = leaseRowReader(ctx);
    const leftBehind = await parts.stop(closing !== undefined ? 'stalled' : running ? 'running' : 'clean');
    await http.close();
    await ctx.close(closing ?? (leftBehind.length > 0 ? { jobsWaitMs: 0, databaseWaitMs: STALLED_STOP_WAIT_MS } : undefined));
    return { leftBehind, engineLease };
  })());
  // A part's start that throws leaves no job behind (Feature.start's contract, kept here for every part):
  // the jobs it registered are removed, so its retry once the database answers registers them anew.
  const startClean = async (feature: Feature) => {
    const before = new Set(ctx.jobs.names());
    try {
      return await feature.start(ctx, http, startOpts);
    } catch (err) {
      for (const name of ctx.jobs.names()) if (!before.has(name)) await ctx.jobs.unregister(name);
      throw err;
    }
  };
  try {
    for (const feature of features) {
      if (!feature.roles.includes(opts.role)) continue;
      const started = await untilDatabaseAnswers(`the part "${feature.name}"`, () => parts.start(feature.name, () => startClean(feature)), waitDeps);
      parts.started(feature.name, started);
    }
    http.ready();
    // Its first try for the engine lease answered: a standby says it is one, not that it trades.
    const bannerWaitMs = opts.bannerWaitMs ?? BANNER_LEASE_WAIT_MS;
    const engine = await engineStanding(ctx, bannerWaitMs, opts.stop);
    // Holding the lease, its engine gets as long again to run its first pass; if it has not (a live
    // approval's withdrawal the database will not record, the start reconciliation, a slow warm-up),
    // the banner says what it waits on, and a line follows once it trades.
    const engineSteps = engine?.kind === 'engine' ? engineProgress(ctx) : undefined;
    const tradingNow = engineSteps ? await engineTradingWithin(ctx, bannerWaitMs, opts.stop) : false;
    const state = await untilDatabaseAnswers('the start banner', () => getBotState(ctx.db), waitDeps);
    const tradingState = tradingStateOf(state);
    const engineWaiting = engineSteps ? engineWaitingWhy(engineSteps, state, effectiveMode(state, opts.config.IS_LIVE)) : undefined;
    if (engineSteps && !tradingNow) {
      void engineSteps.trading.then(() => logger.info({ event: 'engine_trading' }, `${ENGINE_TRADING_NOW}: its first pass ran (the start banner said it was waiting; \`ctb mode status\` shows the mode and trading state)`));
    }
    // A process without an engine (role web) names the one that trades: one read of the lease row, bounded
    // as the lease wait is, so a stalled database delays the banner by that much and says it was not read.
    const engineHolder = engine === undefined && opts.role === 'web'
      ? await withDeadline(readEngineHolder(ctx), bannerWaitMs, 'the database (engine lease, for the start banner)').catch((err: unknown) => {
        logger.warn({ err }, 'could not read the engine lease for the start banner');
        return null;
      })
      : undefined;
    // Live or paper is the arming of the process that trades: a web process's own places no order.
    const armed = engineHolder === undefined ? opts.config.IS_LIVE : engineHolder?.state === 'running' && engineHolder.armed;
    const banner = startBanner({
      config: opts.config, port, role: opts.role, feed: opts.feed, database: ctx.database.kind, cwd: process.cwd(), engine, engineHolder, engineWaiting,
      engineHolderProgress: engineHolder ? holderProgressPhrase({
        engine: engineHolder, stateVersion: state.version, mode: engineMode(state, engineHolder), halted: state.halted, haltedReason: state.haltedReason, reconciliation: standingOf(state),
      }) : undefined,
      // The lease's holder's mode when read (unknown: stale, armed, the database live), else this process's.
      mode: engineHolder ? engineMode(state, engineHolder) : effectiveMode(state, armed), tradingState, haltedReason: state.haltedReason,
      ...(tradingState === 'halted' ? { onlyReplayBooked: await untilDatabaseAnswers('the start banner', () => onlyReplayOrders(ctx.db), waitDeps) } : {}),
    });
    logger.info(banner.fields, banner.message);
    progress.over();
    return { ctx, port, stop: () => stop(undefined, true) };
  } catch (err) {
    // Stopped while the database did not answer: the job runs under way wait on it, and are not waited
    // for; its connections still open (a stalled query's) are given as long as a part's stop, not 5 s.
    const { leftBehind, engineLease } = await stop(err instanceof StartStoppedError && err.outage ? { jobsWaitMs: 0, databaseWaitMs: STALLED_STOP_WAIT_MS } : undefined);
    if (err instanceof StartStoppedError) Object.assign(err, { leftBehind, engineLease });
    throw err;
  } finally {
    startHold();
  }
}
