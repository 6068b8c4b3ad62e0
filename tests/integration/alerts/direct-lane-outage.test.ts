// While PostgreSQL refuses the outbox (a TCP proxy in front of it, taken down), a critical alert of
// the running bot goes straight to the alerts channel (fake Slack), bounded and marked as sent
// without the database; when the database answers, each buffered alert is stored once, late ones say
// so, a direct message becomes its group's parent (updated, not posted again), and the badge is the
// state when it was raised.
import { describe, expect, it } from 'vitest';
import { buildAppContext } from '../../../src/app/build-context.js';
import { createAlertRuntime } from '../../../src/alerts/runtime.js';
import { createOutboxAlertSink, type OutboxAlertSink } from '../../../src/alerts/sink.js';
import { DIRECT_CAP } from '../../../src/alerts/direct-lane.js';
import { ManualClock } from '../../../src/clock.js';
import { alertEscalations, alertEvents, alertGroups } from '../../../src/db/schema/index.js';
import { silentLogger } from '../../../src/logger.js';
import { badgeKnownNow, readBadgeState } from '../../../src/services/badge-state.js';
import { usePostgresTestDb } from '../../support/db.js';
import { holdTableLock } from '../../support/table-lock.js';
import { useAlertOutageBed } from '../../support/alert-outage-bed.js';
import { ALERT_TABLES, ALERTS_CHANNEL, alertConfig } from '../../support/alert-fixtures.js';
import type { SlackCall } from '../../support/fake-slack.js';
import { sql } from 'drizzle-orm';
import { Writable } from 'node:stream';
import { alertsFeature } from '../../../src/app/features/alerts.js';
import { startBot } from '../../../src/app/runtime.js';
import { createLogger } from '../../../src/logger.js';

const database = usePostgresTestDb({ truncate: [...ALERT_TABLES, 'bot_state'] });
const UNREACHABLE = 'database unreachable: not in the outbox yet, no escalation until it is back';

const bed = useAlertOutageBed(database);
const { open } = bed;

async function bot(clock: ManualClock, role: string, env: Record<string, string> = {}) {
  const config = alertConfig(bed.slack, { SLACK_RETRY_PAUSE: '10ms', ...env });
  const ctx = await buildAppContext({ config, clock, logger: silentLogger(), database: bed.proxied, deliveryTick: true, role });
  const runtime = createAlertRuntime(ctx);
  open.push({ ctx, runtime });
  return { ctx, runtime, sink: ctx.alerts as OutboxAlertSink };
}

const posts = () => bed.slack.callsTo('chat.postMessage');
const textOf = (c: SlackCall) => String(c.body.text);

describe('critical alerts while the database refuses the outbox', () => {
  it('go to the alerts channel at once, once per fingerprint, marked as sent without the database, with the state when raised', async () => {
    const clock = new ManualClock('2026-01-05T12:00:00Z');
    const { ctx, sink } = await bot(clock, 'all');
    await readBadgeState({ db: ctx.db, config: ctx.config, logger: ctx.logger }); // the state this process last read: PAPER
    bed.proxy.set('down');
    await sink.raise({ source: 'engine', severity: 'critical', title: 'Engine error: lease unconfirmed', fingerprint: 'lease' });
    await sink.sendDirect();
    expect(posts()).toHaveLength(1);
    expect(posts()[0]!.body.channel).toBe(ALERTS_CHANNEL);
    expect(textOf(posts()[0]!)).toMatch(/^\[PAPER\] :red_circle: \[CRITICAL\] Engine error: lease unconfirmed/);
    expect(textOf(posts()[0]!)).toContain(UNREACHABLE);
    expect(JSON.stringify(posts()[0]!.body.blocks)).toContain(':all');

    // The same fingerprint again, and a warning: neither is sent without the database.
    clock.advance(5_000);
    await sink.raise({ source: 'engine', severity: 'critical', title: 'Engine error: lease unconfirmed', fingerprint: 'lease' });
    await sink.raise({ source: 'exchange', severity: 'warning', title: 'spread is wide' });
    await sink.sendDirect();
    expect(posts()).toHaveLength(1);

    // A kill latched in this process since: the next direct message says HALTED.
    ctx.kill.latch.latch('operator kill saved in DATA_DIR');
    await sink.raise({ source: 'kill', severity: 'critical', title: 'Kill saved; not yet in the database', fingerprint: 'kill-saved' });
    await sink.sendDirect();
    expect(posts()).toHaveLength(2);
    expect(textOf(posts()[1]!)).toMatch(/^\[PAPER · HALTED\] /);
    expect(sink.buffered).toBe(4);
    expect(bed.slack.callsTo('chat.update')).toHaveLength(0);
  });

  it('show PAPER, not mode unknown, when the mode was never read and IS_LIVE is unset (this process trades paper)', async () => {
    const clock = new ManualClock('2026-01-05T12:00:00Z');
    const { sink } = await bot(clock, 'all');
    bed.proxy.set('down');
    await sink.raise({ source: 'engine', severity: 'critical', title: 'lease unconfirmed', fingerprint: 'lease' });
    await sink.sendDirect();
    expect(textOf(posts()[0]!)).toMatch(/^\[PAPER\] /);
  });

  it('are not sent directly by a command that runs once and exits (nothing would retry a failure or store it)', async () => {
    const config = alertConfig(bed.slack, { SLACK_RETRY_PAUSE: '10ms' });
    const ctx = await buildAppContext({ config, clock: new ManualClock(), logger: silentLogger(), database: bed.proxied, role: 'ctb' });
    open.push({ ctx, runtime: createAlertRuntime(ctx) });
    bed.proxy.set('down');
    await ctx.alerts.raise({ source: 'kill', severity: 'critical', title: 'kill saved', fingerprint: 'kill' });
    await (ctx.alerts as OutboxAlertSink).sendDirect();
    expect(posts()).toHaveLength(0);
  });

  it('say what the cap held back in the next direct message, one message a second', async () => {
    const clock = new ManualClock('2026-01-05T12:00:00Z');
    const { sink } = await bot(clock, 'all');
    bed.proxy.set('down');
    // Raised together: one refused write for all of them.
    await Promise.all(Array.from({ length: DIRECT_CAP + 2 }, (_, i) => sink.raise({ source: 'engine', severity: 'critical', title: `failure ${i}`, fingerprint: `f${i}` })));
    await sink.sendDirect();
    await sink.sendDirect();
    expect(posts()).toHaveLength(1); // one a second: the rest wait for the next tick
    for (let i = 0; i < DIRECT_CAP + 2; i += 1) {
      clock.advance(1_000);
      await sink.sendDirect();
    }
    expect(posts()).toHaveLength(DIRECT_CAP);
    // The two over the cap were counted at once; the message after (the second) says so, once.
    expect(textOf(posts()[1]!)).toContain('2 more critical alerts were held back by the cap on messages sent without the database (10 every 10 minutes from one process)');
    expect(posts().filter((c) => textOf(c).includes('held back by the cap'))).toHaveLength(1);
    // The window frees: the two held back go out then, oldest first.
    clock.advance(10 * 60_000);
    await sink.sendDirect();
    clock.advance(1_000);
    await sink.sendDirect();
    expect(posts()).toHaveLength(DIRECT_CAP + 2);
    expect(posts().slice(DIRECT_CAP).map((c) => textOf(c).match(/failure \d+/)?.[0])).toEqual([`failure ${DIRECT_CAP}`, `failure ${DIRECT_CAP + 1}`]);
  });

  it('do not count sends that failed and wait to be tried again against the cap', async () => {
    const clock = new ManualClock('2026-01-05T12:00:00Z');
    const { sink } = await bot(clock, 'all');
    bed.proxy.set('down');
    bed.slack.on('chat.postMessage', () => ({ body: { ok: false, error: 'internal_error' } }));
    for (let i = 0; i < DIRECT_CAP; i += 1) {
      await sink.raise({ source: 'engine', severity: 'critical', title: `failure ${i}`, fingerprint: `f${i}` });
      await sink.sendDirect();
      clock.advance(1_000);
    }
    expect(posts()).toHaveLength(DIRECT_CAP); // each tried once, refused
    bed.slack.on('chat.postMessage', (body) => ({ body: { ok: true, channel: body.channel, ts: '1700000000.000100' } }));
    await sink.raise({ source: 'kill', severity: 'critical', title: 'kill saved in DATA_DIR', fingerprint: 'kill' });
    await sink.sendDirect(); // its first try goes before the retries due
    expect(textOf(posts().at(-1)!)).toContain('kill saved in DATA_DIR');
  });

  it('when the database answers: stored once each, late, the direct message becomes the parent (updated in place), a failed send said so', async () => {
    const clock = new ManualClock('2026-01-05T12:00:00Z');
    const { ctx, sink, runtime } = await bot(clock, 'all');
    await readBadgeState({ db: ctx.db, config: ctx.config, logger: ctx.logger });
    bed.proxy.set('down');
    await sink.raise({ source: 'engine', severity: 'critical', title: 'lease unconfirmed', fingerprint: 'lease', details: { holder: 'h1' } });
    let directTs = '';
    bed.slack.on('chat.postMessage', (body) => ({ body: { ok: true, channel: body.channel, ts: (directTs = '1700000000.424242') } }));
    await sink.sendDirect();
    expect(directTs).not.toBe('');
    // Slack refuses the next one: it stays buffered, and says so once stored.
    bed.slack.on('chat.postMessage', () => ({ body: { ok: false, error: 'internal_error' } }));
    clock.advance(2_000);
    await sink.raise({ source: 'kill', severity: 'critical', title: 'dead man switch left to run out', fingerprint: 'deadman' });
    await sink.sendDirect();
    expect(posts()).toHaveLength(2);
    await sink.raise({ source: 'engine', severity: 'critical', title: 'lease unconfirmed', fingerprint: 'lease' });
    await sink.raise({ source: 'exchange', severity: 'warning', title: 'spread is wide' });
    expect(sink.buffered).toBe(4);

    // Meanwhile the bot was halted: a send-time badge would say HALTED; these were raised before.
    let seq = 0;
    bed.slack.on('chat.postMessage', (body) => ({ body: { ok: true, channel: body.channel, ts: `1800000000.${String(++seq).padStart(6, '0')}` } }));
    bed.proxy.set('forward');
    await database().db.execute(sql`update bot_state set halted = true`);
    clock.advance(60_000);
    expect(await sink.flushBuffered()).toBe(0);

    const groups = await database().db.select().from(alertGroups);
    expect(groups.map((g) => [g.fingerprint, g.count]).sort()).toEqual([['deadman', 1], ['lease', 2], ['spread is wide'.replace(/^/, 'exchange:'), 1]].sort());
    const lease = groups.find((g) => g.fingerprint === 'lease')!;
    expect(lease.slackTs).toBe(directTs);
    // Escalation starts now, for both criticals.
    expect((await database().db.select().from(alertEscalations)).length).toBe(2);
    const events = await database().db.select().from(alertEvents);
    expect(events).toHaveLength(4);
    expect(events.every((e) => typeof (e.details as Record<string, unknown>)._outage === 'object')).toBe(true);

    const before = posts().length;
    for (let i = 0; i < 6; i += 1) {
      await runtime.delivery.tick();
      await database().db.execute(sql`update alert_slack_pacing set next_at = 'epoch'`);
    }
    const newPosts = posts().slice(before);
    // The lease alert was not posted to the channel again: its direct message was updated into the parent.
    expect(newPosts.filter((c) => !c.body.thread_ts && textOf(c).includes('lease unconfirmed'))).toHaveLength(0);
    const updates = bed.slack.callsTo('chat.update');
    expect(updates.map((u) => u.body.ts)).toContain(lease.slackTs);
    const parent = updates.find((u) => u.body.ts === lease.slackTs)!;
    const parentText = JSON.stringify(parent.body.blocks);
    // An update of the parent shows the state now; its LATE line says the state when it was raised.
    expect(textOf(parent)).toMatch(/^\[PAPER · HALTED\] /);
    expect(parentText).toContain('When it was raised the state was PAPER (mode as last read from the database at');
    expect(parentText).toContain('Acknowledge');
    expect(parentText).toContain('LATE: raised at');
    // Its repeat went into its thread, late too.
    const repeat = newPosts.find((c) => c.body.thread_ts === lease.slackTs)!;
    expect(textOf(repeat)).toContain('LATE: raised at');
    // The one whose direct send failed: posted now, saying so, with the badge of its raise.
    const deadman = newPosts.find((c) => !c.body.thread_ts && textOf(c).includes('dead man switch'))!;
    expect(textOf(deadman)).toMatch(/^\[PAPER\] /);
    expect(JSON.stringify(deadman.body.blocks)).toContain('without the database FAILED (slack refused: internal_error; 1 try');
    // A later alert, raised with the database back, shows the state at send time.
    await sink.raise({ source: 'engine', severity: 'critical', title: 'now', fingerprint: 'now' });
    await runtime.delivery.tick();
    expect(textOf(posts().at(-1)!)).toMatch(/^\[PAPER · HALTED\] .*now/);
  });

  it('two processes without the database each send their own once (each names its process); stored as one group', async () => {
    const clock = new ManualClock('2026-01-05T12:00:00Z');
    const a = await bot(clock, 'web');
    const b = await bot(clock, 'worker');
    bed.proxy.set('down');
    await a.sink.raise({ source: 'engine', severity: 'critical', title: 'lease unconfirmed', fingerprint: 'lease' });
    await b.sink.raise({ source: 'engine', severity: 'critical', title: 'lease unconfirmed', fingerprint: 'lease' });
    await a.sink.raise({ source: 'engine', severity: 'critical', title: 'lease unconfirmed', fingerprint: 'lease' });
    await Promise.all([a.sink.sendDirect(), b.sink.sendDirect()]);
    expect(posts()).toHaveLength(2);
    expect(JSON.stringify(posts().map((p) => p.body.blocks))).toMatch(/:web`.*:worker`|:worker`.*:web`/s);
    bed.proxy.set('forward');
    expect(await a.sink.flushBuffered()).toBe(0);
    expect(await b.sink.flushBuffered()).toBe(0);
    const groups = await database().db.select().from(alertGroups);
    expect(groups).toHaveLength(1);
    expect(groups[0]!.count).toBe(3);
    // One direct message became the alert (updated in place); the other is told, in its thread, where the alert lives.
    for (let i = 0; i < 4; i += 1) {
      await a.runtime.delivery.tick();
      await database().db.execute(sql`update alert_slack_pacing set next_at = 'epoch'`);
    }
    expect(bed.slack.callsTo('chat.update').map((u) => u.body.ts)).toEqual([groups[0]!.slackTs]);
    const told = posts().filter((c) => typeof c.body.thread_ts === 'string' && textOf(c).includes(`now stored in alert group ${groups[0]!.id}`));
    expect(told).toHaveLength(1);
    expect(told[0]!.body.thread_ts).not.toBe(groups[0]!.slackTs);
    expect(posts().filter((c) => !c.body.thread_ts)).toHaveLength(2); // nothing posted to the channel again
  });
});

/** A bot whose database is cut raises one critical (fingerprint `lease`): sent directly, as 1700000000.000001. */
async function leaseAlertSentDirectly(clock: ManualClock) {
  const started = await bot(clock, 'all');
  let seq = 0;
  bed.slack.on('chat.postMessage', (body) => ({ body: { ok: true, channel: body.channel, ts: `1700000000.${String(++seq).padStart(6, '0')}` } }));
  bed.proxy.set('down');
  await started.sink.raise({ source: 'engine', severity: 'critical', title: 'lease unconfirmed', fingerprint: 'lease' });
  await started.sink.sendDirect();
  expect(posts()).toHaveLength(1);
  return started;
}

describe('alerts raised after the database is back but before the buffer is stored', () => {
  it('join the buffer: stored after it, marked late, and the direct message stays the one parent', async () => {
    const clock = new ManualClock('2026-01-05T12:00:00Z');
    const { sink, runtime } = await leaseAlertSentDirectly(clock);
    const directTs = '1700000000.000001';
    bed.proxy.set('forward');
    clock.advance(5_000);
    // The same fingerprint again, the database answering, before the tick stores the buffer.
    await sink.raise({ source: 'engine', severity: 'critical', title: 'lease unconfirmed', fingerprint: 'lease' });
    expect(await sink.flushBuffered()).toBe(0);
    const groups = await database().db.select().from(alertGroups);
    expect(groups).toHaveLength(1);
    expect(groups[0]!.count).toBe(2);
    expect(groups[0]!.slackTs).toBe(directTs);
    const events = await database().db.select().from(alertEvents).orderBy(alertEvents.id);
    expect(events.map((e) => typeof (e.details as Record<string, unknown>)._outage)).toEqual(['object', 'object']);
    for (let i = 0; i < 4; i += 1) {
      await runtime.delivery.tick();
      await database().db.execute(sql`update alert_slack_pacing set next_at = 'epoch'`);
    }
    expect(posts().filter((c) => !c.body.thread_ts)).toHaveLength(1); // one parent: the direct message, updated
    expect(bed.slack.callsTo('chat.update').map((u) => u.body.ts)).toEqual([groups[0]!.slackTs]);
  });
});

describe('a direct send Slack does not answer in time (it may have been posted)', () => {
  it('is looked for by its metadata before it is tried again: found, not posted twice, and it becomes its alert', async () => {
    const clock = new ManualClock('2026-01-05T12:00:00Z');
    const { sink } = await bot(clock, 'all', { SLACK_API_TIMEOUT: '1s' });
    const channelHistory: Array<Record<string, unknown>> = [];
    let seq = 0;
    let answered!: () => void;
    const lateAnswer = new Promise<void>((r) => (answered = r));
    // Slack takes the message but answers after the client gave up.
    bed.slack.on('chat.postMessage', async (body) => {
      const ts = `1700000000.${String(++seq).padStart(6, '0')}`;
      channelHistory.unshift({ ts, text: body.text, metadata: body.metadata });
      if (seq === 1) await new Promise((r) => setTimeout(r, 1_600)).then(answered);
      return { body: { ok: true, channel: body.channel, ts } };
    });
    bed.slack.on('conversations.history', () => ({ body: { ok: true, messages: channelHistory, has_more: false } }));
    bed.proxy.set('down');
    await sink.raise({ source: 'kill', severity: 'critical', title: 'kill saved in DATA_DIR', fingerprint: 'kill' });
    await sink.sendDirect();
    expect(posts()).toHaveLength(1);
    await lateAnswer;
    clock.advance(120_000);
    await sink.sendDirect();
    expect(bed.slack.callsTo('conversations.history')).toHaveLength(1);
    expect(posts()).toHaveLength(1); // found in the channel: not posted again
    bed.proxy.set('forward');
    expect(await sink.flushBuffered()).toBe(0);
    const [group] = await database().db.select().from(alertGroups);
    expect(group!.slackTs).toBe('1700000000.000001');
  });
});

describe('the delivery tick storing the buffer while a write is slow', () => {
  it('holds only the alert being stored: a critical raised meanwhile is sent directly, then stored after it, one parent each', async () => {
    const clock = new ManualClock('2026-01-05T12:00:00Z');
    const { sink, runtime } = await leaseAlertSentDirectly(clock);
    bed.proxy.set('forward');
    // The database answers, but storing the lease alert waits on a lock (a slow write).
    const lock = await holdTableLock(database().db, 'alert_groups', { mode: 'exclusive' });
    const flushing = sink.flushBuffered();
    // The flush is storing the lease alert: its write waits on the lock.
    const waiting = async () => Number((await database().db.execute(sql`select count(*)::int as n from pg_locks where not granted and database = (select oid from pg_database where datname = current_database())`) as unknown as Array<{ n: number }>)[0]?.n ?? 0);
    const until = Date.now() + 10_000;
    while ((await waiting()) === 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
    clock.advance(2_000);
    await sink.raise({ source: 'kill', severity: 'critical', title: 'kill saved in DATA_DIR', fingerprint: 'kill' });
    const end = Date.now() + 10_000;
    while (posts().length < 2 && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
    const sentMeanwhile = posts().length;
    await lock.release();
    expect(await flushing).toBe(0);
    expect(sentMeanwhile).toBe(2);
    expect(textOf(posts()[1]!)).toContain('kill saved in DATA_DIR');
    const groups = await database().db.select().from(alertGroups);
    expect(Object.fromEntries(groups.map((g) => [g.fingerprint, g.slackTs]))).toEqual({ lease: '1700000000.000001', kill: '1700000000.000002' });
    for (let i = 0; i < 4; i += 1) {
      await runtime.delivery.tick();
      await database().db.execute(sql`update alert_slack_pacing set next_at = 'epoch'`);
    }
    expect(posts().filter((c) => !c.body.thread_ts)).toHaveLength(2); // no parent posted again
  });
});

describe('the buffer at its limit while the database is away', () => {
  it('lets go of an alert below critical before a critical one sent directly; the direct message says it is lost if the process stops', async () => {
    const clock = new ManualClock('2026-01-05T12:00:00Z');
    const config = alertConfig(bed.slack, { SLACK_RETRY_PAUSE: '10ms' });
    const ctx = await buildAppContext({
      config, clock, logger: silentLogger(), database: bed.proxied, deliveryTick: true, role: 'all',
      alerts: (c) => createOutboxAlertSink({
        db: c.db, clock, logger: c.logger, config, deliveryTick: true, bufferLimit: 3, direct: { notifier: c.notifier, process: 'host:1:all' },
      }),
    });
    const runtime = createAlertRuntime(ctx);
    open.push({ ctx, runtime });
    const sink = ctx.alerts as OutboxAlertSink;
    bed.proxy.set('down');
    await sink.raise({ source: 'kill', severity: 'critical', title: 'kill saved in DATA_DIR', fingerprint: 'kill' });
    await sink.sendDirect();
    expect(posts()).toHaveLength(1);
    expect(JSON.stringify(posts()[0]!.body.blocks)).toContain('if the process stops first, it is lost');
    for (let i = 0; i < 3; i += 1) await sink.raise({ source: 'exchange', severity: 'warning', title: `spread is wide ${i}` });
    expect(sink.buffered).toBe(3);
    bed.proxy.set('forward');
    expect(await sink.flushBuffered()).toBe(0);
    const groups = await database().db.select().from(alertGroups);
    expect(groups.map((g) => g.fingerprint).sort()).toEqual(['exchange:spread is wide 1', 'exchange:spread is wide 2', 'kill']);
    expect(groups.find((g) => g.fingerprint === 'kill')!.slackTs).not.toBeNull();
  });
});

describe('a critical alert whose write stalls (the database neither answers nor refuses)', () => {
  it('is not held back by the delivery tick storing the buffer into a database that hangs', async () => {
    const clock = new ManualClock('2026-01-05T12:00:00Z');
    const { sink } = await bot(clock, 'all', { KILL_DB_TIMEOUT: '300ms' });
    bed.proxy.set('down');
    bed.slack.on('chat.postMessage', () => ({ body: { ok: false, error: 'internal_error' } }));
    await sink.raise({ source: 'kill', severity: 'critical', title: 'kill saved in DATA_DIR', fingerprint: 'kill' });
    await sink.sendDirect(); // refused by Slack: kept, tried again
    bed.slack.on('chat.postMessage', (body) => ({ body: { ok: true, channel: body.channel, ts: '1700000000.000777' } }));
    bed.proxy.set('stall');
    clock.advance(10_000);
    // The tick's flush finds the database not answering in time and sends what is due meanwhile.
    const flushed = await Promise.race([sink.flushBuffered(), new Promise<'held'>((r) => setTimeout(() => r('held'), 5_000))]);
    expect(flushed).toBe(1);
    expect(posts().filter((c) => String(c.body.text).includes(UNREACHABLE))).toHaveLength(2); // the refused try, then the one that went
  });

  it('tick after tick, probes of the database that hangs share one connection (the pool stays for the kill)', async () => {
    const clock = new ManualClock('2026-01-05T12:00:00Z');
    const { sink } = await bot(clock, 'all', { KILL_DB_TIMEOUT: '300ms' });
    bed.proxy.set('down');
    await sink.raise({ source: 'kill', severity: 'critical', title: 'kill saved in DATA_DIR', fingerprint: 'kill' });
    bed.proxy.set('stall');
    for (let i = 0; i < 3; i += 1) {
      clock.advance(10_000);
      expect(await sink.flushBuffered()).toBe(1);
    }
    const end = Date.now() + 10_000;
    while (bed.proxy.connections === 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
    expect(bed.proxy.connections).toBe(1);
  });

  it('goes out directly after KILL_DB_TIMEOUT; when the write goes through, that message becomes its alert', async () => {
    const clock = new ManualClock('2026-01-05T12:00:00Z');
    const { sink, runtime } = await bot(clock, 'all', { KILL_DB_TIMEOUT: '300ms' });
    await database().db.select().from(alertGroups); // (the test's own connection is not bed.proxied)
    bed.proxy.set('stall');
    const raised = sink.raise({ source: 'engine', severity: 'critical', title: 'lease unconfirmed', fingerprint: 'lease' });
    const end = Date.now() + 10_000;
    while (posts().length === 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
    expect(posts()).toHaveLength(1);
    expect(textOf(posts()[0]!)).toContain(UNREACHABLE);
    bed.proxy.set('forward');
    await raised;
    expect(sink.buffered).toBe(0);
    const [group] = await database().db.select().from(alertGroups);
    expect(group!.slackTs).not.toBeNull();
    for (let i = 0; i < 3; i += 1) {
      await runtime.delivery.tick();
      await database().db.execute(sql`update alert_slack_pacing set next_at = 'epoch'`);
    }
    expect(bed.slack.callsTo('chat.update').map((u) => u.body.ts)).toEqual([group!.slackTs]);
    expect(posts().filter((c) => !c.body.thread_ts)).toHaveLength(1); // not posted a second time
  });
});

describe('the running bot (its delivery tick every second) while its database is cut and back', () => {
  it('posts a fatal log line’s critical alert at once, then makes that message its alert with buttons: one channel message', async () => {
    const config = alertConfig(bed.slack, { SLACK_RETRY_PAUSE: '10ms' });
    const logger = createLogger({ config, stdout: false, files: false, destination: new Writable({ write: (_c, _e, cb) => cb() }) });
    const running = await startBot({ config, role: 'all', feed: 'replay', port: 0, logger, database: bed.proxied, features: [alertsFeature] });
    try {
      const until = async (done: () => boolean | Promise<boolean>) => {
        const end = Date.now() + 30_000;
        while (!(await done()) && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
      };
      // The tick read the state while the database answered: an alert raised without it shows that.
      await until(() => badgeKnownNow(bed.proxied.db, false).readAt !== undefined);
      bed.proxy.set('down');
      logger.fatal('ledger write failed'); // the log-line source raises it critical
      await until(() => posts().length > 0);
      expect(posts()).toHaveLength(1);
      expect(textOf(posts()[0]!)).toMatch(/^\[PAPER\] /);
      expect(textOf(posts()[0]!)).toContain(`[CRITICAL] log: ledger write failed — ${UNREACHABLE}`);
      expect(posts()[0]!.body.channel).toBe(ALERTS_CHANNEL);
      bed.proxy.set('forward');
      await until(() => bed.slack.callsTo('chat.update').length > 0);
      const [group] = await database().db.select().from(alertGroups);
      expect(group?.slackTs).not.toBeNull();
      expect(bed.slack.callsTo('chat.update').map((u) => u.body.ts)).toEqual([group!.slackTs]);
      expect(JSON.stringify(bed.slack.callsTo('chat.update')[0]!.body.blocks)).toContain('It was sent to the alerts channel without the database');
      // Nothing about it was posted to the channel a second time.
      expect(posts().filter((c) => !c.body.thread_ts && textOf(c).includes('ledger write failed'))).toHaveLength(1);
    } finally {
      await running.stop();
    }
  });
});
