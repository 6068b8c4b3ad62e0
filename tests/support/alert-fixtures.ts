// Builds an AppContext wired for the alert pipeline against a real PostgreSQL database, a fake
// Slack Web API and a ManualClock. Two contexts on one database stand in for two replicas.
import { buildAppContext, type OwnedContext } from '../../src/app/build-context.js';
import { ManualClock } from '../../src/clock.js';
import { testConfig, type Config } from '../../src/config/env.js';
import { execute, type Database, type Db } from '../../src/db/client.js';
import { sql, type SQL } from 'drizzle-orm';
import { silentLogger, type Logger } from '../../src/logger.js';
import { createAlertRuntime, type AlertRuntime, type AlertRuntimeOptions } from '../../src/alerts/runtime.js';
import type { OutboxAlertSink } from '../../src/alerts/sink.js';
import type { Notifier } from '../../src/notifications/notification.js';
import { afterEach, beforeEach } from 'vitest';
import { startFakeSlack, type FakeSlack } from './fake-slack.js';

export const ALERTS_CHANNEL = 'C0ALERTS';

export function alertConfig(slack: FakeSlack | null, overrides: Record<string, string | undefined> = {}): Config {
  return testConfig({
    ...(slack
      ? { SLACK_BOT_TOKEN: 'xoxb-0000-test-not-a-real-token', SLACK_SIGNING_SECRET: 'test-signing-secret', SLACK_API_URL: slack.url }
      : {}),
    SLACK_ALERTS_CHANNEL: ALERTS_CHANNEL,
    SLACK_APPROVERS: 'UAPPROVER1,UAPPROVER2',
    ESCALATION_ACK_SLA: '5m',
    ESCALATION_MAX_ROUNDS: '2',
    ...overrides,
  });
}

export interface AlertHarness {
  ctx: OwnedContext;
  sink: OutboxAlertSink;
  runtime: AlertRuntime;
  clock: ManualClock;
  close(): Promise<void>;
}

export async function alertHarness(input: {
  database: Database;
  config: Config;
  clock?: ManualClock;
  runtime?: AlertRuntimeOptions;
  logger?: Logger;
  /** Replaces the chat notifier (a test that acts while a page is being handed over). */
  notifier?: Notifier;
}): Promise<AlertHarness> {
  const clock = input.clock ?? new ManualClock('2026-01-05T12:00:00Z');
  const ctx = await buildAppContext({
    config: input.config, clock, logger: input.logger ?? silentLogger(), database: input.database, ...(input.notifier ? { notifier: input.notifier } : {}),
  });
  const runtime = createAlertRuntime(ctx, input.runtime);
  return {
    ctx,
    sink: ctx.alerts as OutboxAlertSink,
    runtime,
    clock,
    close: async () => {
      runtime.close();
      await ctx.close();
    },
  };
}

/** The alert pipeline's and on-call's tables: emptied between alert tests (usePostgresTestDb). */
export const ALERT_TABLES = [
  'alert_deliveries', 'alert_events', 'alert_groups', 'alert_escalations', 'alert_pages', 'alert_slack_pacing', 'alert_tests',
  'oncall_rotations', 'oncall_overrides', 'alert_policies',
];

/**
 * `ms` pass for the escalation ladder, the silences and the outbox, whose times are on the database's
 * clock: every waiting escalation's due_at, every silence's end, every queued delivery's next try and
 * every lane's next slot move `ms` closer to the database's now(), and `clock` (the replicas') moves
 * as far, so a step, a retry or a paced message the test waits out is due on both (as passUntilDue
 * does for engine requests).
 */
export async function passEscalationTime(db: Db, clock: ManualClock | null, ms: number): Promise<void> {
  // One statement (each update of its own table runs once, to completion): the tests that page
  // through a ladder pass time hundreds of times.
  // It locks four tables' rows in its own order, which no statement of the bot's shares (nothing in
  // the product moves time): a bot's transaction holding one of them while it waits for another can
  // deadlock with it, and PostgreSQL then ends one of the two (seen once, at load 12). This one is
  // tried again: it changed nothing when it was ended.
  const by = sql`${Math.round(ms)} * interval '1 millisecond'`;
  for (let attempt = 1; ; attempt++) {
    try {
      await execute(db, sql`with ${outboxAged(by)},
        escalations as (update alert_escalations set due_at = due_at - ${by} where status in ('active', 'silenced')),
        silences as (update alert_groups set silenced_until = silenced_until - ${by} where silenced_until is not null)
        select 1`);
      break;
    } catch (err) {
      const code = (err as { cause?: { code?: string }; code?: string }).cause?.code ?? (err as { code?: string }).code;
      if (code !== '40P01' || attempt >= 5) throw err;
    }
  }
  clock?.advance(ms);
}

/**
 * `ms` pass for the alert outbox alone (a test of sending, pacing and retries): every queued
 * delivery's next try, every send's claim and every lane's next slot move `ms` closer to the database's now(), and
 * `clock` moves as far.
 */
export async function passDeliveryTime(db: Db, clock: ManualClock | null, ms: number): Promise<void> {
  await ageOutbox(db, ms);
  clock?.advance(ms);
}

async function ageOutbox(db: Db, ms: number): Promise<void> {
  await execute(db, sql`with ${outboxAged(sql`${Math.round(ms)} * interval '1 millisecond'`)} select 1`);
}

/** The outbox's ageing by `by` (an interval) as the data-modifying parts of a `with`. */
function outboxAged(by: SQL): SQL {
  // A send's claim is stamped with the database's now() (dbAt): it ages with the rest.
  return sql`deliveries as (update alert_deliveries set next_attempt_at = next_attempt_at - ${by},
      result = case when jsonb_typeof(result->'claim'->'dbAt') = 'string'
        then jsonb_set(result, '{claim,dbAt}', to_jsonb((result->'claim'->>'dbAt')::timestamptz - ${by}))
        else result end
      where status = 'pending'),
    pacing as (update alert_slack_pacing set next_at = next_at - ${by} where next_at > 'epoch')`;
}

const SKEW_MS = 10 * 60_000;

/**
 * Two replicas sharing one database and one fake Slack, their clocks 10 minutes off the database's: one
 * fast, one slow. Made before each test and closed after it; read them (as properties) inside a test.
 */
export function skewedAlertReplicas(database: () => Database): { readonly slack: FakeSlack; readonly fast: AlertHarness; readonly slow: AlertHarness } {
  let slack: FakeSlack | undefined;
  let fast: AlertHarness | undefined;
  let slow: AlertHarness | undefined;
  beforeEach(async () => {
    slack = await startFakeSlack();
    fast = await alertHarness({ database: database(), config: alertConfig(slack), clock: new ManualClock(new Date(Date.now() + SKEW_MS)) });
    slow = await alertHarness({ database: database(), config: alertConfig(slack), clock: new ManualClock(new Date(Date.now() - SKEW_MS)) });
  });
  afterEach(async () => {
    await fast?.close();
    await slow?.close();
    await slack?.close();
  });
  return {
    get slack() { return slack!; },
    get fast() { return fast!; },
    get slow() { return slow!; },
  };
}
