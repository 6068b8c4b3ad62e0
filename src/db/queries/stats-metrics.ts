// Owns the small queries behind the scrape-time gauges: open orders, engine heartbeat and state,
// open alert groups and active escalations, the alert outbox's backlog. Each reads an index or a
// handful of rows.
import { sql } from 'drizzle-orm';
import { execute, type Db } from '../client.js';
import { unsettledStatusList } from '../schema/index.js';

export interface OperationalFacts {
  openOrders: Array<{ mode: string; status: string; n: number }>;
  heartbeatAt: Date | null;
  /** How long ago the engine beat, on the database's clock, which it beats on (ms); null before its first beat. */
  heartbeatAgeMs: number | null;
  halted: boolean;
  entriesPaused: boolean;
  mode: 'paper' | 'live';
  alertsOpen: Array<{ severity: string; status: string; n: number }>;
  escalationsActive: number;
  /** Alert deliveries stored but not yet sent, by kind, with the oldest one's creation time. */
  outbox: Array<{ kind: string; n: number; oldest: Date }>;
}

export async function operationalFacts(db: Db): Promise<OperationalFacts> {
  const [orders, state, alerts, escalations, outbox] = await Promise.all([
    execute<{ mode: string; status: string; n: number }>(
      db,
      sql`select mode, status, count(*)::int as n from order_intents where status in ${unsettledStatusList} group by 1, 2`,
    ),
    execute<{ heartbeat: Date | string | null; heartbeat_age_ms: number | string | null; halted: boolean; entries_paused: boolean; mode: 'paper' | 'live' }>(
      db,
      sql`select engine_heartbeat_at as heartbeat, (extract(epoch from (now() - engine_heartbeat_at)) * 1000)::float8 as heartbeat_age_ms,
        halted, entries_paused, mode from bot_state where id = 1`,
    ),
    execute<{ severity: string; status: string; n: number }>(
      db,
      sql`select severity, status, count(*)::int as n from alert_groups where status <> 'resolved' group by 1, 2`,
    ),
    execute<{ n: number }>(db, sql`select count(*)::int as n from alert_escalations where status = 'active'`),
    execute<{ kind: string; n: number; oldest: Date | string }>(
      db,
      sql`select kind, count(*)::int as n, min(created_at) as oldest from alert_deliveries where status = 'pending' group by 1`,
    ),
  ]);
  const s = state[0];
  return {
    openOrders: orders,
    heartbeatAt: s?.heartbeat ? new Date(s.heartbeat) : null,
    heartbeatAgeMs: s?.heartbeat_age_ms === null || s?.heartbeat_age_ms === undefined ? null : Number(s.heartbeat_age_ms),
    halted: s?.halted ?? false,
    entriesPaused: s?.entries_paused ?? false,
    mode: s?.mode ?? 'paper',
    alertsOpen: alerts,
    escalationsActive: escalations[0]?.n ?? 0,
    outbox: outbox.map((o) => ({ kind: o.kind, n: o.n, oldest: new Date(o.oldest) })),
  };
}
