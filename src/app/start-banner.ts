// Owns what `ctb start` says once it serves: mode, database, feed, Slack, its URLs and the three
// commands to try next. One log line: a readable block on a terminal, fields under `banner` in JSON.
import { relative, resolve } from 'node:path';
import type { Config } from '../config/env.js';
import { formatDuration } from '../config/duration.js';
import type { EngineStanding } from '../services/engine-lease/keeper.js';
import { describeHolder, type EngineHolderView } from '../domain/engine-holder.js';
import { unknownModePhrase, type EngineMode } from '../domain/engine-mode.js';
import { ENGINE_TRADING_NOW, engineWaitingPhrase } from '../domain/engine-waiting.js';

export interface BannerFacts {
  config: Config;
  port: number;
  role: string;
  feed: 'kraken' | 'replay';
  database: 'pglite' | 'postgres';
  /**
   * The mode trading is in: for role web, the engine's (domain/engine-mode.ts; not said when none runs or
   * the lease was not read) — unknown when its lease is stale and its holder was armed with the database live.
   */
  mode: EngineMode;
  tradingState: string;
  /** Why the bot is halted (bot_state), when it is. */
  haltedReason?: string | null;
  /** The ledger holds replay orders only (read when halted): only then is starting over offered. */
  onlyReplayBooked?: boolean;
  /** Where relative paths are shown from (the working directory). */
  cwd: string;
  /** This process's part in the engine (engine-lease/runtime.ts engineStanding); absent when it runs none (role web). */
  engine?: EngineStanding | undefined;
  /**
   * Why this process's engine, holding the lease, does not trade (engine-lease/engine-progress.ts
   * engineWaitingWhy): the step it waits in, a halt, its gate; null or absent when it trades.
   */
  engineWaiting?: string | null | undefined;
  /**
   * The engine lease as the database shows it, read when this process runs no engine (role web);
   * null when it could not be read.
   */
  engineHolder?: EngineHolderView | null | undefined;
  /** What the holder's engine does, as holderProgressPhrase says it with bot_state (a gate's reason only while still true). */
  engineHolderProgress?: string | undefined;
}

export const NEXT_COMMANDS: ReadonlyArray<readonly [string, string]> = [
  ['ctb trades --closed 10', 'open positions with unrealised PnL, and the last 10 closed trades'],
  ['ctb stats', 'trades, wins/losses, ROI, PnL, fees and drawdown, paper and live side by side'],
  ['ctb stats --chart equity.png', 'the equity and drawdown chart, with every entry and exit marked'],
];

/** The database named without its password: the embedded directory, or PostgreSQL's host and name. */
export function describeDatabase(config: Config, kind: 'pglite' | 'postgres', cwd: string): string {
  if (kind === 'pglite') return `embedded PGlite in ${shortPath(config.DATA_DIR, cwd)}`;
  try {
    const url = new URL(config.DATABASE_URL ?? '');
    return `PostgreSQL ${url.hostname}${url.port ? `:${url.port}` : ''}${url.pathname}`;
  } catch {
    return 'PostgreSQL (DATABASE_URL)';
  }
}

/**
 * Whose prices the kraken feed reads: Kraken's, or — when KRAKEN_API_URL points elsewhere (the
 * simulator of a rehearsal, a staging fake) — that server's, named by its origin (never a userinfo part).
 */
function krakenSource(apiUrl: string | undefined): string {
  if (!apiUrl) return 'Kraken public market data';
  try {
    const url = new URL(apiUrl);
    return url.hostname === 'api.kraken.com' ? 'Kraken public market data' : `market data of ${url.origin} (KRAKEN_API_URL, not Kraken)`;
  } catch {
    return 'market data of KRAKEN_API_URL (not Kraken)';
  }
}

export function describeFeed(config: Config, feed: 'kraken' | 'replay', cwd: string): string {
  const pairs = config.TRADING_PAIRS.join(', ');
  if (feed === 'kraken') return `${krakenSource(config.KRAKEN_API_URL)}, polled every ${formatDuration(config.MARKET_POLL_INTERVAL)} (${pairs})`;
  const file = config.REPLAY_FILE ? shortPath(config.REPLAY_FILE, cwd) : 'the bundled sample (samples/replay-btc-usd-1m.csv)';
  const pace = config.REPLAY_INTERVAL > 0 ? `one 1-minute candle every ${formatDuration(config.REPLAY_INTERVAL)}` : 'as fast as it goes';
  return `replay of ${file}, ${pace} (${pairs}); trades are booked feed=replay and never count for go-live`;
}

/**
 * What a halted start is waiting for, so a bot that trades nothing says why and how out: a
 * reconciliation halt lifts once `ctb reconcile` finds everything explained; any other needs
 * `ctb resume`, which a demo cannot earn (no Kraken key, no Slack), so a demo whose ledger holds
 * replay orders only is started over.
 */
function haltedLine(f: BannerFacts): string[] {
  if (f.tradingState !== 'halted') return [];
  if (f.haltedReason === 'reconciliation') return ['  halted    by reconciliation with Kraken: `ctb reconcile` shows each difference and what to do'];
  const reason = f.haltedReason ? ` (${f.haltedReason.slice(0, 80)})` : '';
  // Removing the data directory deletes its ledger: offered only where it holds nothing but replay.
  const demo = f.feed === 'replay' && f.database === 'pglite' && f.onlyReplayBooked === true
    ? `; a demo cannot earn that: stop it and remove its data (rm -rf ${shortPath(f.config.DATA_DIR, f.cwd)}) to start over`
    : '';
  return [`  halted    by a kill${reason}: no orders until \`ctb resume\`, after a passing \`ctb audit\` and the \`ctb incident\` checklist${demo}`];
}

/**
 * The trading state as this process stands: the bot's state is the database's, but only the process
 * holding the engine lease trades it — a standby says so, and whose engine trades.
 */
function tradingPhrase(f: BannerFacts): string {
  if (runsNoEngine(f)) return 'not trading here: this process serves Slack and HTTP and runs no engine';
  if (f.engine?.kind === 'standby') return `STANDBY: not trading here (the engine runs in ${f.engine.holder}; trading ${f.tradingState} there)`;
  if (f.engine?.kind === 'asking') return `not trading yet: the engine lease is not taken (trading ${f.tradingState} once it is)`;
  // Holding the lease is not trading: never "trading active" of an engine that waits.
  if (f.engineWaiting) return engineWaitingPhrase(f.engineWaiting);
  return `trading ${f.tradingState}`;
}

/** A process that runs no engine (role web) serves Slack and HTTP only: it never trades, whatever the bot's state. */
const runsNoEngine = (f: BannerFacts): boolean => f.engine === undefined && f.role === 'web';

/**
 * The engine whose arming a process that runs none speaks of: the running holder of the lease. Its own
 * IS_LIVE places no order; with no engine running, or the lease unread, live or paper is not said.
 */
const runningEngine = (f: BannerFacts): EngineHolderView | null => (f.engineHolder?.state === 'running' ? f.engineHolder : null);

/** How the first line says what this process may send to Kraken. */
function armedPhrase(f: BannerFacts): string {
  if (runsNoEngine(f)) return 'web: no engine here';
  return f.config.IS_LIVE ? 'armed for live' : 'paper only';
}

/** The mode, and why no order can reach Kraken when none can: the running engine's for role web. */
function modePhrase(f: BannerFacts): string {
  if (!runsNoEngine(f)) return `${f.mode}${f.config.IS_LIVE ? '' : ' (IS_LIVE is not set: no order can reach Kraken)'}`;
  const h = runningEngine(f);
  if (f.engineHolder === null || f.engineHolder === undefined) return 'not known: the engine lease could not be read';
  // Not "none": a hung holder that wakes renews its lease and trades again.
  if (f.mode === 'unknown') return `unknown: ${unknownModePhrase(f.engineHolder)}`;
  if (!h) return 'none: no engine is running';
  if (!h.armed) return `${f.mode} (IS_LIVE is not set in the engine's process: no order can reach Kraken)`;
  return `${f.mode}${h.hasKrakenKeys ? '' : ' (the engine is armed for live but has no Kraken keys: no order can reach Kraken)'}`;
}

/** Who trades for a process that does not: the engine lease's holder, as the database shows it. */
function engineLine(f: BannerFacts): string[] {
  if (!runsNoEngine(f)) return [];
  const h = f.engineHolder;
  const worker = 'a worker (`ctb start --role worker`)';
  if (!h) return ['  engine    not known: the engine lease could not be read (the warning above says why), so whether and where an engine runs is not said here; `ctb mode status` shows it once the database answers'];
  const holder = `${h.host}:${h.pid} (${h.role})`;
  // Holding the lease is not trading: describeHolder says what a running engine still waits on.
  // A holder whose renewal is overdue may have stopped: describeHolder says when it last renewed, nothing of trading.
  if (h.state === 'running' && h.renewalOverdue) return [`  engine    held by ${describeHolder(h)}`];
  if (h.state === 'running' && h.waitingKind === 'gate') {
    // A gate's reason is said only while bot_state is where the gate answered (domain/engine-waiting.ts).
    const doing = f.engineHolderProgress ?? ENGINE_TRADING_NOW;
    return [`  engine    runs in ${doing === ENGINE_TRADING_NOW ? `${describeHolder(h, '')}: trading ${f.tradingState} there` : describeHolder(h, doing)}`];
  }
  if (h.state === 'running') return [`  engine    runs in ${describeHolder(h)}${h.waiting ? '' : `: trading ${f.tradingState} there`}`];
  if (h.state === 'stale' && f.mode === 'unknown') {
    return [`  engine    none running: the lease of ${holder} went stale at ${h.staleSince}; nothing trades while it hangs or until ${worker} takes it over, but it may resume LIVE trading if it wakes`];
  }
  if (h.state === 'stale') return [`  engine    none running: the lease of ${holder} went stale at ${h.staleSince}; nothing trades until ${worker} takes it over`];
  return [`  engine    none running: nothing trades until ${worker} takes the engine lease`];
}

function standbyLine(f: BannerFacts): string[] {
  if (f.engine?.kind !== 'standby') return [];
  return [`  standby   this process takes the engine over if ${f.engine.holder} stops renewing its lease for ${formatDuration(f.config.ENGINE_LEASE_TTL)} (ENGINE_LEASE_TTL), or at once if its process is gone on this host`];
}

function shortPath(path: string, cwd: string): string {
  const rel = relative(cwd, resolve(cwd, path));
  return rel === '' ? '.' : rel.startsWith('..') ? resolve(cwd, path) : `./${rel}`;
}

export function startBanner(f: BannerFacts): { message: string; fields: Record<string, unknown> } {
  const { config } = f;
  const host = config.HOST === '0.0.0.0' || config.HOST === '::' ? 'localhost' : config.HOST;
  const base = `http://${host.includes(':') ? `[${host}]` : host}:${f.port}`;
  const urls = { health: `${base}/healthz`, metrics: `${base}/metrics`, ...(config.SLACK_BOT_TOKEN && !config.SLACK_APP_TOKEN ? { slack: `${base}/slack/events` } : {}) };
  const slack = config.SLACK_BOT_TOKEN ? (config.SLACK_APP_TOKEN ? 'connected over Socket Mode' : `HTTP at ${urls.slack}`) : 'not configured (docs/slack.md to connect it)';
  const database = describeDatabase(config, f.database, f.cwd);
  const feed = describeFeed(config, f.feed, f.cwd);
  const width = Math.max(...NEXT_COMMANDS.map(([c]) => c.length));
  const lines = [
    // The first words stay as they were: scripts and tests wait for "ctb running on port N".
    `ctb running on port ${f.port} (${armedPhrase(f)}, ${f.database}${runsNoEngine(f) ? '' : `, feed ${f.feed}`})`,
    `  mode      ${modePhrase(f)}, ${tradingPhrase(f)}, role ${f.role}`,
    ...standbyLine(f),
    ...engineLine(f),
    ...haltedLine(f),
    `  database  ${database}`,
    ...(f.role === 'web' ? [] : [`  feed      ${feed}`]),
    `  Slack     ${slack}`,
    `  health    ${urls.health}`,
    `  metrics   ${urls.metrics}`,
    // From the same directory: ctb reads .env (and DATA_DIR, ./data by default) from its working directory.
    `  try next  (in another terminal, in ${f.cwd}: ctb reads ${f.database === 'pglite' ? `.env and ${shortPath(config.DATA_DIR, f.cwd)}` : '.env'} there; \`npx ctb …\` until \`npm link\` puts ctb on PATH; Ctrl-C here stops the bot)`,
    ...NEXT_COMMANDS.map(([cmd, what]) => `    ${cmd.padEnd(width)}  ${what}`),
  ];
  return {
    message: lines.join('\n'),
    // Under one key, which the terminal format leaves out (the message already says it all).
    fields: {
      banner: {
        port: f.port, role: f.role, feed: f.feed, database: f.database, tradingState: f.tradingState,
        // Of a process that runs no engine, the running engine's (null: none runs, or the lease was not read).
        ...(runsNoEngine(f) ? { armed: runningEngine(f)?.armed ?? null, mode: runningEngine(f) || f.mode === 'unknown' ? f.mode : null } : { armed: config.IS_LIVE, mode: f.mode }),
        ...(runsNoEngine(f) && f.engineHolder !== undefined ? { engineHolder: f.engineHolder === null ? null : { state: f.engineHolder.state, holderId: f.engineHolder.holderId } } : {}),
        ...(f.engine?.kind === 'engine' ? { engineWaiting: f.engineWaiting ?? null } : {}),
        engine: f.engine === undefined ? 'none in this process' : f.engine.kind === 'engine' ? 'this process' : f.engine.kind === 'standby' ? `standby behind ${f.engine.holder}` : 'lease not taken yet',
        databaseText: database, feedText: feed, slack, urls, next: NEXT_COMMANDS.map(([c]) => c),
      },
    },
  };
}
