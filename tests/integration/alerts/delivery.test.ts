import { eq, sql } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../../src/clock.js';
import { ctbMetrics } from '../../../src/metrics/instruments.js';
import { updateBotState } from '../../../src/services/bot-state.js';
import { alertDeliveries, alertEvents, alertGroups } from '../../../src/db/schema/index.js';
import { usePostgresTestDb } from '../../support/db.js';
import { startFakeSlack, type FakeSlack } from '../../support/fake-slack.js';
import { execute } from '../../../src/db/client.js';
import { databaseNow } from '../../../src/db/queries/database-clock.js';
import { ALERT_TABLES, ALERTS_CHANNEL, alertConfig, alertHarness, passDeliveryTime, type AlertHarness } from '../../support/alert-fixtures.js';

const database = usePostgresTestDb({ truncate: ALERT_TABLES });
let slack: FakeSlack;
let h: AlertHarness;

beforeEach(async () => {
  slack = await startFakeSlack();
  h = await alertHarness({ database: database(), config: alertConfig(slack) });
  aged = 0;
});
afterEach(async () => {
  await h?.close();
  await slack?.close();
});

/** `ms` pass for the outbox (its due times are on the database's clock) and the harness's clock. */
let aged = 0;
const pass = async (ms: number) => {
  aged += ms;
  await passDeliveryTime(database().db, h.clock, ms);
};
const second = () => pass(1_000);
/** When the lane's next slot opens, on the database's clock as the test has moved it on (ms). */
const laneOpensAt = async () => {
  const [row] = await execute<{ ms: string | number }>(database().db, sql`
    select floor(extract(epoch from next_at) * 1000)::bigint as ms from alert_slack_pacing where lane = ${`slack:${ALERTS_CHANNEL}`}`);
  return Number(row!.ms) + aged;
};

describe('alert outbox delivery to Slack', () => {
  it('stores an alert before anything is sent', async () => {
    await h.sink.raise({ source: 'exchange', severity: 'warning', title: 'Kraken disconnected' });
    const groups = await database().db.select().from(alertGroups);
    expect(groups).toHaveLength(1);
    expect(groups[0]).toMatchObject({ fingerprint: 'exchange:Kraken disconnected', count: 1, status: 'open', slackTs: null });
    expect(slack.calls).toHaveLength(0);
    const pending = await database().db.select().from(alertDeliveries);
    expect(pending.map((d) => [d.kind, d.status])).toEqual([['slack_sync', 'pending']]);
    const raised = (await ctbMetrics(h.ctx.metrics).alertsRaised.get()).values.map((v) => [v.labels.severity, v.value]);
    expect(raised).toEqual([['warning', 1]]);
  });

  it('groups repeats of one fingerprint into one thread and updates the count on the parent', async () => {
    for (let i = 0; i < 3; i += 1) {
      await h.sink.raise({ source: 'trade_failure', severity: 'warning', title: 'order rejected', fingerprint: 'order-rejected', details: { n: i } });
    }
    await h.runtime.delivery.tick();
    const [parent] = slack.callsTo('chat.postMessage');
    expect(parent!.body.channel).toBe(ALERTS_CHANNEL);
    expect(String(parent!.body.text)).toContain('(×3)');
    expect(parent!.body.thread_ts).toBeUndefined();
    const [group] = await database().db.select().from(alertGroups);
    expect(group!.slackTs).toBeTruthy();

    await h.sink.raise({ source: 'trade_failure', severity: 'warning', title: 'order rejected', fingerprint: 'order-rejected', details: { n: 3 } });
    await h.sink.raise({ source: 'trade_failure', severity: 'warning', title: 'order rejected', fingerprint: 'order-rejected', details: { n: 4 } });
    await second();
    await h.runtime.delivery.tick();
    const reply = slack.callsTo('chat.postMessage')[1]!;
    expect(reply.body.thread_ts).toBe(group!.slackTs);
    expect(String(reply.body.text)).toContain('2 more occurrences');

    await second();
    await h.runtime.delivery.tick();
    const [update] = slack.callsTo('chat.update');
    expect(update!.body.ts).toBe(group!.slackTs);
    expect(String(update!.body.text)).toContain('(×5)');

    await second();
    await h.runtime.delivery.tick();
    expect(slack.calls).toHaveLength(3); // up to date: nothing more to send
    expect(await database().db.select().from(alertGroups)).toHaveLength(1);
    const deliveries = await database().db.select().from(alertDeliveries);
    expect(deliveries.every((d) => d.status === 'sent')).toBe(true);
  });

  it('badges every alert message paper/LIVE like every other bot message, as the state is when it is sent', async () => {
    await h.sink.raise({ source: 'exchange', severity: 'critical', title: 'Kraken unreachable', fingerprint: 'kraken' });
    await h.runtime.delivery.tick();
    const [parent] = slack.callsTo('chat.postMessage');
    expect(String(parent!.body.text)).toMatch(/^\[PAPER\] :red_circle: \[CRITICAL\] Kraken unreachable \(×1\)$/);
    const blocks = parent!.body.blocks as Array<{ type: string; elements?: Array<{ text: string }> }>;
    expect(blocks[0]!.type).toBe('context');
    expect(blocks[0]!.elements![0]!.text).toContain('*PAPER*');
    expect(JSON.stringify(blocks)).toContain('alert_ack');

    await updateBotState(database().db, h.clock, { halted: true, haltedReason: 'test' });
    await h.sink.raise({ source: 'exchange', severity: 'critical', title: 'Kraken unreachable', fingerprint: 'kraken' });
    await second();
    await h.runtime.delivery.tick();
    const reply = slack.callsTo('chat.postMessage')[1]!;
    const [group] = await database().db.select().from(alertGroups);
    expect(reply.body.thread_ts).toBe(group!.slackTs);
    expect(String(reply.body.text)).toMatch(/^\[PAPER · HALTED\] Again:/);
  });

  it('opens a separate thread for another fingerprint and a new one after the group is resolved', async () => {
    await h.sink.raise({ source: 'risk', severity: 'warning', title: 'drawdown 8%', fingerprint: 'risk:drawdown' });
    await h.sink.raise({ source: 'reconciliation', severity: 'warning', title: 'balance mismatch', fingerprint: 'recon' });
    await database().db.update(alertGroups).set({ status: 'resolved' }).where(eq(alertGroups.fingerprint, 'recon'));
    await h.sink.raise({ source: 'reconciliation', severity: 'warning', title: 'balance mismatch', fingerprint: 'recon' });
    const groups = await database().db.select().from(alertGroups);
    expect(groups.map((g) => [g.fingerprint, g.status, g.count]).sort()).toEqual([
      ['recon', 'open', 1], ['recon', 'resolved', 1], ['risk:drawdown', 'open', 1],
    ]);
  });

  it('sends at most one message per second to the channel and waits out a 429 Retry-After without dropping', async () => {
    // When each message went out: the database's now() of its send, read back from the slot it
    // booked (that now() + 1 s), on the database's clock as the test moves it on.
    const sentAt: number[] = [];
    let posted = 0;
    let refused = 0;
    slack.on('chat.postMessage', (body) => {
      if (refused < 1) {
        refused += 1;
        return { status: 429, headers: { 'retry-after': '3' }, body: { ok: false, error: 'ratelimited' } };
      }
      posted += 1;
      return { body: { ok: true, channel: body.channel, ts: `${1_700_000_000 + posted}.000200` } };
    });
    for (let i = 0; i < 4; i += 1) await h.sink.raise({ source: 'engine', severity: 'info', title: `event ${i}`, fingerprint: `fp-${i}` });

    const before = (await databaseNow(database().db)).getTime();
    const report = await h.runtime.delivery.tick();
    const after = (await databaseNow(database().db)).getTime();
    expect(report.failed).toBe(1);
    const [refusedDelivery] = await database().db.select().from(alertDeliveries).where(eq(alertDeliveries.attempts, 1));
    expect(refusedDelivery!.lastError).toContain('Retry-After 3s');
    // Its next try and the lane's next slot are both Retry-After after the database's now() of the try.
    const start = (await laneOpensAt()) - 3_000;
    expect(refusedDelivery!.nextAttemptAt.getTime()).toBe(start + 3_000);
    expect(start).toBeGreaterThanOrEqual(before);
    expect(start).toBeLessThanOrEqual(after);

    // Ticks every 250 ms for 10 s: the lane stays closed for Retry-After, then opens once a second.
    for (let i = 0; i < 40; i += 1) {
      await pass(250);
      const had = posted;
      await h.runtime.delivery.tick();
      if (posted > had) sentAt.push((await laneOpensAt()) - 1_000);
    }
    expect(sentAt).toHaveLength(4);
    expect(sentAt[0]! - start).toBeGreaterThanOrEqual(3_000);
    for (let i = 1; i < sentAt.length; i += 1) expect(sentAt[i]! - sentAt[i - 1]!).toBeGreaterThanOrEqual(1_000);
    const groups = await database().db.select().from(alertGroups);
    expect(groups.every((g) => g.slackTs !== null)).toBe(true);
  });

  it('keeps retrying through a Slack outage and delivers when it is back', async () => {
    let down = true;
    slack.on('chat.postMessage', (body) =>
      down ? { body: { ok: false, error: 'fatal_error' } } : { body: { ok: true, channel: body.channel, ts: '1700000100.000100' } });
    await h.sink.raise({ source: 'kill', severity: 'critical', title: 'kill switch pulled', fingerprint: 'kill' });
    for (let i = 0; i < 5; i += 1) {
      await h.runtime.delivery.tick();
      await pass(60_000);
    }
    const [d] = await database().db.select().from(alertDeliveries).where(eq(alertDeliveries.kind, 'slack_sync'));
    expect(d).toMatchObject({ status: 'pending' });
    expect(d!.attempts).toBeGreaterThanOrEqual(3);
    expect(d!.lastError).toContain('fatal_error');
    down = false;
    await pass(5 * 60_000);
    await h.runtime.delivery.tick();
    const [group] = await database().db.select().from(alertGroups);
    expect(group!.slackTs).toBe('1700000100.000100');
  });

  it('delivers everything queued before a restart, each message once', async () => {
    for (let i = 0; i < 3; i += 1) await h.sink.raise({ source: 'audit', severity: 'warning', title: `audit check ${i} failed`, fingerprint: `audit-${i}` });
    await h.runtime.delivery.tick();
    expect(slack.callsTo('chat.postMessage')).toHaveLength(1);
    await h.close();

    // A new process on the same database: the queue is in the database, not in memory.
    h = await alertHarness({ database: database(), config: alertConfig(slack), clock: new ManualClock(h.clock.now()) });
    for (let i = 0; i < 5; i += 1) {
      await pass(1_000);
      await h.runtime.delivery.tick();
    }
    const posts = slack.callsTo('chat.postMessage');
    expect(posts).toHaveLength(3);
    expect(new Set(posts.map((p) => String(p.body.text))).size).toBe(3);
    const groups = await database().db.select().from(alertGroups);
    expect(groups.every((g) => g.slackTs !== null)).toBe(true);
  });

  it('keeps secrets out of what it stores and sends', async () => {
    await h.sink.raise({
      source: 'exchange', severity: 'warning', title: 'auth failed with xoxb-0000-test-not-a-real-token',
      details: { apiKey: 'abc', nested: { password: 'hunter2' }, note: 'token xoxb-0000-test-not-a-real-token' },
    });
    await h.runtime.delivery.tick();
    const stored = JSON.stringify(await database().db.select().from(alertEvents));
    expect(stored).not.toContain('xoxb-0000');
    expect(stored).not.toContain('hunter2');
    expect(JSON.stringify(slack.calls)).not.toContain('xoxb-0000-test');
  });
});
