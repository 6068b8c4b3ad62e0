// `alerts test [--severity info|warning|critical]`: a test alert through every configured channel,
// with the outcome recorded for the go-live audit. Critical also runs the escalation (a rehearsal).
import { z } from 'zod';
import { runAlertTest, type AlertTestResult } from '../src/alerts/test-alert.js';
import { defineCommand } from './define.js';

export const alertsTestCommand = defineCommand({
  name: 'alerts test',
  summary: 'send a test alert through every configured channel and record the result',
  role: 'operator',
  args: z.object({ severity: z.enum(['info', 'warning', 'critical']).default('warning'), waitMs: z.number().int().min(0).max(120_000).optional() }),
  async run(ctx, args): Promise<AlertTestResult> {
    return runAlertTest(ctx, { severity: args.severity, actor: ctx.actor.id, ...(args.waitMs !== undefined ? { waitMs: args.waitMs } : {}) });
  },
});
