// Owns the small queries behind the scrape-time gauges: open orders, engine heartbeat and state,
// open alert groups and active escalations. Each reads an index or a handful of rows.
import { sql } from 'drizzle-orm';
import { execute, type Db } from '../client.js';

export interface OperationalFacts {
  openOrders: Array<{ mode: string; status: string; n: number }>;
  heartbeatAt: Date | null;
  halted: boolean;
  mode: 'paper' | 'live';
  alertsOpen: Array<{ severity: string; status: string; n: number }>;
  escalationsActive: number;
}

export async function operationalFacts(db: Db): Promise<OperationalFacts> {
  const [orders, state, alerts, escalations] = await Promise.all([
    execute<{ mode: string; status: string; n: number }>(
      db,
      sql`select mode, status, count(*)::int as n from order_intents where status in ('pending', 'sent', 'open') group by 1, 2`,
    ),
    execute<{ heartbeat: Date | string | null; halted: boolean; mode: 'paper' | 'live' }>(
      db,
      sql`select engine_heartbeat_at as heartbeat, halted, mode from bot_state where id = 1`,
    ),
    execute<{ severity: string; status: string; n: number }>(
      db,
      sql`select severity, status, count(*)::int as n from alert_groups where status <> 'resolved' group by 1, 2`,
    ),
    execute<{ n: number }>(db, sql`select count(*)::int as n from alert_escalations where status = 'active'`),
  ]);
  const s = state[0];
  return {
    openOrders: orders,
    heartbeatAt: s?.heartbeat ? new Date(s.heartbeat) : null,
    halted: s?.halted ?? false,
    mode: s?.mode ?? 'paper',
    alertsOpen: alerts,
    escalationsActive: escalations[0]?.n ?? 0,
  };
}
