// A feature is a part of the running bot with a start and a stop (HTTP routes, engine, Slack, jobs).
import type { HttpServer } from '../http/server.js';
import type { IncidentPoster } from '../services/kill/runtime.js';
import type { Config } from '../config/env.js';
import type { AppContext } from './context.js';
import type { StartFiles } from './start-checks.js';
import type { StartProgress } from './start-progress.js';

export interface StartOptions {
  /** 'all' runs everything in one process; Procfile splits web (HTTP, Slack) and worker (engine, jobs). */
  role: 'all' | 'web' | 'worker';
  feed: 'kraken' | 'replay';
  /** The files read and checked before the start (start-checks.ts): a feature uses these rather than reading them again. */
  files?: StartFiles;
  /** What the bot's start is doing until it is over (startBot's; absent where a caller starts a feature itself). */
  progress?: StartProgress;
  /**
   * Aborted when the bot is asked to stop while it starts (startBot's). A part whose start is under way
   * then is stopped once that start ends (started-parts.ts); a loop it begins meanwhile ends on it at once.
   */
  stop?: AbortSignal;
}

export interface RunningFeature {
  stop(): Promise<void>;
}

export interface Feature {
  name: string;
  roles: Array<StartOptions['role']>;
  /** What the feature gives the context it is started with, passed in when that context is built (never set later). */
  provides?: ContextProvisions;
  /**
   * Reads and checks the files the feature reads (the engine's strategies file) before anything
   * starts: throws the problem, so a bad file refuses the start before the database is opened or any
   * part runs. What it returns reaches start() as `opts.files`.
   */
  check?(config: Config): StartFiles;
  /**
   * Starts the part. One that throws leaves nothing running: when the database went away during it, after it
   * had answered, startBot runs it again once the database answers (wait-for-database.ts). The jobs it
   * registered are removed by startBot then; any other thing it started (a timer, a listener) it stops itself.
   */
  start(ctx: AppContext, http: HttpServer, opts: StartOptions): Promise<RunningFeature | void>;
}

export interface ContextProvisions {
  /** The kill posts a new incident's checklist thread through it (the kill feature, with Slack). */
  incidentPoster?: (ctx: AppContext) => IncidentPoster | undefined;
}
