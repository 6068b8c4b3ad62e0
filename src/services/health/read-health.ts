// Owns what GET /healthz says (the running engine's mode and arming — from the engine lease, never this
// process's IS_LIVE, which is `armedHere` — halted, trading state, database kind, the market feed's
// state, and the engine: who holds the lease, armed or not, its heartbeat) and that it says it within HEALTHZ_DB_TIMEOUT
// whatever the database does: a stalled query never rejects by itself, so the read runs under a
// deadline, and past it the answer is 503 with what this process knows without the database and what
// it could not read (`"database": "no answer within 1000 ms"`) — a health check that hangs is one a
// load balancer cannot act on. Until the bot's start is over, `start` says what it does (starting, or
// waiting for a database that went away: src/app/wait-for-database.ts). src/http/health.ts serves it.
import type { Config } from '../../config/env.js';
import type { Database, Db } from '../../db/client.js';
import type { JobRegistry } from '../../jobs/registry.js';
import type { Logger } from '../../logger.js';
import { databaseProblem } from '../../db/connect-errors.js';
import { standingOf, type ReconciliationStanding } from '../../domain/reconciliation-standing.js';
import { tradingStateOf } from '../../domain/trading-state.js';
import { liveAlertGroupId } from '../../db/queries/alert-groups.js';
import { FEED_SILENT_FINGERPRINT, feedStatusOf, type FeedStatus } from '../../engine/feed-watch.js';
import { effectiveMode, getBotState } from '../bot-state.js';
import { engineMode, holderArmed } from '../../domain/engine-mode.js';
import { readEngineHolder } from '../engine-lease/holder-view.js';
import { holdsLease } from '../engine-lease/runtime.js';
import { engineProgress, engineWaitingWhy } from '../engine-lease/engine-progress.js';
import { holderWaitingWhy } from '../../domain/engine-waiting.js';
import type { EngineHolderView } from '../../domain/engine-holder.js';
import type { BotState } from '../../db/schema/index.js';
import { DeadlineError, withDeadline } from '../kill/deadline.js';
import { isHaltLatched, type KillPorts } from '../kill/runtime.js';
import { reconciliationGate } from '../reconcile/start/monitor.js';
import type { StartStanding } from '../../domain/start-standing.js';

export interface HealthAnswer {
  status: 200 | 503;
  body: Record<string, unknown>;
}

/** One probe per route: it remembers consecutive failures, so a dead database is logged first and then rarely. */
/** What the probe reads: this process's own state (latch, lease, start-up gate) and the database. */
export interface HealthDeps {
  config: Config;
  database: Database;
  db: Db;
  logger: Logger;
  jobs: JobRegistry;
  kill: KillPorts;
}

export interface HealthProbeOptions {
  feed: string;
  /** The bot's start while it is not over: shown as `start` (starting, or waiting for the database). */
  start?: { standing(): StartStanding | null };
}

export function healthProbe(ctx: HealthDeps, opts: HealthProbeOptions): () => Promise<HealthAnswer> {
  let failures = 0;
  return async () => {
    const starting = opts.start?.standing() ?? null;
    const start = starting ? { start: starting } : {};
    const timeoutMs = ctx.config.HEALTHZ_DB_TIMEOUT;
    try {
      const watched = feedStatusOf(ctx.database);
      // The alert after the other two, not beside them: a third connection at once is one more a stalled pool may not have.
      const [state, engine, silentAlert] = await withDeadline(Promise.all([getBotState(ctx.db), readEngineHolder(ctx)])
        .then(async ([s, e]) => [s, e, watched ? null : await liveAlertGroupId(ctx.db, FEED_SILENT_FINGERPRINT)] as const), timeoutMs, 'the database');
      failures = 0;
      const feedState = watched ?? (silentAlert !== null ? { state: 'silent' as const, alert: silentAlert } : null);
      return {
        // Still 200: the process lives and answers (a restart does not bring a market feed back); the body says what is wrong.
        status: 200,
        body: {
          status: healthStatus(feedState),
          // The running engine's, from the lease (any replica answers the same): never this process's IS_LIVE,
          // which in a web replica says nothing of the worker that trades. A stale lease is not a dead engine
          // (a hung holder that wakes renews it and trades again): its mode is unknown when that holder was
          // armed with the database saying live (domain/engine-mode.ts), its arming its own.
          mode: engineMode(state, engine),
          requestedMode: state.mode,
          armed: holderArmed(engine),
          // Whether this process itself runs with IS_LIVE=true (it places live orders only while it runs the engine).
          armedHere: ctx.config.IS_LIVE,
          halted: state.halted,
          entriesPaused: state.entriesPaused,
          tradingState: tradingStateOf(state),
          database: ctx.database.kind,
          feed: opts.feed,
          // The engine's market feed: as this process's engine sees it, else as the silent-feed alert says (null: no word of it here).
          feedState,
          engineHeartbeatAt: state.engineHeartbeatAt?.toISOString() ?? null,
          // The process that runs the engine (any replica answers the same); thisProcess: whether it is this one,
          // and then waiting: why it does not trade (the step it waits in, a halt, its gate), null when it trades.
          // The row's own `waiting` is left out: only engineWaiting says it (absent when no engine runs).
          engine: { ...withoutRowWaiting(engine), thisProcess: holdsLease(ctx) ?? false, ...engineWaiting(ctx, state, engine) },
          reconciliation: reconciliationHealth(standingOf(state), reconciliationGate(ctx) ?? null),
          ...start,
        },
      };
    } catch (err) {
      const unread = err instanceof DeadlineError
        ? `no answer within ${timeoutMs} ms`
        : (databaseProblem(err, ctx.config.DATABASE_URL)?.message ?? `could not be read: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`);
      // A probe every few seconds against a dead database: log the first failure and then rarely.
      failures += 1;
      if (failures === 1 || failures % 100 === 0) ctx.logger.warn({ err, failures }, `health check: the database (${ctx.database.kind}): ${unread}`);
      return {
        status: 503,
        body: {
          status: 'degraded',
          database: unread,
          databaseKind: ctx.database.kind,
          // What this process knows without the database: never a claim about the stored state.
          mode: 'unknown',
          halted: isHaltLatched(ctx) ? true : null,
          haltLatchedHere: isHaltLatched(ctx),
          // The engine's arming is in the lease, unread: unknown — unless this process runs the engine, whose arming is its own.
          armed: holdsLease(ctx) ? ctx.config.IS_LIVE : null,
          armedHere: ctx.config.IS_LIVE,
          feed: opts.feed,
          feedState: feedStatusOf(ctx.database) ?? null,
          engine: { thisProcess: holdsLease(ctx) ?? false },
          ...start,
        },
      };
    }
  };
}

/**
 * Why the engine does not trade: this process's own engine's, when it holds the lease; another's as its
 * lease row says it with this bot_state (domain/engine-waiting.ts: never a gate's reason from an older one).
 */
function engineWaiting(ctx: HealthDeps, state: BotState, engine: EngineHolderView): { waiting: string | null } | Record<string, never> {
  const progress = holdsLease(ctx) ? engineProgress(ctx) : undefined;
  if (progress) return { waiting: engineWaitingWhy(progress, state, effectiveMode(state, ctx.config.IS_LIVE)) };
  const why = holderWaitingWhy({ engine, stateVersion: state.version, mode: engineMode(state, engine), halted: state.halted, haltedReason: state.haltedReason, reconciliation: standingOf(state) });
  // Undefined: no engine runs (none, or a stale lease) — no key, never null, which says it trades.
  return why === undefined ? {} : { waiting: why };
}

function withoutRowWaiting(engine: EngineHolderView): Omit<EngineHolderView, 'waiting'> {
  const { waiting: _rowSays, ...rest } = engine;
  return rest;
}

/** `ok` only while the feed answers (or nothing here says otherwise): a bot whose feed never answered is not ok. */
function healthStatus(feed: Pick<FeedStatus, 'state'> | null): string {
  if (feed?.state === 'silent') return 'feed silent';
  if (feed?.state === 'no answer yet') return 'feed not answered yet';
  return 'ok';
}

/** Whether live trading waits for reconciliation with Kraken; gate: this process's, when it runs the engine. */
function reconciliationHealth(s: ReconciliationStanding, gate: string | null) {
  return { blocked: s.blocked, pending: s.pending, differences: s.differences.length, reconciledThrough: s.reconciledThrough, gate };
}
