// GET /healthz (mode, halted, trading state, database kind, armed, and the engine: who holds the
// lease, armed or not, its heartbeat) and GET /metrics (Prometheus text format). /healthz answers
// within HEALTHZ_DB_TIMEOUT whatever the database does: a stalled query never rejects by itself, so
// the read runs under a deadline, and past it the answer is 503 with what this process knows without
// the database and what it could not read (`"database": "no answer within 1000 ms"`) — a health check
// that hangs is one a load balancer cannot act on.
import type { Feature } from '../app/feature.js';
import { databaseProblem } from '../db/connect-errors.js';
import { effectiveMode, getBotState } from '../services/bot-state.js';
import { DeadlineError, withDeadline } from '../services/kill/deadline.js';
import { isHaltLatched } from '../services/kill/runtime.js';
import { tradingStateOf } from '../services/trading-state.js';
import { readEngineHolder } from '../services/engine-lease/holder-view.js';
import { holdsLease } from '../services/engine-lease/runtime.js';
import { reconciliationGate } from '../services/reconcile/start/monitor.js';
import { standingOf } from '../services/reconcile/start/state.js';
import { sendJson } from './server.js';

export const healthFeature: Feature = {
  name: 'health',
  roles: ['all', 'web', 'worker'],
  async start(ctx, http, opts) {
    let failures = 0;
    http.route('GET', '/healthz', async (_req, res) => {
      const timeoutMs = ctx.config.HEALTHZ_DB_TIMEOUT;
      try {
        const [state, engine] = await withDeadline(Promise.all([getBotState(ctx.db), readEngineHolder(ctx)]), timeoutMs, 'the database');
        failures = 0;
        sendJson(res, 200, {
          status: 'ok',
          mode: effectiveMode(state, ctx.config.IS_LIVE),
          requestedMode: state.mode,
          armed: ctx.config.IS_LIVE,
          halted: state.halted,
          entriesPaused: state.entriesPaused,
          tradingState: tradingStateOf(state),
          database: ctx.database.kind,
          feed: opts.feed,
          engineHeartbeatAt: state.engineHeartbeatAt?.toISOString() ?? null,
          // The process that runs the engine (any replica answers the same); thisProcess: whether it is this one.
          engine: { ...engine, thisProcess: holdsLease(ctx) ?? false },
          reconciliation: reconciliationHealth(standingOf(state), reconciliationGate(ctx) ?? null),
        });
      } catch (err) {
        const unread = err instanceof DeadlineError
          ? `no answer within ${timeoutMs} ms`
          : (databaseProblem(err, ctx.config.DATABASE_URL)?.message ?? `could not be read: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`);
        // A probe every few seconds against a dead database: log the first failure and then rarely.
        failures += 1;
        if (failures === 1 || failures % 100 === 0) ctx.logger.warn({ err, failures }, `health check: the database (${ctx.database.kind}): ${unread}`);
        sendJson(res, 503, {
          status: 'degraded',
          database: unread,
          databaseKind: ctx.database.kind,
          // What this process knows without the database: never a claim about the stored state.
          mode: 'unknown',
          halted: isHaltLatched(ctx) ? true : null,
          haltLatchedHere: isHaltLatched(ctx),
          armed: ctx.config.IS_LIVE,
          feed: opts.feed,
          engine: { thisProcess: holdsLease(ctx) ?? false },
        });
      }
    });
    http.route('GET', '/metrics', async (_req, res) => {
      const body = await ctx.metrics.metrics();
      res.writeHead(200, { 'content-type': ctx.metrics.contentType });
      res.end(body);
    });
  },
};

/** Whether live trading waits for reconciliation with Kraken; gate: this process's, when it runs the engine. */
function reconciliationHealth(s: ReturnType<typeof standingOf>, gate: string | null) {
  return { blocked: s.blocked, pending: s.pending, differences: s.differences.length, reconciledThrough: s.reconciledThrough, gate };
}
