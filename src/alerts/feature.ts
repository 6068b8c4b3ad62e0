// The alerts part of the running bot: a delivery tick and an escalation tick, every second, on
// every replica (FOR UPDATE SKIP LOCKED makes that safe: one replica sends each message, pages once).
import type { Feature } from '../app/feature.js';
import { createAlertRuntime } from './runtime.js';

export const alertsFeature: Feature = {
  name: 'alerts',
  roles: ['all', 'web', 'worker'],
  async start(ctx) {
    const runtime = createAlertRuntime(ctx);
    const sink = ctx.alerts as { flushBuffered?: () => Promise<number> };
    ctx.jobs.register({
      name: 'alert-delivery',
      schedule: '* * * * * *',
      trades: false,
      run: async () => {
        await sink.flushBuffered?.();
        await runtime.delivery.tick();
      },
    });
    return { stop: async () => runtime.close() };
  },
};
