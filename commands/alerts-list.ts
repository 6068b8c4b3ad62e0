// `alerts list [--limit N]`: the alert groups not resolved (critical first, newest first), with
// their numbers for `ctb alerts ack|resolve|silence`. App Home shows the first few and points here.
import { z } from 'zod';
import { openAlertGroups } from '../src/db/queries/dashboard.js';
import { defineCommand } from './define.js';

export interface AlertsListResult {
  ok: true;
  /** Open and acknowledged groups, test alerts among them once they page (a critical test). */
  total: number;
  groups: Array<{
    id: number;
    severity: 'info' | 'warning' | 'critical';
    status: 'open' | 'acknowledged' | 'resolved';
    title: string;
    count: number;
    firstAt: string;
    lastAt: string;
    acknowledgedBy: string | null;
    /** A test alert's group (`ctb alerts test`), paged like any other. */
    test: boolean;
    /** Only while the silence lasts: null once it has ended. */
    silencedUntil: string | null;
  }>;
}

export const alertsListCommand = defineCommand({
  name: 'alerts list',
  summary: 'list the alert groups not resolved, critical first, with the numbers to ack or resolve them',
  role: 'reader',
  args: z.object({ limit: z.coerce.number({ message: 'expected a whole number from 1 to 500' }).int('expected a whole number from 1 to 500').min(1, 'at least 1').max(500, 'at most 500').default(50) }),
  async run(ctx, args): Promise<AlertsListResult> {
    const { rows, total } = await openAlertGroups(ctx.db, args.limit);
    return {
      ok: true,
      total,
      groups: rows.map((g) => ({
        id: g.id, severity: g.severity, status: g.status, title: g.title, count: g.count,
        firstAt: g.firstAt.toISOString(), lastAt: g.lastAt.toISOString(),
        acknowledgedBy: g.acknowledgedBy ?? null, test: g.test, silencedUntil: g.silencedUntil ? g.silencedUntil.toISOString() : null, // a silence that ended is no silence (judged by the database)
      })),
    };
  },
});
