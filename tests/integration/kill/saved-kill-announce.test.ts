// One kill saved in DATA_DIR, replayed by two processes at once (two shells' `ctb self-heal` here;
// the bot's halt watcher and a shell's self-heal in the field): both find it written, and it is
// announced once — by the process whose transaction wrote it first (kill_replays). A replay that
// wrote it and then failed or died before announcing it leaves the entry in DATA_DIR: its own next
// try, or after the lease any process's, announces it — once.
import { mkdtempSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { createOutboxAlertSink } from '../../../src/alerts/sink.js';
import { execute } from '../../../src/db/client.js';
import { alertEvents, incidents, killReplays } from '../../../src/db/schema/index.js';
import { silentLogger } from '../../../src/logger.js';
import { addPendingKill, readPendingKills } from '../../../src/services/kill/pending-kill.js';
import { ANNOUNCE_LEASE_MS } from '../../../src/services/kill/persist-kill.js';
import { startHaltWatcher } from '../../../src/services/kill/halt-watcher.js';
import { replayPendingKills, type ReplayDeps } from '../../../src/services/kill/replay-pending.js';
import { ctbChildInShell } from '../../support/ctb-shell.js';
import { killTestContext, recordingDatabase, useKillTestDb, whileTableLocked } from '../../support/kill-context.js';

const kill = useKillTestDb(['kill_replays', 'incident_checklist_items', 'incidents', 'bot_state', 'alert_events', 'alert_deliveries', 'alert_groups', 'engine_requests']);

/** Sessions of the test database waiting for a lock in the kill's transaction (bot_state, incidents). */
async function waitingInKillWrite(): Promise<number> {
  const rows = await execute<{ n: number }>(kill.db().db, sql`
    select count(*)::int as n from pg_stat_activity
    where datname = current_database() and wait_event_type = 'Lock' and (query ilike '%bot_state%' or query ilike '%incidents%')`);
  return rows[0]!.n;
}

describe('a saved kill replayed by two processes at once', () => {
  it('is written once and announced once: one alert, one kill_replays row naming the process that wrote it', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'ctb-raced-'));
    await addPendingKill(dataDir, {
      killId: 'raced-kill', at: '2026-03-02T09:59:00.000Z', actor: 'cli:ops', actorSource: 'cli', trigger: 'manual', reason: 'raced replay', cancelReport: {},
    });
    const env = { DATABASE_URL: kill.db().url, DATA_DIR: dataDir, KILL_DB_TIMEOUT: '60s' };
    const shells: Array<ReturnType<typeof ctbChildInShell>> = [];
    // incidents held locked: the first replay waits inside its transaction (bot_state locked FOR
    // UPDATE), the second on that lock — both have read the saved kill before either writes it.
    await whileTableLocked(kill.db().url, 'incidents', async () => {
      shells.push(ctbChildInShell(['self-heal', '--attempts', '1'], env), ctbChildInShell(['self-heal', '--attempts', '1'], env));
      const deadline = Date.now() + 60_000;
      while ((await waitingInKillWrite()) < 2) {
        if (Date.now() > deadline) throw new Error(`the two replays never met in the kill's write:\n${shells.map((s) => s.stderr()).join('\n')}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    });
    for (const shell of shells) await shell.exited;
    const db = kill.db().db;
    expect(await db.select().from(incidents)).toHaveLength(1);
    expect(readPendingKills(dataDir)).toEqual([]);
    const announced = (await db.select().from(alertEvents)).filter((e) => e.source === 'kill' && e.title.startsWith('A kill saved in DATA_DIR'));
    expect(announced, shells.map((s) => s.stdout()).join('\n')).toHaveLength(1);
    const replays = await db.select().from(killReplays);
    expect(replays).toEqual([expect.objectContaining({ killId: 'raced-kill', replayedBy: expect.stringMatching(/:\d+$/) })]);
  }, 180_000);
});

/** The critical alerts announcing a saved kill, as stored in the outbox. */
async function announcements() {
  return (await kill.db().db.select().from(alertEvents)).filter((e) => e.source === 'kill' && e.title.startsWith('A kill saved in DATA_DIR'));
}

/** Polls `done` every 50 ms until it holds; throws after 60 s (a bound against a hang, not a margin the test relies on). */
async function until(what: string, done: () => Promise<boolean>): Promise<void> {
  const end = Date.now() + 60_000;
  while (!(await done())) {
    if (Date.now() > end) throw new Error(`never: ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * This process (the test's) replaying the saved kill with the bot's outbox sink, twice: `hung` with a
 * 300 ms deadline, `patient` with 60 s. The same process (host:pid) for both, as the bot's halt
 * watcher is from one poll to the next.
 */
async function replayers(dataDir: string): Promise<{ hung: ReplayDeps; patient: ReplayDeps }> {
  const t = await killTestContext({ database: kill.track(recordingDatabase(kill.db().url, [])), dataDir });
  kill.track({ close: () => t.ctx.close() });
  const alerts = createOutboxAlertSink({ db: t.ctx.db, clock: t.clock, logger: silentLogger(), config: t.ctx.config });
  return {
    hung: { ...t.ctx, alerts, config: { ...t.ctx.config, KILL_DB_TIMEOUT: 300 } },
    patient: { ...t.ctx, alerts, config: { ...t.ctx.config, KILL_DB_TIMEOUT: 60_000 } },
  };
}

/** The saved kill written by a replay that gave up at its deadline: its transaction committed later, nothing announced it. */
async function writtenAfterItsDeadline(hung: ReplayDeps): Promise<void> {
  await whileTableLocked(kill.db().url, 'incidents', async () => {
    expect((await replayPendingKills(hung)).error).toMatch(/database/);
  });
  await until('the late write commits', async () => (await kill.db().db.select().from(incidents)).length === 1);
  expect(await announcements()).toEqual([]);
  expect(readPendingKills(hung.config.DATA_DIR).map((k) => k.killId)).toEqual(['late-kill']);
}

const lateKill = { killId: 'late-kill', at: '2026-03-02T09:59:00.000Z', actor: 'cli:ops', actorSource: 'cli' as const, trigger: 'manual' as const, reason: 'late write', cancelReport: {} };

describe('a saved kill whose replay wrote it and then did not announce it', () => {
  it('its write committed after the replay gave up at its deadline: the next replay of the same process announces it, once', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'ctb-late-'));
    await addPendingKill(dataDir, lateKill);
    const { hung, patient } = await replayers(dataDir);
    await writtenAfterItsDeadline(hung);

    expect(await replayPendingKills(patient)).toMatchObject({ written: ['late-kill'], remaining: 0 });
    expect(await announcements()).toHaveLength(1);
    expect(readPendingKills(dataDir)).toEqual([]);
    expect(await kill.db().db.select().from(killReplays)).toEqual([
      expect.objectContaining({ killId: 'late-kill', replayedBy: `${hostname()}:${process.pid}`, announcedAt: expect.any(Date) })]);
    // Written and announced: a later replay of a copy of the entry says nothing more.
    await addPendingKill(dataDir, lateKill);
    expect(await replayPendingKills(patient)).toMatchObject({ written: ['late-kill'], remaining: 0 });
    expect(await announcements()).toHaveLength(1);
    expect(readPendingKills(dataDir)).toEqual([]);
  }, 120_000);

  it('the process that wrote it died before announcing: another process leaves it to that one within the lease, then takes it over — two at once announce it once', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'ctb-died-'));
    await addPendingKill(dataDir, lateKill);
    const { hung } = await replayers(dataDir);
    await writtenAfterItsDeadline(hung);
    const env = { DATABASE_URL: kill.db().url, DATA_DIR: dataDir, KILL_DB_TIMEOUT: '60s' };

    // Within the lease the writer may still be announcing it: another process leaves it, entry and all.
    const early = ctbChildInShell(['self-heal', '--attempts', '1'], env);
    await early.exited;
    expect(await announcements(), early.stderr()).toEqual([]);
    expect(readPendingKills(dataDir).map((k) => k.killId)).toEqual(['late-kill']);

    // The writer never came back (this test process stands for it and does not replay again): past the lease, taken over.
    await kill.db().db.update(killReplays).set({ replayedAt: sql`now() - ${ANNOUNCE_LEASE_MS + 60_000} * interval '1 millisecond'` });
    const shells = [ctbChildInShell(['self-heal', '--attempts', '1'], env), ctbChildInShell(['self-heal', '--attempts', '1'], env)];
    for (const shell of shells) await shell.exited;
    expect(await announcements(), shells.map((s) => s.stderr()).join('\n')).toHaveLength(1);
    expect(readPendingKills(dataDir)).toEqual([]);
    const [row] = await kill.db().db.select().from(killReplays);
    expect(row).toMatchObject({ killId: 'late-kill', announcedAt: expect.any(Date) });
    expect(row!.replayedBy).not.toBe(`${hostname()}:${process.pid}`);
  }, 240_000);
});

describe('a saved kill another process is announcing', () => {
  it("the halt watcher leaves it alone until that process's lease can be over: no write, no log line at each poll; then takes it over, once", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'ctb-wait-'));
    await addPendingKill(dataDir, lateKill);
    // Another process wrote it a moment ago and is announcing it.
    await kill.db().db.insert(killReplays).values({ killId: 'late-kill', replayedAt: sql`now()`, replayedBy: 'other-host:4242' });
    const events: string[] = [];
    const lines: Array<{ msg: string }> = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line) as { msg: string }) });
    const t = await killTestContext({ database: kill.track(recordingDatabase(kill.db().url, events, 200)), dataDir });
    kill.track({ close: () => t.ctx.close() });
    const alerts = createOutboxAlertSink({ db: t.ctx.db, clock: t.clock, logger: silentLogger(), config: t.ctx.config });
    const watcher = await startHaltWatcher({ ...t.ctx, logger, alerts }, { timer: false });
    kill.track({ close: () => watcher.stop() });
    const waiting = () => lines.filter((l) => l.msg.includes('another process announces it'));
    const replayWork = () => events.filter((e) => /kill_replays|incidents/.test(e));
    expect(waiting()).toHaveLength(1);
    expect(replayWork()).not.toEqual([]);

    // The database would let it be taken over now (the claim is past the lease there), but this process
    // found it claimed a moment ago: it cannot know the claim is over, and its polls do nothing about it.
    await kill.db().db.update(killReplays).set({ replayedAt: sql`now() - ${ANNOUNCE_LEASE_MS + 60_000} * interval '1 millisecond'` });
    events.length = 0;
    for (let poll = 0; poll < 5; poll++) await watcher.check();
    expect(replayWork()).toEqual([]);
    expect(waiting()).toHaveLength(1);
    expect(await announcements()).toEqual([]);
    expect(readPendingKills(dataDir).map((k) => k.killId)).toEqual(['late-kill']);

    // Its lease over on this process's clock: the next poll takes the announcement over, once.
    t.clock.advance(ANNOUNCE_LEASE_MS + 1);
    await watcher.check();
    await watcher.check();
    expect(await announcements()).toHaveLength(1);
    expect(readPendingKills(dataDir)).toEqual([]);
    const [row] = await kill.db().db.select().from(killReplays);
    expect(row).toMatchObject({ killId: 'late-kill', replayedBy: `${hostname()}:${process.pid}`, announcedAt: expect.any(Date) });
  }, 60_000);
});
