// GET /healthz (mode, halted, database kind, armed) and GET /metrics (Prometheus text format).
import type { Feature } from '../app/feature.js';
import { effectiveMode, getBotState } from '../services/bot-state.js';
import { tradingStateOf } from '../services/trading-state.js';
import { sendJson } from './server.js';

export const healthFeature: Feature = {
  name: 'health',
  roles: ['all', 'web', 'worker'],
  async start(ctx, http, opts) {
    http.route('GET', '/healthz', async (_req, res) => {
      try {
        const state = await getBotState(ctx.db);
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
        });
      } catch (err) {
        ctx.logger.error({ err }, 'health check could not read the database');
        sendJson(res, 503, { status: 'degraded', database: ctx.database.kind, error: 'database unreachable', mode: 'paper', halted: null });
      }
    });
    http.route('GET', '/metrics', async (_req, res) => {
      const body = await ctx.metrics.metrics();
      res.writeHead(200, { 'content-type': ctx.metrics.contentType });
      res.end(body);
    });
  },
};
