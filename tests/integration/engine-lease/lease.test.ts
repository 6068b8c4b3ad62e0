// The engine lease in one process: the row's rules on PostgreSQL and PGlite (taken when empty or
// stale, renewed only by its holder, released on a graceful stop), the keeper's fence (a renewal that
// finds another holder, or none confirmed for most of the TTL, stops trading at once), a running bot
// that loses its lease placing no order after it, and /healthz naming the holder.
import { sql, type SQL } from 'drizzle-orm';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startBot, type RunningBot } from '../../../src/app/runtime.js';
import { testConfig } from '../../../src/config/env.js';
import { connectPostgres, execute, type Database } from '../../../src/db/client.js';
import { engineFeature } from '../../../src/app/features/engine.js';
import { healthFeature } from '../../../src/http/health.js';
import { silentLogger } from '../../../src/logger.js';
import pino from 'pino';
import { readBootId } from '../../../src/services/engine-lease/holder-gone.js';
import { createLeaseKeeper } from '../../../src/services/engine-lease/keeper.js';
import { holdsLease } from '../../../src/services/engine-lease/runtime.js';
import { acquireLease, readLease, releaseLease, renewLease, writeLeaseWaiting, type LeaseClaim } from '../../../src/db/queries/engine-lease.js';
import { ENGINE_START_STEP, GATE_NOT_RECORDED_WHY, holderProgressPhrase } from '../../../src/domain/engine-waiting.js';
import { holderView } from '../../../src/domain/engine-holder.js';
import { createWaitingRecord } from '../../../src/services/engine-lease/waiting-record.js';
import { waitUntil } from '../../support/bot-process.js';
import { createPgliteTestDb, createPostgresTestDb, type TestDatabase } from '../../support/db.js';
import { startStallProxy, type StallProxy } from '../../support/stall-proxy.js';
import { writeTradingReplay } from '../../support/trading-replay.js';
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';

const claim = (name: string, over: Partial<LeaseClaim> = {}): LeaseClaim => ({
  holderId: `${name}:1:00000000`, host: name, pid: 1, role: 'worker', feed: 'kraken', armed: false, hasKrakenKeys: false, ...over,
});

const makeStale = (database: Database) => database.db.execute(sql`update engine_lease set heartbeat_at = now() - interval '1 hour'`);

describe.each(['postgres', 'pglite'] as const)('the engine_lease row on %s', (kind) => {
  let database: Database;
  beforeAll(async () => {
    database = kind === 'postgres' ? await createPostgresTestDb() : await createPgliteTestDb();
  });
  afterAll(async () => {
    await database?.close();
  });
  afterEach(async () => {
    await database.db.execute(sql`delete from engine_lease`);
  });

  it('is taken when empty, refused to a second claimant while fresh, and renewed only by its holder', async () => {
    const first = await acquireLease(database.db, claim('a', { armed: true, hasKrakenKeys: true }), 15_000);
    expect(first).toMatchObject({ acquired: true, takenOverFrom: null, lease: { holderId: 'a:1:00000000', armed: true, hasKrakenKeys: true } });
    const second = await acquireLease(database.db, claim('b'), 15_000);
    expect(second).toMatchObject({ acquired: false, lease: { holderId: 'a:1:00000000' } });
    expect(await renewLease(database.db, claim('b'))).toBe(false);
    expect(await renewLease(database.db, claim('a', { armed: true, hasKrakenKeys: true }))).toBe(true);
    expect((await readLease(database.db)).lease?.holderId).toBe('a:1:00000000');
  });

  it('is taken over when stale, naming the holder it was taken from; the old holder can neither renew nor release it', async () => {
    await acquireLease(database.db, claim('a'), 15_000);
    await makeStale(database);
    const taken = await acquireLease(database.db, claim('b'), 15_000);
    expect(taken).toMatchObject({ acquired: true, takenOverFrom: 'a:1:00000000', lease: { holderId: 'b:1:00000000', takenOverFrom: 'a:1:00000000' } });
    expect(await renewLease(database.db, claim('a'))).toBe(false);
    expect(await releaseLease(database.db, 'a:1:00000000')).toBe(false);
    expect((await readLease(database.db)).lease?.holderId).toBe('b:1:00000000');
  });

  it("goes stale past its holder's TTL, not a standby's: a standby with a shorter TTL leaves a healthy holder's lease alone", async () => {
    await acquireLease(database.db, claim('a'), 60_000);
    const renewedAgo = (s: number) => database.db.execute(sql`update engine_lease set heartbeat_at = now() - make_interval(secs => ${s})`);
    await renewedAgo(20); // renewed every 20 s: healthy for a 60 s TTL, stale for a 15 s one
    expect(await acquireLease(database.db, claim('b'), 15_000)).toMatchObject({ acquired: false, lease: { holderId: 'a:1:00000000', ttlMs: 60_000 } });
    const { lease, dbNow } = await readLease(database.db);
    expect(holderView(lease, dbNow, 15_000)).toMatchObject({ state: 'running', renewalOverdue: false, renewEveryMs: 20_000 });
    await renewedAgo(61);
    expect(await acquireLease(database.db, claim('b'), 15_000)).toMatchObject({ acquired: true, takenOverFrom: 'a:1:00000000', lease: { ttlMs: 15_000 } });
    // Each renewal writes the holder's TTL; a row an older binary wrote (none) is judged by the claimant's.
    expect(await renewLease(database.db, claim('b', { ttlMs: 30_000 }))).toBe(true);
    expect((await readLease(database.db)).lease?.ttlMs).toBe(30_000);
    await database.db.execute(sql`update engine_lease set ttl_ms = null`);
    await renewedAgo(20);
    expect(await acquireLease(database.db, claim('c'), 15_000)).toMatchObject({ acquired: true, takenOverFrom: 'b:1:00000000' });
  });

  it("a ttl_ms left by an earlier holder cannot shorten the wait: an older binary's takeover keeps it, and its healthy lease stays its own", async () => {
    // A new binary held the row with a 1 s TTL and died; a binary from before migration 0044 (its take
    // and renewals write no ttl_ms) took it over with a 9 s TTL and renews it every 3 s.
    await acquireLease(database.db, claim('a'), 1_000);
    await database.db.execute(sql`update engine_lease set holder_id = 'old:1:00000000', host = 'old', heartbeat_at = now() - interval '2 seconds'`);
    expect((await readLease(database.db)).lease).toMatchObject({ holderId: 'old:1:00000000', ttlMs: 1_000 });
    // Renewed 2 s ago: healthy for its 9 s, and for the 9 s standby's own judgement too.
    expect(await acquireLease(database.db, claim('c'), 9_000)).toMatchObject({ acquired: false, lease: { holderId: 'old:1:00000000' } });
    await database.db.execute(sql`update engine_lease set heartbeat_at = now() - interval '10 seconds'`);
    expect(await acquireLease(database.db, claim('c'), 9_000)).toMatchObject({ acquired: true, takenOverFrom: 'old:1:00000000' });
  });

  it('is deleted by a graceful release, so the next engine starts clean (no takeover)', async () => {
    await acquireLease(database.db, claim('a'), 15_000);
    expect(await releaseLease(database.db, 'a:1:00000000')).toBe(true);
    expect((await readLease(database.db)).lease).toBeNull();
    expect(await acquireLease(database.db, claim('b'), 15_000)).toMatchObject({ acquired: true, takenOverFrom: null });
  });

  it('lets exactly one of many simultaneous claimants take a stale lease', async () => {
    await acquireLease(database.db, claim('old'), 15_000);
    await makeStale(database);
    const results = await Promise.all(['p', 'q', 'r', 's'].map((n) => acquireLease(database.db, claim(n), 15_000)));
    expect(results.filter((r) => r.acquired)).toHaveLength(1);
  });

  it("names the engine's start from the moment a claim takes it, never null (read as trading) before the first step", async () => {
    await acquireLease(database.db, claim('a'), 15_000);
    await makeStale(database);
    expect((await acquireLease(database.db, claim('b', { waitingOnTake: ENGINE_START_STEP }), 15_000)).lease?.waiting).toBe(ENGINE_START_STEP);
    await database.db.execute(sql`delete from engine_lease`);
    await acquireLease(database.db, claim('c', { waitingOnTake: ENGINE_START_STEP }), 15_000);
    expect((await readLease(database.db)).lease?.waiting).toBe(ENGINE_START_STEP);
  });

  it("records the engine's steps, then its gate's reason while it holds orders, each written only when it changes", async () => {
    const me = claim('a', { waitingOnTake: ENGINE_START_STEP });
    await acquireLease(database.db, me, 15_000);
    const writes: Array<string | null> = [];
    let failNext = false;
    const errors: unknown[] = [];
    const record = createWaitingRecord(async (w) => {
      writes.push(w && `${w.kind}: ${w.why}${w.kind === 'gate' ? ` @${w.stateVersion}` : ''}`);
      if (failNext) {
        failNext = false;
        throw new Error('database gone');
      }
      return writeLeaseWaiting(database.db, me.holderId, w);
    }, (err) => errors.push(err), 'the engine lease');
    const rowSays = async () => {
      await record.settled();
      const { lease } = await readLease(database.db);
      return lease?.waiting === null ? null : `${lease?.waitingKind}: ${lease?.waiting}${lease?.waitingKind === 'gate' ? ` @${lease.waitingStateVersion}` : ''}`;
    };
    const on = (version: number, halted = false) => ({ version, halted });
    const pending = 'live trading waits for reconciliation with Kraken (pending)';
    const unreachable = 'live trading waits for reconciliation with Kraken (unreachable)';
    record.setStep('warming up');
    // While a step is named, the gate's answers are not written: the step says why.
    record.noteGate(pending, on(3));
    expect(await rowSays()).toBe('step: warming up');
    // The first pass ran: the row says at once what the gate answers, then each change, once.
    record.setStep(null, { why: pending, state: on(3) });
    expect(await rowSays()).toBe(`gate: ${pending} @3`);
    for (let pass = 0; pass < 50; pass++) record.noteGate(pending, on(3));
    record.noteGate(unreachable, on(3));
    record.noteGate(unreachable, on(3));
    expect(await rowSays()).toBe(`gate: ${unreachable} @3`);
    // bot_state moved on (any change): the same reason is recorded again, true of the new version.
    record.noteGate(unreachable, on(4));
    expect(await rowSays()).toBe(`gate: ${unreachable} @4`);
    // An answer on an older bot_state (a candle's, read before the change) does not undo it.
    record.noteGate(null, on(3));
    expect(await rowSays()).toBe(`gate: ${unreachable} @4`);
    // Halted: bot_state says why (readers say the halt), so the row names no gate.
    record.noteGate(unreachable, on(5, true));
    expect(await rowSays()).toBe(null);
    record.noteGate(pending, on(6));
    expect(await rowSays()).toBe(`gate: ${pending} @6`);
    record.noteGate(null, on(6));
    expect(await rowSays()).toBe(null);
    expect(writes).toEqual(['step: warming up', `gate: ${pending} @3`, `gate: ${unreachable} @3`, `gate: ${unreachable} @4`, 'gate: null @5', `gate: ${pending} @6`, 'gate: null @6']);
    // Open is true of its bot_state only: a reader on a later one is told the answer is not recorded yet.
    const open = holderView((await readLease(database.db)).lease, new Date(), 15_000);
    const openFacts = { engine: open, mode: 'live', halted: false, haltedReason: null, reconciliation: { blocked: false } };
    expect(holderProgressPhrase({ ...openFacts, stateVersion: 6 })).toBe('engine trading now');
    expect(holderProgressPhrase({ ...openFacts, stateVersion: 7 })).toBe(`engine waiting: ${GATE_NOT_RECORDED_WHY}`);
    // A write that fails is written again at the gate's next answer.
    failNext = true;
    record.noteGate(unreachable, on(6));
    expect(await rowSays()).toBe(null);
    expect(errors).toHaveLength(1);
    record.noteGate(unreachable, on(6));
    expect(await rowSays()).toBe(`gate: ${unreachable} @6`);
    // Another process reads it as the engine's why (Slack /mode status, `ctb mode status`), on that bot_state only.
    const engine = holderView((await readLease(database.db)).lease, new Date(), 15_000);
    const facts = { engine, mode: 'live', halted: false, haltedReason: null, reconciliation: { blocked: false } };
    expect(holderProgressPhrase({ ...facts, stateVersion: 6 })).toBe(`engine waiting: ${unreachable}`);
    expect(holderProgressPhrase({ ...facts, stateVersion: 7 })).toBe(`engine waiting: ${GATE_NOT_RECORDED_WHY}`);
    // A step written after it is a step again.
    record.setStep('the engine is stopping');
    expect(await rowSays()).toBe('step: the engine is stopping');
  });
});

describe('the lease keeper', () => {
  let database: TestDatabase;
  let proxy: StallProxy | undefined;
  beforeAll(async () => {
    database = await createPostgresTestDb();
  });
  afterAll(async () => {
    await proxy?.close();
    await database?.close();
  });
  afterEach(async () => {
    proxy?.set('forward');
    await database.db.execute(sql`delete from engine_lease`);
  });
  const ctxFor = (db: Database, env: Record<string, string> = {}) => ({ db: db.db, config: testConfig({ ENGINE_LEASE_TTL: '1s', ...env }), logger: silentLogger() });

  it('stops saying it holds the lease the moment a renewal finds another holder, and reports it lost', async () => {
    const keeper = createLeaseKeeper(ctxFor(database), { role: 'worker', feed: 'kraken' });
    const acquired = await keeper.acquire(new AbortController().signal);
    expect(acquired).toMatchObject({ takenOverFrom: null, lease: { holderId: keeper.holderId, pid: process.pid } });
    await waitUntil(() => keeper.holdsLease(), 5_000, () => 'for an acquire or renewal to confirm the lease');
    await database.db.execute(sql`update engine_lease set holder_id = 'thief:9:ffffffff', heartbeat_at = now()`);
    expect(await keeper.renew()).toBe(false);
    expect(keeper.holdsLease()).toBe(false);
    await expect(keeper.lost()).resolves.toBe('another process holds the engine lease');
    expect(keeper.leaseRow()).toBe('none');
    await keeper.release();
    expect((await readLease(database.db)).lease?.holderId).toBe('thief:9:ffffffff'); // not ours to delete
    expect(keeper.leaseRow()).toBe('none');
  });

  it('does not say it released a lease another process took since its last renewal', async () => {
    const lines: string[] = [];
    const ctx = { ...ctxFor(database, { ENGINE_LEASE_TTL: '60s' }), logger: pino({ level: 'info' }, { write: (line: string) => void lines.push((JSON.parse(line) as { msg: string }).msg) }) };
    const keeper = createLeaseKeeper(ctx, { role: 'worker', feed: 'kraken' });
    await database.db.execute(sql`delete from engine_lease`);
    await keeper.acquire(new AbortController().signal);
    // Renewals every 20 s: the release comes before any of them notices the other holder.
    await database.db.execute(sql`update engine_lease set holder_id = 'thief:9:ffffffff', heartbeat_at = now()`);
    await keeper.release();
    expect(lines).not.toContain('engine lease released');
    expect(lines).toContain("the engine lease was no longer this process's at its release: nothing to release");
    expect(keeper.leaseRow()).toBe('none');
    expect((await readLease(database.db)).lease?.holderId).toBe('thief:9:ffffffff');
  });

  it('says its row is still its own after a release the database refused, and released after one it took', async () => {
    proxy ??= await startStallProxy();
    const viaProxy = connectPostgres(proxy.urlFor(database.url), { max: 2 });
    try {
      const keeper = createLeaseKeeper(ctxFor(viaProxy), { role: 'worker', feed: 'kraken' });
      expect(keeper.leaseRow()).toBe('none');
      await keeper.acquire(new AbortController().signal);
      expect(keeper.leaseRow()).toBe('ours');
      proxy.set('down');
      await keeper.release();
      expect(keeper.leaseRow(), 'a standby waits for it to go stale').toBe('ours');
      expect((await readLease(database.db)).lease?.holderId).toBe(keeper.holderId);
    } finally {
      await viaProxy.close();
    }
    const keeper = createLeaseKeeper(ctxFor(database), { role: 'worker', feed: 'kraken' });
    await database.db.execute(sql`delete from engine_lease`);
    await keeper.acquire(new AbortController().signal);
    await keeper.release();
    expect(keeper.leaseRow()).toBe('released');
    expect((await readLease(database.db)).lease).toBeNull();
  });

  describe('a holder killed -9 on this host', () => {
    /** A pid that was a process on this host a moment ago and is none now. */
    const deadPid = async (): Promise<number> => {
      const child = spawn(process.execPath, ['-e', '0'], { stdio: 'ignore' });
      await new Promise((resolve) => child.once('exit', resolve));
      return child.pid!;
    };
    /** Another holder's fresh lease (heartbeat now), as it would have written it: its scope tied to its holder id. */
    const heldBy = (over: Partial<LeaseClaim>) => {
      const holderId = 'other:1:aaaaaaaa';
      return acquireLease(database.db, claim('other', { holderId, ...over, bootId: over.bootId ? `${over.bootId}#${holderId}` : over.bootId }), 60_000);
    };
    /**
     * What a keeper with a minute's TTL gets from its first three tries for the lease: the lease, or
     * null when all three were refused. Counted in the database's answers, not in seconds (a refused
     * try is two: the claim, and the row read back), so a loaded machine only makes it slower.
     */
    const firstThreeTries = async (over: { bootId?: string | null } = {}) => {
      let answers = 0;
      const db = database.db;
      const counted = new Proxy(db, {
        get: (target, key, receiver) => (key === 'execute'
          ? (query: SQL) => Promise.resolve(target.execute(query)).finally(() => void (answers += 1))
          : Reflect.get(target, key, receiver)),
      });
      const keeper = createLeaseKeeper({ ...ctxFor(database, { ENGINE_LEASE_TTL: '60s' }), db: counted }, { role: 'worker', feed: 'kraken', standbyPollMs: 100, ...over });
      const stop = new AbortController();
      let settled = false;
      const taking = keeper.acquire(stop.signal).finally(() => void (settled = true));
      try {
        await waitUntil(() => settled || answers >= 6, 20_000, () => `for three tries at the lease (${answers} answers so far)`);
        stop.abort(); // a takeover under way when this lands still completes: acquire() checks the signal only between tries
        return await taking;
      } finally {
        stop.abort();
        await keeper.release();
      }
    };
    const here = { host: hostname(), bootId: readBootId() };

    it.runIf(here.bootId !== null)('takes the lease over at once when the holder ran on this host and boot and its pid is gone, naming it', async () => {
      const pid = await deadPid();
      await heldBy({ ...here, pid });
      const acquired = await firstThreeTries();
      expect(acquired, 'taken long before the minute-long TTL').toMatchObject({ takenOverFrom: 'other:1:aaaaaaaa', lease: { pid: process.pid } });
      expect(acquired?.lease.bootId, 'its own scope, tied to its holder id').toBe(`${here.bootId}#${acquired?.lease.holderId}`);
    });

    it.runIf(here.bootId !== null)('waits for the lease to go stale when a binary that records no boot id took the row over (the scope left in it is the previous holder\'s)', async () => {
      const first = createLeaseKeeper(ctxFor(database, { ENGINE_LEASE_TTL: '60s' }), { role: 'worker', feed: 'kraken' });
      await first.acquire(new AbortController().signal);
      const pid = await deadPid(); // the old binary's pid, as seen from another pid namespace
      // A binary from before migration 0034 takes over: its holder id, host and pid; boot_id left as the first holder wrote it.
      await database.db.execute(sql`update engine_lease set holder_id = 'old:2:bbbbbbbb', host = ${here.host}, pid = ${pid}, heartbeat_at = now()`);
      await first.release();
      expect(await firstThreeTries()).toBeNull();
      expect((await readLease(database.db)).lease?.holderId).toBe('old:2:bbbbbbbb');
    }, 30_000);

    it.runIf(here.bootId !== null)('waits for the lease to go stale when the holder\'s pid is alive, or it ran on another host, boot or pid namespace, or did not say where', async () => {
      const pid = await deadPid();
      for (const holder of [
        { ...here, pid: process.ppid }, // alive
        { ...here, pid: process.pid }, // this process: one process may run two keepers
        { ...here, host: `${here.host}-twin`, pid }, // another host: its pids mean nothing here
        { ...here, bootId: `${here.bootId!.split('/')[0]}/pid:[1]`, pid }, // another pid namespace (a container) on this kernel
        { ...here, bootId: null, pid }, // a holder that could not say
      ]) {
        await heldBy(holder);
        expect(await firstThreeTries(), JSON.stringify(holder)).toBeNull();
        expect((await readLease(database.db)).lease?.holderId).toBe('other:1:aaaaaaaa');
        await database.db.execute(sql`delete from engine_lease`);
      }
      // And a standby that cannot tell its own boot never judges by a pid.
      await heldBy({ ...here, pid });
      expect(await firstThreeTries({ bootId: null })).toBeNull();
    }, 90_000);
  });

  it('stops trusting its lease when no renewal is confirmed for most of the TTL (a stalled database), and trusts it again once one is', async () => {
    proxy ??= await startStallProxy();
    const viaProxy = connectPostgres(proxy.urlFor(database.url), { max: 2 });
    try {
      const keeper = createLeaseKeeper(ctxFor(viaProxy), { role: 'worker', feed: 'kraken' });
      await keeper.acquire(new AbortController().signal);
      // Trusted from a confirmed round trip: on a loaded machine the acquire itself can take most of
      // the 1 s TTL (then it is rightly not trusted yet), so wait for a renewal to confirm it.
      await waitUntil(() => keeper.holdsLease(), 5_000, () => 'for an acquire or renewal to confirm the lease');
      proxy.set('stall');
      await waitUntil(() => !keeper.holdsLease(), 2_000, () => 'for the keeper to stop trusting its lease');
      proxy.set('forward');
      await waitUntil(() => keeper.holdsLease(), 5_000, () => 'for a renewal to confirm the lease again');
      await keeper.release();
      expect((await readLease(database.db)).lease).toBeNull();
    } finally {
      await viaProxy.close();
    }
  });
});

describe('a running bot and its lease', () => {
  let database: TestDatabase;
  let bot: RunningBot | undefined;
  beforeAll(async () => {
    database = await createPostgresTestDb();
  });
  afterEach(async () => {
    await bot?.stop();
    bot = undefined;
  });
  afterAll(async () => {
    await database?.close();
  });

  async function start(): Promise<RunningBot> {
    const dir = mkdtempSync(join(tmpdir(), 'ctb-lease-bot-'));
    const { replayFile, strategiesFile } = writeTradingReplay(dir);
    const config = testConfig({
      MARKET_FEED: 'replay', REPLAY_FILE: replayFile, STRATEGIES_FILE: strategiesFile, REPLAY_INTERVAL: '10ms', ENGINE_LEASE_TTL: '1500ms',
      DATA_DIR: join(dir, 'data'), LOG_DIR: join(dir, 'logs'), HOST: '127.0.0.1',
    });
    return startBot({ config, logger: silentLogger(), database, features: [healthFeature, engineFeature({ requestPollMs: 50 })], role: 'worker', feed: 'replay', port: 0 });
  }
  const intents = async () => Number((await execute<{ n: number }>(database.db, sql`select count(*)::int as n from order_intents`))[0]!.n);

  it('places no order after losing its lease, and takes it over again (naming the holder) once that one goes stale', async () => {
    bot = await start();
    await waitUntil(async () => (await intents()) > 2, 60_000, () => 'for the bot to trade');
    expect(holdsLease(bot.ctx)).toBe(true);
    // Another process takes the lease (and keeps renewing it while we watch).
    const steal = () => database.db.execute(sql`update engine_lease set holder_id = 'thief:9:ffffffff', heartbeat_at = now()`).then(() => undefined);
    const thief = setInterval(() => void steal().catch(() => undefined), 200);
    try {
      await steal();
      await waitUntil(() => holdsLease(bot!.ctx) === false, 3_000, () => 'for the renewal to find the other holder');
      // An order decided before the loss may still be completing; none is decided after it.
      await new Promise((r) => setTimeout(r, 300));
      const atLoss = await intents();
      await new Promise((r) => setTimeout(r, 1_500));
      expect(await intents()).toBe(atLoss);
    } finally {
      clearInterval(thief);
    }
    // The other holder stops renewing: after the TTL the bot takes over from it and trades again.
    await waitUntil(() => holdsLease(bot!.ctx) === true, 10_000, () => 'for the bot to take the stale lease over');
    expect((await readLease(database.db)).lease).toMatchObject({ pid: process.pid, takenOverFrom: 'thief:9:ffffffff' });
    const after = await intents();
    await waitUntil(async () => (await intents()) > after, 30_000, () => 'for trading to resume');
  }, 120_000);

  it('/healthz names the engine holder: host, pid, role, feed, armed, keys, heartbeat — and whether it is this process', async () => {
    bot = await start();
    await waitUntil(() => holdsLease(bot!.ctx) === true, 30_000);
    const res = await fetch(`http://127.0.0.1:${bot.port}/healthz`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { engine: Record<string, unknown> };
    expect(body.engine).toMatchObject({
      state: 'running', pid: process.pid, role: 'worker', feed: 'replay', armed: false, hasKrakenKeys: false,
      heartbeatAt: expect.any(String), heartbeatAgeMs: expect.any(Number), staleSince: null, thisProcess: true,
    });
    await bot.stop();
    bot = undefined;
    expect((await readLease(database.db)).lease).toBeNull();
  }, 120_000);
});
