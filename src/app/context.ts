// Owns the one context object every command, listener and job receives: config, database,
// clock, logger, exchanges, alerts and jobs, built once at start (or by a test with overrides).
import type { AlertSink } from '../alerts/types.js';
import type { Clock } from '../clock.js';
import type { Config } from '../config/env.js';
import type { Database, Db } from '../db/client.js';
import type { ExchangeProvider } from '../exchange/provider.js';
import type { JobRegistry } from '../jobs/registry.js';
import type { Logger } from '../logger.js';
import type { Notifier } from '../notifications/notification.js';
import type { UserDirectory } from '../services/oncall/user-directory.js';
import type { SlackTokenScopes } from '../domain/slack-scopes.js';
import type { PriceBoard } from '../market/price-board.js';
import type { IncidentPorts } from '../services/kill/incident-ports.js';
import type { KillPorts } from '../services/kill/runtime.js';
import type { LiveSwitchPorts } from '../services/mode/ports.js';
import type { Registry } from 'prom-client';

export interface AppContext {
  config: Config;
  database: Database;
  db: Db;
  clock: Clock;
  logger: Logger;
  exchanges: ExchangeProvider;
  alerts: AlertSink;
  /**
   * The process's chat notifier (src/slack's, one Web API client): what services and the alert
   * pipeline tell people, typed; null without Slack. Its `carries` says which kinds it delivers here.
   */
  notifier: Notifier | null;
  /** Asks Slack whether a member id is a person (users.info) before the on-call rows name them; null without Slack. */
  people?: UserDirectory | null;
  /** Which scopes the bot token holds (auth.test), for the go-live audit; null without Slack. */
  slackScopes?: SlackTokenScopes | null;
  jobs: JobRegistry;
  metrics: Registry;
  /** Latest candles per pair: filled by the market feed, read by the engine and the paper exchange. */
  prices: PriceBoard;
  /** What the two-approver live switch needs: the go-live audit gate, the snapshot, Slack posting. */
  liveSwitch: LiveSwitchPorts;
  /**
   * What the incident checklist can make happen (close positions, reconcile the ledger), in every
   * process: done here, or handed to the process that can and shown pending until it answers.
   */
  incident: IncidentPorts;
  /** The kill switch's halt latch for this process and the poster of a new incident's thread (null where none is wired). */
  kill: KillPorts;
}

// Who acts (src/domain/actor.ts), named here too for the many that already import it from the context.
export type { Actor, ActorSource } from '../domain/actor.js';
