// Storing an alert kept in memory while the database was away (the delivery tick's flush): a store
// that hangs gives up at KILL_DB_TIMEOUT instead of holding the tick, and a store that gave up but
// committed all the same (its bytes went through once the database answered) is never stored a
// second time — on real PostgreSQL behind a TCP proxy that stalls or refuses.
import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { createOutboxAlertSink, type OutboxAlertSink } from '../../../src/alerts/sink.js';
import { ManualClock } from '../../../src/clock.js';
import { alertDeliveries, alertEvents, alertGroups } from '../../../src/db/schema/index.js';
import { silentLogger } from '../../../src/logger.js';
import { execute } from '../../../src/db/client.js';
import { usePostgresTestDb } from '../../support/db.js';
import { holdTableLock } from '../../support/table-lock.js';
import { useAlertOutageBed } from '../../support/alert-outage-bed.js';
import { ALERT_TABLES, alertConfig } from '../../support/alert-fixtures.js';

const database = usePostgresTestDb({ truncate: [...ALERT_TABLES, 'bot_state'] });

const bed = useAlertOutageBed(database);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Polls until `done` (10 s at most). */
async function until(done: () => Promise<boolean>): Promise<void> {
  const end = Date.now() + 10_000;
  while (!(await done()) && Date.now() < end) await sleep(20);
}
const eventCount = async () => (await database().db.select().from(alertEvents)).length;
/** Times a flush of the buffer: what it left buffered, and how long it held the tick. */
async function timedFlush(sink: OutboxAlertSink): Promise<{ left: number | 'held'; ms: number }> {
  const t0 = Date.now();
  const left = await Promise.race([sink.flushBuffered(), sleep(5_000).then(() => 'held' as const)]);
  return { left, ms: Date.now() - t0 };
}

describe('storing an alert kept while the database was away', () => {
  it('gives up at KILL_DB_TIMEOUT when the database stalls, and a try that committed later is not stored twice', async () => {
    const clock = new ManualClock('2026-01-05T12:00:00Z');
    // No alerts channel: no direct lane, so the flush goes straight to the store (no answering check first).
    const config = alertConfig(null, { KILL_DB_TIMEOUT: '300ms' });
    const sink = createOutboxAlertSink({ db: bed.proxied.db, clock, logger: silentLogger(), config, deliveryTick: true });
    bed.proxy.set('down');
    await sink.raise({ source: 'exchange', severity: 'warning', title: 'spread is wide', fingerprint: 'spread' });
    expect(sink.buffered).toBe(1);

    // The database neither answers nor refuses: the store's bytes are held.
    bed.proxy.set('stall');
    clock.advance(30_000);
    const stalled = await timedFlush(sink);
    expect(stalled.left).toBe(1);
    expect(stalled.ms).toBeLessThan(3_000);

    // The held bytes go through: the try that gave up commits after all.
    bed.proxy.set('forward');
    await until(async () => (await eventCount()) > 0);
    expect(await eventCount()).toBe(1);

    // The next flush finds it stored under its key: not stored a second time, and let go.
    expect(await sink.flushBuffered()).toBe(0);
    const events = await database().db.select().from(alertEvents);
    expect(events).toHaveLength(1);
    expect(events[0]!.raiseKey).toMatch(/^[0-9a-f-]{36}$/);
    const groups = await database().db.select().from(alertGroups);
    expect(groups.map((g) => [g.fingerprint, g.count])).toEqual([['spread', 1]]);
  });

  it('stores given up at their deadline on a lock hold one connection between them: the pool answers others, each alert stored once', async () => {
    const clock = new ManualClock('2026-01-05T12:00:00Z');
    const config = alertConfig(null, { KILL_DB_TIMEOUT: '300ms' });
    const sink = createOutboxAlertSink({ db: bed.proxied.db, clock, logger: silentLogger(), config, deliveryTick: true });
    bed.proxy.set('down');
    for (let i = 1; i <= 6; i += 1) await sink.raise({ source: 'exchange', severity: 'warning', title: `spread ${i} is wide`, fingerprint: `spread-${i}` });
    expect(sink.buffered).toBe(6);
    bed.proxy.set('forward');

    // The database answers, but every store waits on a lock: each tick's flush gives up at its deadline.
    const lock = await holdTableLock(database().db, 'alert_groups', { mode: 'exclusive' });
    try {
      clock.advance(30_000);
      for (let i = 0; i < 6; i += 1) expect((await timedFlush(sink)).left).toBe(6);
      // More ticks than the pool has connections (4): the pool still answers the kill, the engine
      // (a pool held by the given-up stores would leave this query waiting, and the test timing out).
      expect(await execute<{ one: number }>(bed.proxied.db, sql`select 1 as one`)).toEqual([{ one: 1 }]);
      // This database's waiters only: the server is shared with other runs' databases.
      const waiting = async () => Number((await execute<{ n: number }>(database().db, sql`select count(*)::int as n from pg_locks
        where not granted and database = (select oid from pg_database where datname = current_database())`))[0]?.n ?? 0);
      await until(async () => (await waiting()) > 0);
      expect(await waiting()).toBe(1);
    } finally {
      await lock.release();
    }
    await until(async () => (await sink.flushBuffered()) === 0);
    expect(sink.buffered).toBe(0);
    const groups = await database().db.select().from(alertGroups).orderBy(alertGroups.id);
    expect(groups.map((g) => [g.fingerprint, g.count])).toEqual([1, 2, 3, 4, 5, 6].map((i) => [`spread-${i}`, 1]));
    const events = await database().db.select().from(alertEvents);
    expect(new Set(events.map((e) => e.raiseKey)).size).toBe(6);
  });

  it('a first write that errored after the database committed it (the answer was lost) is not stored again', async () => {
    const clock = new ManualClock('2026-01-05T12:00:00Z');
    // No stall in this test until the deaf write: a first raise slower than the deadline (a loaded
    // machine) would probe the database on a second connection, and the deaf write, taken there,
    // would need answers (its handshake, its statement's description) before reaching the database.
    const config = alertConfig(null, { KILL_DB_TIMEOUT: '30s' });
    const sink = createOutboxAlertSink({ db: bed.proxied.db, clock, logger: silentLogger(), config, deliveryTick: true });
    // A first alert opens the connection (its handshake needs answers) and prepares the write on it.
    await sink.raise({ source: 'exchange', severity: 'info', title: 'book refreshed', fingerprint: 'book' });
    expect(await eventCount()).toBe(1);
    // The only connection of the pool: the next write goes on it.
    expect(bed.proxy.connections).toBe(1);
    // The next write reaches the database and commits; its answer never comes back, and the connection drops.
    bed.proxy.set('deaf');
    const raising = sink.raise({ source: 'exchange', severity: 'warning', title: 'spread is wide', fingerprint: 'spread' });
    await until(async () => (await eventCount()) > 1);
    expect(await eventCount()).toBe(2);
    bed.proxy.set('down');
    await raising;
    expect(sink.buffered).toBe(1);

    bed.proxy.set('forward');
    clock.advance(30_000);
    expect(await sink.flushBuffered()).toBe(0);
    expect(await eventCount()).toBe(2);
    const groups = await database().db.select().from(alertGroups).orderBy(alertGroups.id);
    expect(groups.map((g) => [g.fingerprint, g.count])).toEqual([['book', 1], ['spread', 1]]);
  });

  it('a direct message\'s alert whose store waited past the deadline (a lock) and then committed: stored and adopted once', async () => {
    const clock = new ManualClock('2026-01-05T12:00:00Z');
    const config = alertConfig(bed.slack, { SLACK_RETRY_PAUSE: '10ms', KILL_DB_TIMEOUT: '300ms' });
    const { sink } = await bed.openAlerts(config, clock);
    bed.slack.on('chat.postMessage', (body) => ({ body: { ok: true, channel: body.channel, ts: '1700000000.000001' } }));
    bed.proxy.set('down');
    await sink.raise({ source: 'engine', severity: 'critical', title: 'lease unconfirmed', fingerprint: 'lease' });
    await sink.sendDirect();
    expect(bed.slack.callsTo('chat.postMessage')).toHaveLength(1);
    bed.proxy.set('forward');

    // The database answers, but the store waits on a lock past the deadline.
    const lock = await holdTableLock(database().db, 'alert_groups', { mode: 'exclusive' });
    clock.advance(30_000);
    const waited = await timedFlush(sink);
    expect(waited.left).toBe(1);
    expect(waited.ms).toBeLessThan(3_000);
    // A second try while the first still waits gives up too (it would wait for the first's commit).
    expect((await timedFlush(sink)).left).toBe(1);
    await lock.release();
    await until(async () => (await eventCount()) > 0);

    expect(await sink.flushBuffered()).toBe(0);
    await sleep(200); // a second store, had one been made, would have committed by now
    const [group, ...others] = await database().db.select().from(alertGroups);
    expect(others).toHaveLength(0);
    expect(group!.count).toBe(1);
    expect(group!.slackTs).toBe('1700000000.000001');
    expect(await eventCount()).toBe(1);
    // Adopted as its group's parent in the try that committed: no "where it lives" note for a second one.
    const notes = await database().db.select().from(alertDeliveries);
    expect(notes.filter((d) => d.kind !== 'slack_sync')).toHaveLength(0);
  });

  it('a direct message sent between a try that gave up (and committed later) and the next: tied to the stored alert, shown once', async () => {
    const clock = new ManualClock('2026-01-05T12:00:00Z');
    const config = alertConfig(bed.slack, { SLACK_RETRY_PAUSE: '10ms', KILL_DB_TIMEOUT: '300ms' });
    const { runtime, sink } = await bed.openAlerts(config, clock);
    // Slack refuses the first direct send and takes the next.
    let slackUp = false;
    bed.slack.on('chat.postMessage', (body) => slackUp
      ? { body: { ok: true, channel: body.channel, ts: '1700000000.000002' } }
      : { body: { ok: false, error: 'channel_not_found' } });
    bed.proxy.set('down');
    await sink.raise({ source: 'engine', severity: 'critical', title: 'lease unconfirmed', fingerprint: 'lease' });
    await sink.sendDirect();
    expect(bed.slack.callsTo('chat.postMessage')).toHaveLength(1);
    bed.proxy.set('forward');
    slackUp = true;

    // The first store waits on a lock past its deadline, before anything was sent; the direct send goes meanwhile.
    const lock = await holdTableLock(database().db, 'alert_groups', { mode: 'exclusive' });
    clock.advance(30_000);
    expect(await sink.flushBuffered()).toBe(1);
    await sink.sendDirect();
    expect(bed.slack.callsTo('chat.postMessage')).toHaveLength(2);
    // The try that gave up commits once the lock goes.
    await lock.release();
    await until(async () => (await eventCount()) > 0);

    // The next try finds it stored: the message sent since becomes its group's parent.
    expect(await sink.flushBuffered()).toBe(0);
    const [group, ...others] = await database().db.select().from(alertGroups);
    expect(others).toHaveLength(0);
    expect(group!.slackTs).toBe('1700000000.000002');
    expect(await eventCount()).toBe(1);
    for (let i = 0; i < 3; i += 1) {
      await runtime.delivery.tick();
      await database().db.execute(sql`update alert_slack_pacing set next_at = 'epoch'`);
    }
    // Shown once: the group's sync updates the direct message instead of posting a second parent.
    const parents = bed.slack.callsTo('chat.postMessage').filter((c) => !c.body.thread_ts && c.body.channel === group!.slackChannel);
    expect(parents).toHaveLength(2); // the refused try and the one that went
    expect(bed.slack.callsTo('chat.update').length).toBeGreaterThan(0);
  });
});

describe('a write that hung while the database stalled and committed once it answered', () => {
  it('is stored marked late (raised at, stored at) whatever its severity, and its Slack message says so; a prompt one is not', async () => {
    const clock = new ManualClock('2026-01-05T12:00:00Z');
    const config = alertConfig(bed.slack, { SLACK_RETRY_PAUSE: '10ms', KILL_DB_TIMEOUT: '1s' });
    const { runtime, sink } = await bed.openAlerts(config, clock);
    await sink.raise({ source: 'exchange', severity: 'info', title: 'book refreshed', fingerprint: 'prompt' });

    bed.proxy.set('stall');
    const raising = sink.raise({ source: 'exchange', severity: 'warning', title: 'spread is wide', fingerprint: 'spread' });
    // A warning has no direct message: its write waits until the sink finds the database not answering.
    await until(async () => sink.stalled === 1);
    expect(sink.stalled).toBe(1);
    clock.advance(90_000);
    bed.proxy.set('forward');
    await raising;
    expect(sink.buffered).toBe(0);
    expect(sink.stalled).toBe(0);

    const events = await database().db.select().from(alertEvents).orderBy(alertEvents.id);
    expect(events.map((e) => (e.details as Record<string, unknown>)._outage === undefined)).toEqual([true, false]);
    expect((events[1]!.details as Record<string, unknown>)._outage).toMatchObject({ raisedAt: '2026-01-05T12:00:00.000Z', storedAt: '2026-01-05T12:01:30.000Z', stalled: true });

    for (let i = 0; i < 3; i += 1) {
      await runtime.delivery.tick();
      await database().db.execute(sql`update alert_slack_pacing set next_at = 'epoch'`);
    }
    const parents = bed.slack.callsTo('chat.postMessage').filter((c) => !c.body.thread_ts);
    const spread = parents.find((c) => String(c.body.text).includes('spread is wide'))!;
    expect(JSON.stringify(spread.body.blocks)).toContain('its write waited on the database');
    expect(JSON.stringify(spread.body.blocks)).toContain('1m 30s late');
    const prompt = parents.find((c) => String(c.body.text).includes('book refreshed'))!;
    expect(JSON.stringify(prompt.body.blocks)).not.toContain('LATE');
  });

  it('a write that was slow past KILL_DB_TIMEOUT while the database answered (a lock) is not marked late', async () => {
    const clock = new ManualClock('2026-01-05T12:00:00Z');
    const config = alertConfig(null, { KILL_DB_TIMEOUT: '300ms' });
    const sink = createOutboxAlertSink({ db: bed.proxied.db, clock, logger: silentLogger(), config, deliveryTick: true });
    const lock = await holdTableLock(database().db, 'alert_groups', { mode: 'exclusive' });
    const raising = sink.raise({ source: 'exchange', severity: 'warning', title: 'spread is wide', fingerprint: 'spread' });
    const waiting = async () => Number((await database().db.execute(sql`select count(*)::int as n from pg_locks where not granted and database = (select oid from pg_database where datname = current_database())`) as unknown as Array<{ n: number }>)[0]?.n ?? 0) > 0;
    await until(waiting);
    expect(await waiting()).toBe(true);
    await sleep(1_500); // well past KILL_DB_TIMEOUT: the database answers meanwhile
    await lock.release();
    await raising;
    const events = await database().db.select().from(alertEvents);
    expect(events).toHaveLength(1);
    expect((events[0]!.details as Record<string, unknown>)._outage).toBeUndefined();
  });
});

describe('the page of an alert stored late', () => {
  it('says, in the DM, when it was raised and when it was stored', async () => {
    const clock = new ManualClock('2026-01-05T12:00:00Z');
    const config = alertConfig(bed.slack, { SLACK_RETRY_PAUSE: '10ms' });
    const { runtime, sink } = await bed.openAlerts(config, clock);
    bed.proxy.set('down');
    await sink.raise({ source: 'engine', severity: 'critical', title: 'lease unconfirmed', fingerprint: 'lease' });
    await sink.sendDirect();
    clock.advance(60_000);
    bed.proxy.set('forward');
    expect(await sink.flushBuffered()).toBe(0);
    // Nobody on call: the first rung pages the approvers by DM.
    expect(await runtime.escalation.tick()).toBe(1);
    for (let i = 0; i < 4; i += 1) {
      await runtime.delivery.tick();
      await database().db.execute(sql`update alert_slack_pacing set next_at = 'epoch'`);
    }
    const dms = bed.slack.callsTo('chat.postMessage').filter((c) => String(c.body.channel).startsWith('UAPPROVER'));
    expect(dms.map((c) => c.body.channel).sort()).toEqual(['UAPPROVER1', 'UAPPROVER2']);
    for (const dm of dms) {
      expect(String(dm.body.text)).toContain('You are paged');
      expect(String(dm.body.text)).toContain('LATE: raised at 2026-01-05 12:00:00 UTC');
      expect(String(dm.body.text)).toContain('stored at 2026-01-05 12:01:00 UTC, 1m 0s late');
    }
  });

  it('is for the alert that pages: a prompt critical in a group a late warning opened carries no LATE line', async () => {
    const clock = new ManualClock('2026-01-05T12:00:00Z');
    const config = alertConfig(bed.slack, { SLACK_RETRY_PAUSE: '10ms' });
    const { runtime, sink } = await bed.openAlerts(config, clock);
    bed.proxy.set('down');
    await sink.raise({ source: 'engine', severity: 'warning', title: 'lease slow', fingerprint: 'lease' });
    clock.advance(60_000);
    bed.proxy.set('forward');
    expect(await sink.flushBuffered()).toBe(0);
    await sink.raise({ source: 'engine', severity: 'critical', title: 'lease unconfirmed', fingerprint: 'lease' });
    expect(await runtime.escalation.tick()).toBe(1);
    for (let i = 0; i < 4; i += 1) {
      await runtime.delivery.tick();
      await database().db.execute(sql`update alert_slack_pacing set next_at = 'epoch'`);
    }
    const dms = bed.slack.callsTo('chat.postMessage').filter((c) => String(c.body.channel).startsWith('UAPPROVER'));
    expect(dms).toHaveLength(2);
    for (const dm of dms) {
      expect(String(dm.body.text)).toContain('You are paged');
      expect(String(dm.body.text)).not.toContain('LATE');
    }
  });
});

describe('a stalled critical whose late mark lands after escalation paged it', () => {
  it('its pages say LATE once each: queued ones in their text, sent ones (or being sent) by a line under them', async () => {
    const clock = new ManualClock('2026-01-05T12:00:00Z');
    const config = alertConfig(bed.slack, { SLACK_RETRY_PAUSE: '10ms', KILL_DB_TIMEOUT: '300ms', SLACK_APPROVERS: 'UAPPROVER1,UAPPROVER2,UAPPROVER3' });
    const { runtime, sink } = await bed.openAlerts(config, clock);
    // The direct message is held in Slack: the raise waits for it before marking its stored alert late.
    let releaseDirect!: () => void;
    const directHeld = new Promise<void>((r) => (releaseDirect = r));
    let directCalled!: () => void;
    const directSeen = new Promise<void>((r) => (directCalled = r));
    let releaseThird!: () => void;
    const thirdHeld = new Promise<void>((r) => (releaseThird = r));
    let thirdCalled!: () => void;
    const thirdSeen = new Promise<void>((r) => (thirdCalled = r));
    let seq = 0;
    const up = new Set(['UAPPROVER1']);
    let holdThird = false;
    let direct = true;
    const pageTs = new Map<string, string>();
    bed.slack.on('chat.postMessage', async (body) => {
      const ts = `1700000100.${String((seq += 1)).padStart(6, '0')}`;
      const ok = { body: { ok: true, channel: body.channel, ts } };
      const to = String(body.channel);
      if (to === 'C0ALERTS' && direct) {
        direct = false;
        directCalled();
        await directHeld;
        return ok;
      }
      if (to.startsWith('UAPPROVER') && !body.thread_ts && !up.has(to)) {
        if (to !== 'UAPPROVER3' || !holdThird) return { body: { ok: false, error: 'internal_error' } };
        thirdCalled();
        await thirdHeld;
      }
      if (to.startsWith('UAPPROVER') && !body.thread_ts) pageTs.set(to, ts);
      return ok;
    });
    const ticks = async (n: number) => {
      for (let i = 0; i < n; i += 1) {
        await runtime.delivery.tick();
        await database().db.execute(sql`update alert_slack_pacing set next_at = 'epoch'`);
      }
    };
    await eventCount(); // the test's own connection is not bed.proxied
    bed.proxy.set('stall');
    const raising = sink.raise({ source: 'engine', severity: 'critical', title: 'lease unconfirmed', fingerprint: 'lease' });
    await directSeen;
    clock.advance(60_000);
    bed.proxy.set('forward');
    await until(async () => (await eventCount()) > 0);

    // Stored, not yet marked: escalation pages the approvers; the first takes its DM, the others fail for now.
    expect(await runtime.escalation.tick()).toBe(1);
    await ticks(3);
    const dms = (user: string) => bed.slack.callsTo('chat.postMessage').filter((c) => c.body.channel === user && !c.body.thread_ts && !String(c.body.text).includes('could NOT'));
    const first = dms('UAPPROVER1');
    expect(first).toHaveLength(1);
    expect(String(first[0]!.body.text)).not.toContain('LATE');
    // The third's page is being handed to Slack when the mark lands.
    holdThird = true;
    await database().db.execute(sql`update alert_deliveries set next_attempt_at = now() where target = 'UAPPROVER3'`);
    const sending = runtime.delivery.tick();
    await thirdSeen;
    releaseDirect();
    await raising;
    releaseThird();
    await sending;

    up.add('UAPPROVER2');
    await database().db.execute(sql`update alert_deliveries set next_attempt_at = now() where status = 'pending'`);
    await database().db.execute(sql`update alert_slack_pacing set next_at = 'epoch'`);
    await ticks(4);
    const late = 'LATE: raised at 2026-01-05 12:00:00 UTC by ';
    const followUps = (user: string) => bed.slack.callsTo('chat.postMessage').filter((c) => c.body.channel === user && c.body.thread_ts);
    // Sent before the mark: a line under it. Queued: its text says so, nothing under it. Being sent: a line under it.
    for (const user of ['UAPPROVER1', 'UAPPROVER3']) {
      const under = followUps(user);
      expect(under).toHaveLength(1);
      expect(under[0]!.body.thread_ts).toBe(pageTs.get(user));
      expect(String(under[0]!.body.text)).toContain(late);
      expect(String(under[0]!.body.text)).toContain('its write waited on the database; stored at 2026-01-05 12:01:00 UTC');
    }
    const second = dms('UAPPROVER2').filter((c) => !String(c.body.text).includes('internal_error'));
    expect(second.length).toBeGreaterThan(0);
    expect(String(second.at(-1)!.body.text)).toContain(late);
    expect(followUps('UAPPROVER2')).toHaveLength(0);
  });
});
