// The withdrawal against a bot_state row another transaction holds, on real PostgreSQL (PGlite has one
// session: nothing there waits on another's lock): while it waits, a takeover cannot take the lease row it
// holds FOR SHARE; it gives up after its lock wait (2 s, or a sixth of ENGINE_LEASE_TTL when shorter) so the lease's renewal, waiting
// behind that share lock, is not stalled; retried by withdrawLiveUntilDone until the row is free, and stopped
// by its abort signal without withdrawing. Armed, the resolve of an earlier withdrawal's alert whose group row another
// transaction holds does not hold the engine's start past KILL_DB_TIMEOUT.
import { eq, sql } from 'drizzle-orm';
import { execute } from '../../../src/db/client.js';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Database } from '../../../src/db/client.js';
import { getBotState } from '../../../src/services/bot-state.js';
import { WITHDRAWAL_LOCK_WAIT_MS, withdrawLiveIfUnarmed, withdrawLiveUntilDone, withdrawalLockWaitMs, type LeaseHolder } from '../../../src/services/mode/withdraw-unarmed-live.js';
import { createTestDb } from '../../support/db.js';
import { alertGroups } from '../../../src/db/schema/index.js';
import { createOutboxAlertSink } from '../../../src/alerts/sink.js';
import { silentLogger } from '../../../src/logger.js';
import { WITHDRAWAL_FINGERPRINT } from '../../../src/domain/live-withdrawal.js';
import { waitUntil } from '../../support/bot-process.js';
import { startFakeSlack, type FakeSlack } from '../../support/fake-slack.js';
import { holdEngineLease, unarmedEngineWhileLive, type ModeHarness } from '../../support/mode-harness.js';

const HOLDER: LeaseHolder = { holderId: 'test-engine', host: 'test-host', pid: 4242, role: 'worker' };

describe('the withdrawal while another transaction holds bot_state, on postgres', () => {
  let database: Database;
  let slack: FakeSlack;
  let h: ModeHarness;
  beforeAll(async () => {
    database = await createTestDb('postgres');
    slack = await startFakeSlack();
  });
  afterAll(async () => {
    await slack.close();
    await database.close();
  });
  beforeEach(async () => {
    h = await unarmedEngineWhileLive(database, slack);
  });
  afterEach(async () => {
    await h.ctx.close();
  });

  /** bot_state locked FOR UPDATE by another transaction until release() is called. */
  async function lockBotStateElsewhere(): Promise<{ release: () => Promise<void> }> {
    let free!: () => void;
    const freed = new Promise<void>((r) => (free = r));
    let locked!: () => void;
    const isLocked = new Promise<void>((r) => (locked = r));
    const tx = database.db.transaction(async (t) => {
      await t.execute(sql`select 1 from bot_state where id = 1 for update`);
      locked();
      await freed;
    });
    await isLocked;
    return { release: async () => { free(); await tx; } };
  }

  it('gives up on the locked row (lock_not_available), leaving the lease row free to renew and the mode live', async () => {
    const lock = await lockBotStateElsewhere();
    try {
      await expect(withdrawLiveIfUnarmed(h.ctx, h.ctx.liveSwitch, HOLDER)).rejects.toMatchObject({ cause: expect.objectContaining({ code: '55P03' }) });
      // Nothing holds the lease row now: its renewal (an update) goes through while bot_state is still locked.
      await holdEngineLease(database.db, 'kraken', 0, false);
    } finally {
      await lock.release();
    }
    expect((await getBotState(database.db)).mode).toBe('live');
  });

  it('with a short lease (ENGINE_LEASE_TTL 1 s, renewed every 333 ms) gives up after a sixth of it, not after 2 s', async () => {
    expect(withdrawalLockWaitMs(15_000)).toBe(WITHDRAWAL_LOCK_WAIT_MS);
    expect(withdrawalLockWaitMs(1_000)).toBe(166);
    const shortLease = { ...h.ctx, config: { ...h.ctx.config, ENGINE_LEASE_TTL: 1_000 } };
    const lock = await lockBotStateElsewhere();
    try {
      const started = performance.now();
      await expect(withdrawLiveIfUnarmed(shortLease, h.ctx.liveSwitch, HOLDER)).rejects.toMatchObject({ cause: expect.objectContaining({ code: '55P03' }) });
      // PostgreSQL waits at least lock_timeout before it gives up: with the fixed 2 s this cannot be under it.
      expect(performance.now() - started).toBeLessThan(WITHDRAWAL_LOCK_WAIT_MS);
    } finally {
      await lock.release();
    }
    expect((await getBotState(database.db)).mode).toBe('live');
  });

  it('holds the lease row until it commits: a takeover cannot take it from under a withdrawal in progress', async () => {
    const lock = await lockBotStateElsewhere();
    let running: Promise<unknown> | undefined;
    try {
      // Waits on bot_state (as long as the test holds it), having checked its lease.
      running = withdrawLiveIfUnarmed(h.ctx, h.ctx.liveSwitch, HOLDER, { lockWaitMs: 600_000 });
      const waiting = async () => (await execute(database.db, sql`select 1 from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'`)).length > 0;
      await waitUntil(waiting, 60_000, () => 'for the withdrawal to wait on bot_state');
      // A takeover's write of the lease row would wait: the row is held FOR SHARE by the withdrawal.
      await expect(database.db.transaction(async (t) => t.execute(sql`select id from engine_lease where id = 1 for update nowait`)))
        .rejects.toMatchObject({ cause: expect.objectContaining({ code: '55P03' }) });
    } finally {
      await lock.release();
    }
    expect(await running).toMatchObject({ withdrawn: [] });
    expect((await getBotState(database.db)).mode).toBe('paper');
  });

  it('withdrawLiveUntilDone: stops without withdrawing when aborted while it retries; retried once the row is free, it withdraws', async () => {
    const lock = await lockBotStateElsewhere();
    let failed!: () => void;
    const firstFailure = new Promise<void>((r) => (failed = r));
    const error = vi.spyOn(h.ctx.logger, 'error').mockImplementation(() => void failed());
    const stop = new AbortController();
    try {
      const running = withdrawLiveUntilDone(h.ctx, h.ctx.liveSwitch, HOLDER, { signal: stop.signal, retryMs: 600_000 });
      await firstFailure;
      stop.abort();
      expect(await running).toBeNull();
      expect(error).toHaveBeenCalledTimes(1);
      expect(error.mock.calls[0]![1]).toMatch(/could not check whether the live approval must be withdrawn/);
    } finally {
      error.mockRestore();
      await lock.release();
    }
    expect((await getBotState(database.db)).mode).toBe('live');

    const done = await withdrawLiveUntilDone(h.ctx, h.ctx.liveSwitch, HOLDER, { signal: new AbortController().signal, retryMs: 600_000 });
    expect(done).toMatchObject({ halted: false, withdrawn: [] });
    expect((await getBotState(database.db)).mode).toBe('paper');
  });

  it("armed, does not hold the engine's start on a resolve of the earlier withdrawal's alert that cannot finish: past KILL_DB_TIMEOUT it goes on, and the resolve lands once the database answers", async () => {
    const alerts = createOutboxAlertSink({ db: database.db, clock: h.clock, logger: silentLogger(), config: h.ctx.config });
    const signal = new AbortController().signal;
    await database.db.delete(alertGroups);
    expect(await withdrawLiveUntilDone({ ...h.ctx, alerts }, h.ctx.liveSwitch, HOLDER, { signal })).not.toBeNull();
    const stored = () => database.db.select({ status: alertGroups.status }).from(alertGroups).where(eq(alertGroups.fingerprint, WITHDRAWAL_FINGERPRINT));
    expect(await stored()).toEqual([{ status: 'open' }]);

    // Another transaction holds the group's row: the resolve (which locks it) cannot finish until it lets go.
    let free!: () => void;
    const freed = new Promise<void>((r) => (free = r));
    let locked!: () => void;
    const isLocked = new Promise<void>((r) => (locked = r));
    const holding = database.db.transaction(async (t) => {
      await t.execute(sql`select 1 from alert_groups where fingerprint = ${WITHDRAWAL_FINGERPRINT} for update`);
      locked();
      await freed;
    });
    await isLocked;
    const warn = vi.spyOn(h.ctx.logger, 'warn');
    const armed = { ...h.ctx, alerts, config: { ...h.ctx.config, IS_LIVE: true, KILL_DB_TIMEOUT: 200 } };
    try {
      // Returns (the engine starts) while the row is still held; before, this waited for the lock.
      expect(await withdrawLiveUntilDone(armed, h.ctx.liveSwitch, { ...HOLDER, holderId: 'armed-engine' }, { signal })).toBeNull();
      expect(warn.mock.calls.map((c) => c[1])).toContainEqual(expect.stringMatching(/takes longer than KILL_DB_TIMEOUT .* the engine starts without it/));
      expect(await stored()).toEqual([{ status: 'open' }]);
    } finally {
      warn.mockRestore();
      free();
      await holding;
    }
    // The resolve went on by itself and lands once the row is free.
    await vi.waitFor(async () => expect(await stored()).toEqual([{ status: 'resolved' }]), { timeout: 20_000, interval: 50 });
  }, 30_000);
});
