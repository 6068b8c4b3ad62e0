// One engine per database, with real processes (the shipped `ctb start`): a second bot on one embedded
// DATA_DIR is refused with exit 2 naming the first, which keeps running and serving the CLI; on
// PostgreSQL two workers with their own connection pools never both trade — the second stands by and
// takes over (taken_over_from names the first) once the first is killed -9 and its lease goes stale;
// an armed one that takes over starts halted — its engine runs no strategy — until reconciliation with
// Kraken passes, and then trades live.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { execute } from '../../../src/db/client.js';
import { BIN, startBotProcess, waitUntil, type BotProcess } from '../../support/bot-process.js';
import { createPostgresTestDb, type TestDatabase } from '../../support/db.js';
import { TEST_API_KEY, TEST_API_SECRET } from '../../support/kraken-test-keys.js';
import { ROUND_TRIP_CANDLES, startSteppedKraken, type SteppedKraken } from '../../support/stepped-kraken.js';
import { writeTradingReplay } from '../../support/trading-replay.js';

const running: BotProcess[] = [];
/** The engine logs each order it sends at info level (event "order"): who traded is in whose output. */
const orders = (b: BotProcess) => (b.output().match(/"event":"order"[^\n]*"symbol":"BTC\/USD"/g) ?? []).length;
afterEach(() => {
  for (const bot of running.splice(0)) bot.kill('SIGKILL');
});

function baseEnv(dir: string, extra: Record<string, string> = {}): Record<string, string> {
  // Long enough (about 12 minutes at 20 ms a candle) that the first bot still trades however slowly the second starts.
  const { replayFile, strategiesFile } = writeTradingReplay(dir, { roundTrips: 1000 });
  return {
    PATH: process.env.PATH ?? '', HOME: dir, MARKET_FEED: 'replay', REPLAY_FILE: replayFile, STRATEGIES_FILE: strategiesFile,
    REPLAY_INTERVAL: '20ms', PORT: '0', HOST: '127.0.0.1', DATA_DIR: join(dir, 'data'), LOG_DIR: join(dir, 'logs'), LOG_LEVEL: 'info',
    // The replay trades several times a minute: the pre-trade gate's order-rate budget (20 a minute by
    // default) would refuse it and back it off for up to a minute, and who trades could not be seen.
    RISK_MAX_ORDERS_PER_MINUTE: '1000',
    // Each round trip of the replay loses a little: on a loaded machine the first bot runs long enough
    // to pass the 3 % daily-loss default, and the risk guard (rightly) pauses entries for the one that
    // takes over — which then never trades. The guard is tested on its own; here it is out of the way.
    RISK_DAILY_LOSS_PCT: '100', RISK_MAX_DRAWDOWN_PCT: '100', RISK_HARD_DRAWDOWN_PCT: '100', ...extra,
  };
}

function bot(args: string[], env: Record<string, string>, cwd: string): BotProcess {
  const b = startBotProcess(args, env, cwd);
  running.push(b);
  return b;
}

describe('one engine per embedded DATA_DIR', () => {
  it('refuses a second ctb start on the same DATA_DIR with exit 2, naming the running bot (pid, host, role, since), and leaves it serving', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ctb-one-engine-'));
    const env = baseEnv(dir);
    const first = bot(['start'], env, dir);
    await first.waitFor(/ctb running on port/, 120_000);
    await first.waitFor(/engine lease taken/);

    const second = bot(['start', '--role', 'worker'], env, dir);
    expect(await second.exited).toBe(2);
    expect(second.output()).toContain(`DATA_DIR ${env.DATA_DIR} is already in use by pid ${first.pid} on host ${hostname()} (ctb start --role all) since 20`);
    expect(second.output()).not.toMatch(/engine ready|ctb running on port/);

    // The first bot still runs, serves its database to the CLI, and holds the engine lease.
    expect(first.proc.exitCode).toBeNull();
    const status = spawnSync(process.execPath, [BIN, 'mode', 'status', '--json'], { cwd: dir, env, encoding: 'utf8', timeout: 60_000 });
    expect(status.status, status.stderr).toBe(0);
    expect(JSON.parse(status.stdout).engine).toMatchObject({ state: 'running', pid: first.pid, host: hostname(), role: 'all', feed: 'replay', armed: false });

    first.kill('SIGTERM');
    expect(await first.exited).toBe(0);
  }, 240_000);
});

describe('one engine per PostgreSQL database', () => {
  let database: TestDatabase | undefined;
  afterAll(async () => {
    await database?.close();
  });

  const holder = async () => (await execute<{ pid: number; holder_id: string; taken_over_from: string | null; heartbeat_at: Date | string }>(
    database!.db, sql`select pid, holder_id, taken_over_from, heartbeat_at from engine_lease`))[0] ?? null;
  const dbNow = async () => new Date((await execute<{ now: Date | string }>(database!.db, sql`select now() as now`))[0]!.now).getTime();

  it('lets only one of two workers trade; the standby takes over when the first is killed -9, naming it', async () => {
    database = await createPostgresTestDb();
    const dir = mkdtempSync(join(tmpdir(), 'ctb-two-workers-'));
    // A TTL long enough that a loaded machine's pauses do not make A's lease go stale while it runs.
    const ttlMs = 5_000;
    const shared = { DATABASE_URL: database.url, ENGINE_LEASE_TTL: `${ttlMs}ms`, LOG_LEVEL: 'debug' };
    // Separate data and log directories, as two containers would have.
    for (const d of ['a', 'b']) mkdirSync(join(dir, d));
    const envA = baseEnv(join(dir, 'a'), shared);
    const envB = baseEnv(join(dir, 'b'), shared);

    const a = bot(['start', '--role', 'worker'], envA, dir);
    await a.waitFor(/engine lease taken: this process runs the engine/, 120_000);
    await waitUntil(() => orders(a) > 0, 60_000, () => `for A's first order:\n${a.output().slice(-3000)}`);

    const b = bot(['start', '--role', 'worker'], envB, dir);
    await b.waitFor(new RegExp(`the engine runs in ${hostname()}:${a.pid} \\(worker\\); standing by`), 120_000);
    // Both run for more than a TTL — A's heartbeat (the database's clock) moves a whole TTL past the
    // moment B stood by, B asking for the lease every third of it meanwhile — and A trades on.
    const standbyAt = await dbNow();
    const aBefore = orders(a);
    await waitUntil(async () => {
      const lease = await holder();
      if (lease?.pid !== a.pid) throw new Error(`the lease left A while it ran: ${JSON.stringify(lease)}\n${b.output().slice(-3000)}`);
      return new Date(lease.heartbeat_at).getTime() > standbyAt + ttlMs && orders(a) > aBefore;
    }, 120_000, () => `for A to renew its lease past a TTL and trade on (orders ${aBefore} → ${orders(a)}):\n${a.output().slice(-3000)}`);
    expect(orders(b)).toBe(0); // B placed nothing…
    expect(b.output()).not.toMatch(/engine ready/); // …its engine never started

    a.kill('SIGKILL');
    await a.exited;
    await waitUntil(async () => (await holder())?.pid === b.pid, 60_000, () => `for B to take over:\n${b.output().slice(-3000)}`);
    const lease = (await holder())!;
    expect(lease.taken_over_from).toMatch(new RegExp(`^${hostname()}:${a.pid}:[0-9a-f]{8}$`));
    await b.waitFor(/engine lease taken over from .*whose lease went stale/);
    await waitUntil(() => orders(b) > 0, 60_000, () => `for B's first order after the takeover:\n${b.output().slice(-3000)}`);

    b.kill('SIGTERM');
    expect(await b.exited).toBe(0);
    expect(await holder()).toBeNull(); // a graceful stop releases the lease: the next start is clean
  }, 300_000);
});

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
      KRAKEN_API_URL: k.url, KRAKEN_RATE_LIMIT: 'false', MARKET_FEED: 'kraken', MARKET_POLL_INTERVAL: '500ms', RECONCILE_PROBE_INTERVAL: '1s', LOG_LEVEL: 'debug',
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
    await b.waitFor(/reconciliation with Kraken passes: the reconciliation halt is lifted/);
    // Its engine trades live again: the next signal reaches Kraken from B.
    await k.play(3 * ROUND_TRIP_CANDLES, { until: () => k.addOrders() > placedByA });
    expect(k.addOrders(), b.output().slice(-3000)).toBeGreaterThan(placedByA);
    expect(orders(b)).toBeGreaterThan(0);
    b.kill('SIGTERM');
    expect(await b.exited).toBe(0);
  }, 420_000);
});
