// GET /healthz (services/health/read-health.ts says what, and answers within HEALTHZ_DB_TIMEOUT
// whatever the database does) and GET /metrics (Prometheus text format).
import type { Feature } from '../app/feature.js';
import { healthProbe } from '../services/health/read-health.js';
import { sendJson } from './server.js';

export const healthFeature: Feature = {
  name: 'health',
  roles: ['all', 'web', 'worker'],
  async start(ctx, http, opts) {
    const probe = healthProbe(ctx, { feed: opts.feed, ...(opts.progress ? { start: opts.progress } : {}) });
    http.route('GET', '/healthz', async (_req, res) => {
      const { status, body } = await probe();
      sendJson(res, status, body);
    });
    http.route('GET', '/metrics', async (_req, res) => {
      const body = await ctx.metrics.metrics();
      res.writeHead(200, { 'content-type': ctx.metrics.contentType });
      res.end(body);
    });
  },
};
