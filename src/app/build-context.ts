// Builds the AppContext: the one place where the database is opened, the exchanges are wired and
// the alert sink is chosen. Tests call it with their own database, clock and fakes.
import { hostname } from 'node:os';
import { attachLogAlerts } from '../alerts/log-source.js';
import { createOutboxAlertSink } from '../alerts/sink.js';
import { badgeKnownNow } from '../services/badge-state.js';
import type { AlertSink } from '../alerts/types.js';
import { systemClock, type Clock } from '../clock.js';
import type { Config } from '../config/env.js';
import type { Database } from '../db/client.js';
import { openConfiguredDatabase, type OpenConfiguredOptions } from './open-database.js';
import type { RateLimitWait } from '../exchange/kraken/call-retry.js';
import { krakenKeyId } from '../exchange/kraken/key-id.js';
import { createPaperExchange } from '../exchange/paper/create.js';
import { ExchangeProvider, type ExchangeProviderDeps } from '../exchange/provider.js';
import { JobRegistry } from '../jobs/registry.js';
import { createLogger, type Logger } from '../logger.js';
import { PriceBoard } from '../market/price-board.js';
import { createMetricsRegistry } from '../metrics/registry.js';
import { carriedKinds, type Notifier } from '../notifications/notification.js';
import { slackCarriage } from '../slack/carriage.js';
import type { AppContext } from './context.js';
import { defaultLiveSwitchPorts } from './live-switch-ports.js';
import type { LiveSwitchPorts } from '../services/mode/ports.js';
import type { UserDirectory } from '../services/oncall/user-directory.js';
import type { SlackTokenScopes } from '../domain/slack-scopes.js';
import { defaultIncidentPorts, type IncidentPorts } from '../services/kill/incident-ports.js';
import { HaltLatch, realKillTime, type IncidentPoster, type KillPorts, type KillTime } from '../services/kill/runtime.js';
import { noSharedCounter, sharedKrakenCounter } from '../services/kill/shared-counter.js';

export interface BuildContextOptions {
  config: Config;
  clock?: Clock;
  logger?: Logger;
  /** An open database (tests); otherwise opened from the config. */
  database?: Database;
  /** Serve the embedded database to other processes (the running bot does). */
  serveDatabase?: boolean;
  /** The `ctb start` role of the process serving it (named to a second `ctb start` it refuses). */
  role?: string;
  /** Migrate the database it opens (ignored with `database`: whoever opened that one migrated it). */
  runMigrations?: boolean;
  /** How the migrations are run (OpenConfiguredOptions.migrating): the bot's start waits for a database that goes away during them. */
  migrating?: OpenConfiguredOptions['migrating'];
  /** Told of a wait for the migration lock, besides the log (the start's progress says it). */
  onMigrationWait?: OpenConfiguredOptions['onMigrationWait'];
  /** The process runs one command and exits (`ctb kill`, `ctb self-heal`; OpenConfiguredOptions.oneShot). */
  oneShot?: boolean;
  /** The process runs the alerts feature's delivery tick (the running bot): OutboxSinkDeps.deliveryTick. */
  deliveryTick?: boolean;
  alerts?: (ctx: Omit<AppContext, 'alerts'>) => AlertSink;
  exchanges?: Partial<ExchangeProviderDeps>;
  /** Replace parts of the live switch's ports (tests: a scripted audit gate, a failing snapshot). */
  liveSwitch?: Partial<LiveSwitchPorts>;
  /** Replace the chat notifier (default: Slack's when Slack is configured). */
  notifier?: Notifier | null;
  /** Replace the Slack user check of the on-call commands (default: users.info when Slack is configured). */
  people?: UserDirectory | null;
  /** Replace the token scope check of the go-live audit (default: auth.test when Slack is configured). */
  slackScopes?: SlackTokenScopes | null;
  /** Replace the incident's capabilities (tests: a flatten that fails). */
  incident?: Partial<IncidentPorts>;
  /** Posts a new incident's thread (the running bot's kill feature gives it; a shell has none). */
  incidentPoster?: ((ctx: AppContext) => IncidentPoster | undefined) | undefined;
  /**
   * The operator's shell: a Kraken read refused for the key's rate limit waits and is asked again,
   * and this is told before each wait (the bot's own calls are paced instead, and never wait here).
   */
  onKrakenRateLimitWait?: (wait: RateLimitWait) => void;
  /** The time a kill's confirmation rounds run on (tests: a manual clock that their pauses move). */
  killTime?: KillTime;
}

export interface OwnedContext extends AppContext {
  /**
   * `jobsWaitMs`: how long the job runs under way are waited for (default 10 s; 0 when the database they
   * wait on does not answer). `databaseWaitMs`: how long the database's connections still open are given
   * before they are destroyed (default 5 s; short when it does not answer).
   */
  close(opts?: { jobsWaitMs?: number; databaseWaitMs?: number }): Promise<void>;
}

/**
 * The Slack notifier, imported with the Web API client on the first notification: every command
 * builds a context, few tell anyone anything (the bot's alert worker, a kill, a live request,
 * `ctb alerts test`). What it carries is known without loading it.
 */
function lazySlackNotifier(config: Config, logger: Logger): Notifier {
  let real: Promise<Notifier> | undefined;
  const load = () => (real ??= import('../slack/notifier.js').then((m) => m.slackNotifier({ config, logger })));
  return { carries: carriedKinds(slackCarriage(config)), notify: async (db, notification) => (await load()).notify(db, notification) };
}

/** users.info, loaded with the Web API client on the first on-call change that names someone. */
function lazyUserDirectory(config: Config): UserDirectory {
  let real: Promise<UserDirectory> | undefined;
  const load = () => (real ??= import('../slack/user-directory.js').then((m) => m.slackUserDirectory(config)));
  return { lookup: async (userId) => (await load()).lookup(userId) };
}

/** auth.test's x-oauth-scopes, loaded with the Web API client when the audit first asks. */
function lazyTokenScopes(config: Config): SlackTokenScopes {
  let real: Promise<SlackTokenScopes> | undefined;
  const load = () => (real ??= import('../slack/token-scopes.js').then((m) => m.slackTokenScopes(config)));
  return { granted: async () => (await load()).granted() };
}

export async function buildAppContext(opts: BuildContextOptions): Promise<OwnedContext> {
  const { config } = opts;
  const clock = opts.clock ?? systemClock;
  const logger = opts.logger ?? createLogger({ config });
  const ownsDatabase = opts.database === undefined;
  // The Kraken adapter's code (its client, response schemas, WebSocket executions) is read only in a
  // process with a Kraken key: without one, exchanges.kraken() refuses before it would build one.
  // Started here so it loads while the database connects.
  const krakenModule = opts.exchanges?.kraken || !(config.KRAKEN_API_KEY && config.KRAKEN_API_SECRET) ? undefined : import('../exchange/kraken/create.js');
  krakenModule?.catch(() => undefined); // awaited below; a failure surfaces there, not as an unhandled rejection meanwhile
  const database =
    opts.database ?? (await openConfiguredDatabase(config, {
      migrate: opts.runMigrations ?? false, serve: opts.serveDatabase, role: opts.role, oneShot: opts.oneShot, migrating: opts.migrating,
      onMigrationWait: (wait) => {
        logger.info({ event: 'migration_wait', ...(wait.waitedMs === undefined ? {} : { waitedMs: wait.waitedMs }) }, wait.text);
        opts.onMigrationWait?.(wait);
      },
    }));
  let createKraken: typeof import('../exchange/kraken/create.js').createKrakenExchange | undefined;
  try {
    createKraken = (await krakenModule)?.createKrakenExchange;
  } catch (err) {
    if (ownsDatabase) await database.close();
    throw err;
  }
  // Kraken's refusals for the key's rate limit, recorded for every process using the key (and theirs read).
  const keyId = krakenKeyId(config);
  const counter = keyId ? sharedKrakenCounter({ db: database.db, logger }, { keyId, process: `${hostname()}:${process.pid}:${opts.role ?? 'ctb'}` }) : noSharedCounter;
  const krakenFactory = (o: { armed: boolean }) => {
    if (!createKraken) throw new Error('the Kraken adapter was asked for in a process without a Kraken key'); // ExchangeProvider.kraken() refuses first
    return createKraken(config, {
      logger, armed: o.armed, clock, onRateLimited: (endpoint, err) => counter.refused(endpoint, err),
      ...(opts.onKrakenRateLimitWait ? { onRateLimitedRead: opts.onKrakenRateLimitWait } : {}),
    });
  };
  const jobs = new JobRegistry(logger);
  const metrics = createMetricsRegistry();
  const prices = new PriceBoard();
  const base = { config, database, db: database.db, clock, logger, jobs, metrics, prices };
  const exchanges = new ExchangeProvider(config, {
    paper: opts.exchanges?.paper ?? (() => createPaperExchange({ config, db: database.db, clock, logger, prices })),
    kraken: opts.exchanges?.kraken ?? krakenFactory,
  });
  // One notifier per process: the alert worker, the kill's incident thread, the live switch and the
  // summaries all deliver through it.
  const notifier = opts.notifier !== undefined ? opts.notifier : config.slackEnabled ? lazySlackNotifier(config, logger) : null;
  // The kill's ports: the latch now; the incident poster once the context exists (below).
  const kill: { latch: HaltLatch; incidentPoster: IncidentPoster | null; time: KillTime; counter: typeof counter } = {
    latch: new HaltLatch({ jobs, logger }), incidentPoster: null, time: opts.killTime ?? realKillTime, counter,
  };
  const people = opts.people !== undefined ? opts.people : config.slackEnabled ? lazyUserDirectory(config) : null;
  const slackScopes = opts.slackScopes !== undefined ? opts.slackScopes : config.slackEnabled ? lazyTokenScopes(config) : null;
  const withExchanges = {
    ...base, exchanges, notifier, people, slackScopes, kill: kill satisfies KillPorts, liveSwitch: defaultLiveSwitchPorts(config, notifier, database.db, opts.liveSwitch), incident: defaultIncidentPorts(opts.incident),
  };
  // The default sink stores every alert in the outbox first; the alerts feature delivers it.
  const alerts = opts.alerts?.(withExchanges) ?? createOutboxAlertSink({
    db: database.db, clock, logger, config, metrics, deliveryTick: opts.deliveryTick ?? false,
    // While the database is away: a critical alert goes to Slack directly, with the state this process knows.
    direct: { notifier, process: `${hostname()}:${process.pid}:${opts.role ?? 'ctb'}` },
    stateNow: () => badgeKnownNow(database.db, kill.latch.latched, config.IS_LIVE),
  });
  // Error-level log lines become alerts (the alert pipeline's own lines excepted).
  const detachLogAlerts = attachLogAlerts(logger, alerts);
  const ctx: OwnedContext = {
    ...withExchanges,
    alerts,
    async close(closing) {
      detachLogAlerts();
      await jobs.stopAll(closing?.jobsWaitMs);
      if (ownsDatabase) await database.close(closing?.databaseWaitMs === undefined ? undefined : { overdueMs: closing.databaseWaitMs });
    },
  };
  // The poster needs the context it posts with: made once here, before anyone holds the context.
  kill.incidentPoster = opts.incidentPoster?.(ctx) ?? null;
  return ctx;
}
