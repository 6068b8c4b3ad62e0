// Live needs an unbroken chain, armed and approved, across real processes (the shipped `ctb start
// --role worker`) on one PostgreSQL database: an armed engine trades LIVE on the approval; a worker
// without IS_LIVE deployed beside it stands by and withdraws nothing (a rolling deploy); once the armed
// one stops and the unarmed one takes the lease, it withdraws the approval (bot_state paper, recorded
// with why, one alert); restarted armed again, the engine trades PAPER, and `ctb mode status` says why.
import { mkdirSync, mkdtempSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { and, desc, eq } from 'drizzle-orm';
import { afterAll, describe, expect, it } from 'vitest';
import { alertEvents, alertGroups, commandLog, modeChangeRequests } from '../../../src/db/schema/index.js';
import { getBotState, updateBotState } from '../../../src/services/bot-state.js';
import { systemClock } from '../../../src/clock.js';
import { waitUntil } from '../../support/bot-process.js';
import { ctbInShell } from '../../support/ctb-shell.js';
import { createPostgresTestDb, type TestDatabase } from '../../support/db.js';
import { TEST_API_KEY, TEST_API_SECRET } from '../../support/kraken-test-keys.js';
import { ROUND_TRIP_CANDLES, startSteppedKraken, type SteppedKraken } from '../../support/stepped-kraken.js';
import { baseEnv, bot, killBotsAfterEach, orders } from '../engine-lease/one-engine-bots.js';

killBotsAfterEach();

describe('an engine restarted without IS_LIVE after an approved switch to live', () => {
  let database: TestDatabase | undefined;
  let kraken: SteppedKraken | undefined;
  afterAll(async () => {
    await kraken?.close();
    await database?.close();
  });

  it('withdraws the live approval when it takes the lease, so the next armed restart trades PAPER and says why', async () => {
    database = await createPostgresTestDb();
    kraken = await startSteppedKraken();
    const k = kraken;
    const db = database.db;
    // Where an approved switch leaves it (services/mode/execute-switch.ts).
    await updateBotState(db, systemClock, { mode: 'live' });
    const dir = mkdtempSync(join(tmpdir(), 'ctb-unarmed-'));
    for (const d of ['a', 'b', 'c']) mkdirSync(join(dir, d));
    const armed = {
      DATABASE_URL: database.url, IS_LIVE: 'true', KRAKEN_API_KEY: TEST_API_KEY, KRAKEN_API_SECRET: TEST_API_SECRET,
      KRAKEN_API_URL: k.url, KRAKEN_RATE_LIMIT: 'false', MARKET_FEED: 'kraken', MARKET_POLL_INTERVAL: '100ms', RECONCILE_PROBE_INTERVAL: '1s',
    };
    const { IS_LIVE: _armedOnly, ...unarmed } = armed;

    // A: armed, on the approval — trades LIVE.
    const a = bot(['start', '--role', 'worker'], baseEnv(join(dir, 'a'), armed), dir);
    await a.waitFor(/engine lease taken: this process runs the engine/, 120_000);
    await waitUntil(async () => (await getBotState(db)).reconciledThrough !== null, 60_000, () => `for A's first reconciliation:\n${a.output().slice(-3000)}`);
    await k.play(3 * ROUND_TRIP_CANDLES, { until: () => k.addOrders() > 0 });
    expect(k.addOrders(), a.output().slice(-3000)).toBeGreaterThan(0);

    // B: the worker redeployed without IS_LIVE. Standing by behind A, it withdraws nothing.
    const b = bot(['start', '--role', 'worker'], baseEnv(join(dir, 'b'), unarmed), dir);
    await b.waitFor(/standing by/, 120_000);
    expect((await getBotState(db)).mode).toBe('live');
    expect(await db.select().from(alertGroups).where(eq(alertGroups.fingerprint, 'mode-live-withdrawn-unarmed'))).toEqual([]);
    a.kill('SIGTERM');
    expect(await a.exited).toBe(0);
    const liveOrders = k.addOrders();

    // A gone, B takes the lease, and withdraws the approval.
    await b.waitFor(/engine lease taken: this process runs the engine/, 120_000);
    await waitUntil(async () => (await getBotState(db)).mode === 'paper', 30_000, () => `for B to withdraw the live approval:\n${b.output().slice(-3000)}`);
    const [withdrawal] = await db.select().from(modeChangeRequests).where(eq(modeChangeRequests.status, 'switched')).orderBy(desc(modeChangeRequests.id)).limit(1);
    const holder = new RegExp(`^engine ${hostname()}:${b.pid}:[0-9a-f]{8} took the lease without IS_LIVE at \\S+Z; going live again needs /mode live and two approvals$`);
    expect(withdrawal).toMatchObject({ fromMode: 'live', toMode: 'paper', requester: 'system:engine-lease', requesterSource: 'system', reason: expect.stringMatching(holder) });
    const trail = await db.select().from(commandLog).where(eq(commandLog.actor, 'system:engine-lease'));
    expect(trail).toEqual([expect.objectContaining({ source: 'system', command: 'mode paper', allowed: true, details: expect.objectContaining({ requestId: withdrawal!.id, pid: b.pid, role: 'worker' }) })]);
    b.kill('SIGTERM');
    expect(await b.exited).toBe(0);

    // C: armed again, with no new sign-off — trades PAPER, and raises nothing more.
    const c = bot(['start', '--role', 'worker'], baseEnv(join(dir, 'c'), armed), dir);
    await c.waitFor(/engine lease taken: this process runs the engine/, 120_000);
    await k.play(3 * ROUND_TRIP_CANDLES, { until: () => orders(c) > 0 });
    expect(orders(c), c.output().slice(-3000)).toBeGreaterThan(0);
    expect(k.addOrders()).toBe(liveOrders);
    expect((await getBotState(db)).mode).toBe('paper');

    const status = await ctbInShell(['mode', 'status'], { DATABASE_URL: database.url });
    expect(status.code, status.stderr).toBe(0);
    expect(status.stdout).toMatch(/^mode: PAPER — live approval withdrawn \(#\d+\): engine \S+ took the lease without IS_LIVE at \S+; going live again needs \/mode live and two approvals$/m);
    const json = await ctbInShell(['mode', 'status', '--json'], { DATABASE_URL: database.url });
    expect(JSON.parse(json.stdout)).toMatchObject({ mode: 'paper', storedMode: 'paper', armed: true, liveWithdrawn: { requestId: withdrawal!.id, by: 'system:engine-lease', reason: withdrawal!.reason } });

    const groups = await db.select().from(alertGroups).where(eq(alertGroups.fingerprint, 'mode-live-withdrawn-unarmed'));
    expect(groups).toEqual([expect.objectContaining({ severity: 'critical' })]);
    expect(await db.select().from(alertEvents).where(and(eq(alertEvents.groupId, groups[0]!.id)))).toHaveLength(1);
    c.kill('SIGTERM');
    expect(await c.exited).toBe(0);
  }, 420_000);
});
