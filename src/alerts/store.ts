// Owns writing an alert into the outbox: in one statement, the group for its fingerprint is
// created or counted, the event is appended, a Slack sync delivery is queued (one pending per
// group) and, for a severity whose policy pages, the escalation timer is started. One round trip,
// so raising stays cheap under an alert storm.
import { sql } from 'drizzle-orm';
import { execute, type Db } from '../db/client.js';
import type { Severity } from './types.js';

export const SEVERITY_RANK: Record<Severity, number> = { info: 0, warning: 1, critical: 2 };
const rank = (column: ReturnType<typeof sql.raw>) =>
  sql`(case ${column} when 'critical' then 2 when 'warning' then 1 else 0 end)`;

export interface StoredAlert {
  source: string;
  severity: Severity;
  title: string;
  fingerprint: string;
  details: Record<string, unknown>;
  test: boolean;
}

export interface PersistResult {
  groupId: number;
  eventId: number;
  newGroup: boolean;
  severity: Severity;
}

export async function persistAlert(input: {
  db: Db;
  now: Date;
  alert: StoredAlert;
  /** SLACK_ALERTS_CHANNEL when Slack is configured; no Slack delivery is queued otherwise. */
  slackChannel: string | null;
}): Promise<PersistResult> {
  const { db, now, alert, slackChannel } = input;
  const iso = now.toISOString();
  const rows = await execute<{ group_id: string | number; event_id: string | number; inserted: boolean; severity: Severity }>(
    db,
    sql`
    with g as (
      insert into alert_groups (fingerprint, source, severity, title, first_at, last_at, test, slack_channel)
      values (${alert.fingerprint}, ${alert.source}, ${alert.severity}, ${alert.title}, ${iso}::timestamptz, ${iso}::timestamptz, ${alert.test}, ${slackChannel}::text)
      on conflict (fingerprint) where status <> 'resolved' do update set
        count = alert_groups.count + 1,
        last_at = greatest(alert_groups.last_at, excluded.last_at),
        severity = case when ${rank(sql.raw('excluded.severity'))} > ${rank(sql.raw('alert_groups.severity'))}
                        then excluded.severity else alert_groups.severity end,
        version = alert_groups.version + 1
      returning id, severity, status, (xmax = 0) as inserted
    ), e as (
      insert into alert_events (group_id, at, source, severity, title, details)
      select id, ${iso}::timestamptz, ${alert.source}, ${alert.severity}, ${alert.title}, ${JSON.stringify(alert.details)}::jsonb from g
      returning id
    ), d as (
      insert into alert_deliveries (group_id, kind, lane, target, priority, payload, next_attempt_at, created_at)
      select id, 'slack_sync', 'slack:' || ${slackChannel}::text, ${slackChannel}::text, ${rank(sql.raw('g.severity'))}, '{}'::jsonb,
             ${iso}::timestamptz, ${iso}::timestamptz
      from g where ${slackChannel}::text is not null
      on conflict (group_id) where kind = 'slack_sync' and status = 'pending' do nothing
    ), x as (
      insert into alert_escalations (group_id, severity, due_at, started_at, updated_at)
      select g.id, g.severity, ${iso}::timestamptz, ${iso}::timestamptz, ${iso}::timestamptz from g
      where g.status = 'open' and (
        exists (select 1 from alert_policies p where p.severity = g.severity and jsonb_array_length(p.steps) > 0)
        or (g.severity = 'critical' and not exists (select 1 from alert_policies p where p.severity = 'critical'))
      )
      on conflict (group_id) do nothing
    )
    select g.id as group_id, e.id as event_id, g.inserted, g.severity from g, e`,
  );
  const row = rows[0];
  if (!row) throw new Error('alert insert returned no row');
  return { groupId: Number(row.group_id), eventId: Number(row.event_id), newGroup: row.inserted, severity: row.severity };
}
