// An armed engine (the shipped `ctb start`, a real process) that takes over from a dead one starts
// halted — its engine runs no strategy — until reconciliation with Kraken passes, and then trades live.
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { afterAll, describe, expect, it } from 'vitest';
import { execute } from '../../../src/db/client.js';
import { waitUntil } from '../../support/bot-process.js';
import { createPostgresTestDb, type TestDatabase } from '../../support/db.js';
import { TEST_API_KEY, TEST_API_SECRET } from '../../support/kraken-test-keys.js';
import { ROUND_TRIP_CANDLES, startSteppedKraken, type SteppedKraken } from '../../support/stepped-kraken.js';
import { baseEnv, bot, killBotsAfterEach, orders } from './one-engine-bots.js';

killBotsAfterEach();

describe('an armed engine taking over from a dead one', () => {
  let database: TestDatabase | undefined;
  let kraken: SteppedKraken | undefined;
  afterAll(async () => {
    await kraken?.close();
    await database?.close();
  });

  it('starts halted (reason reconciliation), runs no strategy while Kraken cannot be reconciled, and trades live once reconciliation passes', async () => {
    database = await createPostgresTestDb();
    kraken = await startSteppedKraken();
    const k = kraken;
    await database.db.execute(sql`insert into bot_state (id, mode) values (1, 'live') on conflict (id) do update set mode = 'live'`);
    const state = async () => (await execute<{ halted: boolean; halted_reason: string | null; halted_by: string | null; reconciliation_blocked: boolean; reconciled_through: string | null; reconciliation_details: Record<string, unknown> | null }>(
      database!.db, sql`select halted, halted_reason, halted_by, reconciliation_blocked, reconciled_through, reconciliation_details from bot_state where id = 1`))[0]!;
    const dir = mkdtempSync(join(tmpdir(), 'ctb-takeover-'));
    for (const d of ['a', 'b']) mkdirSync(join(dir, d));
    const armed = {
      DATABASE_URL: database.url, ENGINE_LEASE_TTL: '4s', IS_LIVE: 'true', KRAKEN_API_KEY: TEST_API_KEY, KRAKEN_API_SECRET: TEST_API_SECRET,
      KRAKEN_API_URL: k.url, KRAKEN_RATE_LIMIT: 'false', MARKET_FEED: 'kraken', MARKET_POLL_INTERVAL: '100ms', RECONCILE_PROBE_INTERVAL: '1s', LOG_LEVEL: 'debug',
    };
    const a = bot(['start', '--role', 'worker'], baseEnv(join(dir, 'a'), armed), dir);
    await a.waitFor(/engine lease taken: this process runs the engine/, 120_000);
    // A clean start reconciles (nothing on Kraken to explain), is not halted, and A trades live.
    await waitUntil(async () => (await state()).reconciled_through !== null, 60_000, () => `for A's first reconciliation:\n${a.output().slice(-3000)}`);
    expect(await state()).toMatchObject({ halted: false, reconciliation_blocked: false });
    await k.play(3 * ROUND_TRIP_CANDLES, { until: () => k.addOrders() > 0 });
    expect(k.addOrders(), a.output().slice(-3000)).toBeGreaterThan(0);
    expect(orders(a)).toBeGreaterThan(0);

    const b = bot(['start', '--role', 'worker'], baseEnv(join(dir, 'b'), armed), dir);
    await b.waitFor(/standing by/, 120_000);
    // A dies with the lease held; Kraken does not answer OpenOrders when B takes over.
    k.sim.faults.add({ endpoint: 'OpenOrders', kind: 'error', message: 'EService:Unavailable', times: 1_000_000 });
    a.kill('SIGKILL');
    await a.exited;
    const placedByA = k.addOrders();
    await waitUntil(async () => (await state()).halted, 60_000, () => `for B to take over halted:\n${b.output().slice(-3000)}`);
    const halted = await state();
    expect(halted).toMatchObject({ halted: true, halted_reason: 'reconciliation', halted_by: 'system:reconciliation', reconciliation_blocked: true });
    expect(halted.reconciliation_details).toMatchObject({ cause: 'takeover', pending: true, takenOverFrom: expect.stringMatching(new RegExp(`:${a.pid}:`)) });

    // B's engine runs its feed over two round trips that would each make the strategy buy and sell, and
    // tries to reconcile meanwhile (Kraken refuses): no strategy runs, nothing reaches Kraken.
    await k.play(2 * ROUND_TRIP_CANDLES);
    await b.waitFor(/could not reconcile with Kraken yet; live trading waits/);
    expect(k.addOrders()).toBe(placedByA);
    expect(orders(b)).toBe(0);
    expect(await state()).toMatchObject({ halted: true, reconciliation_blocked: true }); // still: nothing has been reconciled

    k.sim.faults.clear();
    await waitUntil(async () => !(await state()).halted, 60_000, () => `for reconciliation to pass and lift the halt:\n${b.output().slice(-3000)}`);
    const passed = await state();
    expect(passed).toMatchObject({ halted: false, reconciliation_blocked: false, reconciliation_details: null });
    expect(new Date(passed.reconciled_through!).getTime()).toBeGreaterThanOrEqual(new Date(halted.reconciled_through!).getTime());
    await b.waitFor(/reconciliation with Kraken passes; the reconciliation halt is lifted/);
    // Its engine trades live again: the next signal reaches Kraken from B.
    await k.play(3 * ROUND_TRIP_CANDLES, { until: () => k.addOrders() > placedByA });
    expect(k.addOrders(), b.output().slice(-3000)).toBeGreaterThan(placedByA);
    expect(orders(b)).toBeGreaterThan(0);
    b.kill('SIGTERM');
    expect(await b.exited).toBe(0);
  }, 420_000);
});
