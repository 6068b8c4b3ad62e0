// Owns the alert outbox's batch write (alerts/store.ts writes through it): one prepared statement for
// a whole batch — each fingerprint's live group created or counted (locked in fingerprint order, so
// concurrent writers cannot deadlock), every event appended, a Slack sync delivery queued (one
// pending per group), and the escalation timer started for a severity whose policy pages.
import { sql } from 'drizzle-orm';
import type { Db } from '../client.js';
import { executePrepared } from '../prepared.js';
import type { AlertGroup } from '../schema/index.js';

type Severity = AlertGroup['severity'];

const rank = (column: ReturnType<typeof sql.raw>) =>
  sql`(case ${column} when 'critical' then 2 when 'warning' then 1 else 0 end)`;

export interface AlertBatchItem {
  alert: { source: string; severity: Severity; title: string; fingerprint: string; details: Record<string, unknown>; test: boolean };
  at: Date;
  /** The alert's own key (alert_events.raise_key, from its raise): storing it again fails on the unique index. */
  key?: string;
}

export interface StoredAlertRow {
  groupId: number;
  eventId: number;
  newGroup: boolean;
  severity: Severity;
}

/**
 * Persists a batch in one prepared statement (one round trip, one commit: on a busy host each
 * extra round trip costs milliseconds). The batch goes in as one JSON parameter; results come back in input
 * order (event ids come from one sequence in input order, so sorting them restores it).
 */
export async function insertAlertBatch(db: Db, batch: AlertBatchItem[], slackChannel: string | null): Promise<StoredAlertRow[]> {
  if (batch.length === 0) return [];
  const rows = batch.map(({ alert, at, key }, i) => ({
    i, fingerprint: alert.fingerprint, source: alert.source, severity: alert.severity, title: alert.title,
    details: alert.details, at: at.toISOString(), test: alert.test, key: key ?? null,
  }));
  const now = batch.reduce((max, b) => (b.at > max ? b.at : max), batch[0]!.at).toISOString();
  const sevRank = (c: string) => rank(sql.raw(c));
  const [out] = await executePrepared<{ groups: Array<{ fingerprint: string; id: number; severity: Severity; inserted: boolean }>; events: Array<string | number> }>(db, sql`
    with input as (
      select * from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb)
        as x(i int, fingerprint text, source text, severity text, title text, details jsonb, at timestamptz, test boolean, key text)
    ), agg as (
      select fingerprint, count(*)::int as n, min(at) as first_at, max(at) as last_at, bool_or(test) as test,
        (array_agg(severity order by ${sevRank('severity')} desc))[1] as severity,
        (array_agg(source order by i))[1] as source, (array_agg(title order by i))[1] as title
      from input group by fingerprint
    ), g as (
      insert into alert_groups (fingerprint, source, severity, title, count, first_at, last_at, test, slack_channel)
      select fingerprint, source, severity, title, n, first_at, last_at, test, ${slackChannel}::text from agg
      order by fingerprint -- one lock order for every writer: concurrent batches cannot deadlock
      on conflict (fingerprint) where status <> 'resolved' do update set
        count = alert_groups.count + excluded.count,
        last_at = greatest(alert_groups.last_at, excluded.last_at),
        severity = case when ${sevRank('excluded.severity')} > ${sevRank('alert_groups.severity')} then excluded.severity else alert_groups.severity end,
        version = alert_groups.version + 1
      returning id, fingerprint, severity, status, (xmax = 0) as inserted
    ), e as (
      insert into alert_events (group_id, at, source, severity, title, details, raise_key)
      select g.id, x.at, x.source, x.severity, x.title, x.details, x.key from input x join g on g.fingerprint = x.fingerprint
      order by x.i
      returning id
    ), d as (
      insert into alert_deliveries (group_id, kind, lane, target, priority, payload, next_attempt_at, created_at)
      -- due at once on the database's clock, like the escalation below
      select g.id, 'slack_sync', 'slack:' || ${slackChannel}::text, ${slackChannel}::text, ${sevRank('g.severity')}, '{}'::jsonb,
             now(), ${now}::timestamptz
      from g where ${slackChannel}::text is not null
      on conflict (group_id) where kind = 'slack_sync' and status = 'pending' do nothing
    ), x as (
      insert into alert_escalations (group_id, severity, due_at, started_at, updated_at)
      -- due at once on the database's clock (what every replica judges "due" by), whatever the writer's
      select g.id, g.severity, now(), ${now}::timestamptz, ${now}::timestamptz from g
      where g.status = 'open'
        -- the timer row exists for the group's lifetime: when this statement's snapshot already sees
        -- it, skip the insert, so an escalation tick updating that row never makes a writer wait
        and not exists (select 1 from alert_escalations t where t.group_id = g.id)
        and (
        exists (select 1 from alert_policies p where p.severity = g.severity and jsonb_array_length(p.steps) > 0)
        or (g.severity = 'critical' and not exists (select 1 from alert_policies p where p.severity = 'critical'))
      )
      on conflict (group_id) do nothing
    )
    select (select json_agg(json_build_object('fingerprint', fingerprint, 'id', id, 'severity', severity, 'inserted', inserted)) from g) as groups,
           (select json_agg(id order by id) from e) as events`);
  const groups = new Map((out?.groups ?? []).map((g) => [g.fingerprint, g]));
  const events = (out?.events ?? []).map(Number);
  if (events.length !== batch.length) throw new Error(`alert batch stored ${events.length} of ${batch.length} events`);
  return batch.map(({ alert }, i) => {
    const g = groups.get(alert.fingerprint)!;
    return { groupId: Number(g.id), eventId: events[i]!, newGroup: g.inserted, severity: g.severity };
  });
}
