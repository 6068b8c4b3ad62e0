// Kraken's dead man's switch with an injected clock and nock at the Kraken edge: armed while live
// (CancelAllOrdersAfter with the configured timeout), renewed every interval and not before,
// disarmed (timeout 0) on stop, when trading stops being live, and around Kraken maintenance;
// failures alert and never throw. Halted, it disarms only after Kraken confirmed zero open orders.
import nock from 'nock';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import { buildAppContext, type OwnedContext } from '../../../src/app/build-context.js';
import { startBot } from '../../../src/app/runtime.js';
import { ManualClock, systemClock } from '../../../src/clock.js';
import { testConfig } from '../../../src/config/env.js';
import { createCcxtKraken } from '../../../src/exchange/kraken/ccxt-client.js';
import { LiveTradingNotArmedError } from '../../../src/exchange/errors.js';
import { silentLogger } from '../../../src/logger.js';
import { updateBotState } from '../../../src/services/bot-state.js';
import { DeadMansSwitch } from '../../../src/services/kill/dead-man.js';
import { killFeature } from '../../../src/app/features/kill.js';
import { haltCancelState } from '../../../src/services/kill/halt-cancel.js';
import { setEngineLease } from '../../../src/services/engine-lease/runtime.js';
import { latchHalt, releaseHalt } from '../../../src/services/kill/runtime.js';
import * as R from '../../support/kraken-recordings.js';
import { createPostgresTestDb, emptyTablesSql, type TestDatabase } from '../../support/db.js';
import { startFakeKraken, type FakeKraken } from '../../support/fake-kraken.js';
import { TEST_API_KEY, TEST_API_SECRET } from '../../support/kraken-test-keys.js';
import { recordingAlerts, type RecordingAlerts } from '../../support/engine.js';
import { TEST_KRAKEN_KEY, TEST_KRAKEN_SECRET } from '../../support/kill-context.js';

const KRAKEN = 'https://kraken.deadman.test';
let database: TestDatabase;
let ctx: OwnedContext;
let clock: ManualClock;
let alerts: RecordingAlerts;
/** Timeouts (seconds) sent to CancelAllOrdersAfter, in order. */
let timeouts: number[];
let status: string;
let cancelAfterError: string | null;

beforeAll(async () => {
  database = await createPostgresTestDb();
  nock.disableNetConnect();
  nock.enableNetConnect('127.0.0.1');
});
afterAll(async () => {
  nock.cleanAll();
  nock.enableNetConnect();
  await database?.close();
});
afterEach(async () => {
  nock.cleanAll();
  await ctx?.close();
  await database.db.execute(sql.raw(emptyTablesSql(['bot_state'], { restartIdentity: false })));
});

async function setup(env: Record<string, string> = {}): Promise<DeadMansSwitch> {
  timeouts = [];
  status = 'online';
  cancelAfterError = null;
  nock(KRAKEN).persist()
    .get('/0/public/SystemStatus').reply(200, () => ({ error: [], result: { status, timestamp: '2026-03-02T10:00:00Z' } }))
    .post('/0/private/CancelAllOrdersAfter').reply(200, (_uri, body) => {
      if (cancelAfterError) return { error: [cancelAfterError] };
      const timeout = Number(new URLSearchParams(body as string).get('timeout'));
      timeouts.push(timeout);
      return { error: [], result: { currentTime: '2026-03-02T10:00:00Z', triggerTime: timeout > 0 ? '2026-03-02T10:01:00Z' : '0' } };
    });
  clock = new ManualClock('2026-03-02T10:00:00Z');
  alerts = recordingAlerts();
  ctx = await buildAppContext({
    config: testConfig({ IS_LIVE: 'true', KRAKEN_API_KEY: TEST_KRAKEN_KEY, KRAKEN_API_SECRET: TEST_KRAKEN_SECRET, KRAKEN_API_URL: KRAKEN, KRAKEN_RATE_LIMIT: 'false', ...env }),
    database, clock, logger: silentLogger(), alerts: () => alerts,
  });
  await updateBotState(database.db, clock, { mode: 'live' });
  return new DeadMansSwitch(ctx);
}

describe("dead man's switch", () => {
  it('arms with the configured timeout, renews every interval and not before, disarms on stop', async () => {
    const dms = await setup({ DEAD_MAN_TIMEOUT: '60s', DEAD_MAN_INTERVAL: '20s' });
    expect(await dms.tick()).toMatchObject({ armed: true, reason: 'live', krakenStatus: 'online' });
    expect(timeouts).toEqual([60]);
    clock.advance(5_000);
    await dms.tick();
    clock.advance(14_000);
    await dms.tick();
    expect(timeouts).toEqual([60]); // 19 s: not due yet
    clock.advance(1_000);
    await dms.tick();
    expect(timeouts).toEqual([60, 60]);
    clock.advance(20_000);
    await dms.tick();
    expect(timeouts).toEqual([60, 60, 60]);
    expect(await dms.stop()).toMatchObject({ armed: false, reason: 'stopped' });
    expect(timeouts).toEqual([60, 60, 60, 0]);
  });

  it('disarms when trading stops being live (paper, or a halt) and re-arms when live again', async () => {
    const dms = await setup();
    await dms.tick();
    await updateBotState(database.db, clock, { mode: 'paper' });
    expect(await dms.tick()).toMatchObject({ armed: false, reason: 'not_live' });
    expect(timeouts).toEqual([60, 0]);
    await dms.tick();
    expect(timeouts).toEqual([60, 0]); // nothing to disarm twice
    await updateBotState(database.db, clock, { mode: 'live' });
    await dms.tick();
    expect(timeouts).toEqual([60, 0, 60]);
  });

  it('halted: cancels every order on Kraken and confirms none is open, and only then disarms', async () => {
    const dms = await setup({ KILL_CONFIRM_ATTEMPTS: '1' });
    const calls: string[] = [];
    nock(KRAKEN)
      .post('/0/private/CancelAll').reply(200, () => (calls.push('CancelAll'), { error: [], result: { count: 2 } }))
      .post('/0/private/OpenOrders').reply(200, () => (calls.push('OpenOrders'), R.openOrders({})));
    await dms.tick();
    latchHalt(ctx, 'kill');
    // The first halted tick starts the cancel; the switch stays armed until Kraken confirms.
    expect(await dms.tick()).toMatchObject({ armed: true, reason: 'halted' });
    expect(timeouts).toEqual([60]);
    for (let i = 0; i < 100 && haltCancelState(ctx) === 'running'; i++) await new Promise((r) => setTimeout(r, 10));
    expect(haltCancelState(ctx)).toBe('confirmed');
    expect(await dms.tick()).toMatchObject({ armed: false, reason: 'halted' });
    expect(calls).toEqual(['CancelAll', 'OpenOrders']);
    expect(timeouts).toEqual([60, 0]);
  });

  it('a halt another process wrote, read before this process latched it, is a halt: no disarm until Kraken confirms zero open orders', async () => {
    // The halt watcher's poll and the switch's tick read bot_state on their own schedules: the tick
    // can see `halted` first. Read as "not live", that tick disarmed Kraken's backstop with the
    // orders still open, before any cancel was sent.
    const dms = await setup({ KILL_CONFIRM_ATTEMPTS: '1' });
    const calls: string[] = [];
    let open = true;
    nock(KRAKEN)
      .post('/0/private/CancelAll').reply(200, () => (calls.push('CancelAll'), (open = false), { error: [], result: { count: 2 } }))
      .post('/0/private/OpenOrders').reply(200, () => (calls.push('OpenOrders'), R.openOrders(open ? { 'OOPEN-1': { vol: '0.5' } } : {})));
    await dms.tick();
    await updateBotState(database.db, clock, { halted: true, haltedReason: 'killed elsewhere', haltedBy: 'cli:ops', haltedAt: clock.now() });
    expect(await dms.tick()).toMatchObject({ armed: true, reason: 'halted' });
    expect(timeouts).toEqual([60]);
    for (let i = 0; i < 100 && haltCancelState(ctx) === 'running'; i++) await new Promise((r) => setTimeout(r, 10));
    expect(haltCancelState(ctx)).toBe('confirmed');
    // Confirmed, but this process has not latched the halt yet: the switch waits for the latch.
    expect(await dms.tick()).toMatchObject({ armed: true, reason: 'halted' });
    latchHalt(ctx, 'killed elsewhere');
    expect(await dms.tick()).toMatchObject({ armed: false, reason: 'halted' });
    expect(calls).toEqual(['CancelAll', 'OpenOrders']);
    expect(timeouts).toEqual([60, 0]);
  });

  it("a second halt read from the database before the latch does not disarm on the first halt's confirmed cancel", async () => {
    const dms = await setup({ KILL_CONFIRM_ATTEMPTS: '1' });
    nock(KRAKEN)
      .post('/0/private/CancelAll').reply(200, { error: [], result: { count: 0 } })
      .post('/0/private/OpenOrders').reply(200, R.openOrders({}));
    await dms.tick();
    latchHalt(ctx, 'kill');
    await dms.tick();
    for (let i = 0; i < 100 && haltCancelState(ctx) === 'running'; i++) await new Promise((r) => setTimeout(r, 10));
    expect(await dms.tick()).toMatchObject({ armed: false, reason: 'halted' });
    // Resumed and live again: armed; new orders may be open.
    releaseHalt(ctx);
    await updateBotState(database.db, clock, { halted: false });
    expect(await dms.tick()).toMatchObject({ armed: true, reason: 'live' });
    // Halted again by another process; this process has not latched it. The first halt's cancel
    // said zero open orders then, which says nothing of now.
    await updateBotState(database.db, clock, { halted: true, haltedReason: 'killed again', haltedBy: 'cli:ops', haltedAt: clock.now() });
    expect(await dms.tick()).toMatchObject({ armed: true, reason: 'halted' });
    expect(timeouts).toEqual([60, 0, 60]);
  });

  it('halted with an order Kraken still shows open: alerts, stops renewing, and leaves the switch to run out', async () => {
    // One round, no more time: the order stays open on this Kraken whatever the cancel does.
    const dms = await setup({ KILL_CONFIRM_ATTEMPTS: '1', KILL_CONFIRM_WAIT: '1ms' });
    nock(KRAKEN)
      .get('/0/public/Assets').reply(200, R.assets).get('/0/public/AssetPairs').reply(200, R.assetPairs)
      .post('/0/private/CancelAll').reply(200, { error: [], result: { count: 0 } })
      .post('/0/private/OpenOrders').reply(200, R.openOrders({ 'OSTUCK-1': { vol: '0.5' } }));
    await dms.tick();
    latchHalt(ctx, 'kill');
    await dms.tick();
    for (let i = 0; i < 100 && haltCancelState(ctx) === 'running'; i++) await new Promise((r) => setTimeout(r, 10));
    expect(haltCancelState(ctx)).toBe('unconfirmed');
    clock.advance(30_000);
    expect(await dms.tick()).toMatchObject({ armed: true, reason: 'halted', lastError: expect.stringMatching(/left to run out/) });
    expect(timeouts).toEqual([60]);
    expect(alerts.raised).toContainEqual(expect.objectContaining({ severity: 'critical', fingerprint: 'halt-cancel:unconfirmed', title: expect.stringMatching(/1 order\(s\) are still open on the exchange at https:\/\/kraken\.deadman\.test \(KRAKEN_API_URL, not Kraken\)/) }));
  });

  it('a standby worker (another holds the engine lease) leaves the switch alone, and arms when it takes over', async () => {
    const dms = await setup();
    let held = false;
    setEngineLease(ctx, { holdsLease: () => held });
    expect(await dms.tick()).toMatchObject({ armed: false, reason: 'standby' });
    expect(timeouts).toEqual([]);
    held = true;
    expect(await dms.tick()).toMatchObject({ armed: true, reason: 'live' });
    held = false;
    expect(await dms.tick()).toMatchObject({ armed: false, reason: 'standby' });
    expect(timeouts).toEqual([60, 0]);
  });

  it("the engine's own lease renewals unanswered (the database away, lost to nobody): neither renewed nor disarmed, left to run out; renewed once confirmed again", async () => {
    const dms = await setup({ DEAD_MAN_TIMEOUT: '60s', DEAD_MAN_INTERVAL: '20s' });
    let confirmed = true;
    setEngineLease(ctx, { holdsLease: () => confirmed, leaseUnconfirmed: () => !confirmed });
    expect(await dms.tick()).toMatchObject({ armed: true, reason: 'live' });
    expect(timeouts).toEqual([60]);
    // Renewals go unanswered: not "standby" (no other worker trades), no disarm (timeout 0) that would
    // drop Kraken's backstop, and no renewal past the interval either: Kraken cancels if it lasts.
    confirmed = false;
    clock.advance(25_000);
    expect(await dms.tick()).toMatchObject({ armed: true, reason: 'lease_unconfirmed' });
    clock.advance(25_000);
    expect(await dms.tick()).toMatchObject({ armed: true, reason: 'lease_unconfirmed' });
    expect(timeouts).toEqual([60]);
    confirmed = true;
    expect(await dms.tick()).toMatchObject({ armed: true, reason: 'live' });
    expect(timeouts).toEqual([60, 60]);
  });

  it('disarms around Kraken maintenance and re-arms once Kraken is online again', async () => {
    const dms = await setup();
    await dms.tick();
    status = 'maintenance';
    clock.advance(20_000);
    expect(await dms.tick()).toMatchObject({ armed: false, reason: 'maintenance', krakenStatus: 'maintenance' });
    clock.advance(20_000);
    await dms.tick();
    expect(timeouts).toEqual([60, 0]);
    status = 'online';
    clock.advance(1_000);
    expect(await dms.tick()).toMatchObject({ armed: true, reason: 'live', krakenStatus: 'online' });
    expect(timeouts).toEqual([60, 0, 60]);
  });

  it('a failed renewal warns once, does not throw, is retried after a pause, and pages once the switch is within one interval of firing', async () => {
    const dms = await setup();
    await dms.tick();
    cancelAfterError = 'EService:Unavailable';
    clock.advance(20_000);
    const failed = await dms.tick();
    expect(failed.lastError).toMatch(/Unavailable|unavailable/);
    await dms.tick();
    // 40 s left before Kraken fires: a blip the next renewal may heal — a warning, nobody paged.
    expect(alerts.raised).toEqual([expect.objectContaining({ source: 'kill', severity: 'warning', fingerprint: 'dead-man:renew', title: expect.stringMatching(/cancels every order at 2026-03-02T10:01:00.000Z/) })]);
    clock.advance(20_000);
    await dms.tick();
    await dms.tick();
    // 20 s left (one renewal interval): still failing — critical, once.
    expect(alerts.raised).toEqual([
      expect.objectContaining({ severity: 'warning', fingerprint: 'dead-man:renew' }),
      expect.objectContaining({ source: 'kill', severity: 'critical', fingerprint: 'dead-man:renew:firing', title: expect.stringMatching(/cancels every order at 2026-03-02T10:01:00.000Z/) }),
    ]);
    cancelAfterError = null;
    // The second failure (at 40 s) pauses 4 s: Kraken is not asked again before 44 s.
    clock.advance(3_999);
    expect(await dms.tick()).toMatchObject({ armed: true, lastError: expect.any(String), retryAt: new Date('2026-03-02T10:00:44Z') });
    clock.advance(1);
    expect(await dms.tick()).toMatchObject({ armed: true, lastError: null, retryAt: null });
    expect(timeouts).toEqual([60, 60]);
  });

  it('the guarded fetch lets CancelAllOrdersAfter through armed or not (it only ever cancels), and AddOrder only when armed', async () => {
    const seen: string[] = [];
    nock(KRAKEN).post('/0/private/CancelAllOrdersAfter').times(2).reply(200, { error: [], result: { currentTime: 'x', triggerTime: '0' } });
    const config = testConfig({ KRAKEN_API_KEY: TEST_KRAKEN_KEY, KRAKEN_API_SECRET: TEST_KRAKEN_SECRET, KRAKEN_API_URL: KRAKEN });
    const unarmed = await createCcxtKraken(config, { armed: false, withKeys: true, enableRateLimit: false, onRequest: (r) => seen.push(r.url) });
    await unarmed.privatePostCancelAllOrdersAfter({ timeout: 0 });
    await expect(unarmed.privatePostAddOrder({ pair: 'XBTUSD', type: 'buy', ordertype: 'market', volume: '1' })).rejects.toBeInstanceOf(LiveTradingNotArmedError);
    const armed = await createCcxtKraken(config, { armed: true, withKeys: true, enableRateLimit: false, onRequest: (r) => seen.push(r.url) });
    await armed.privatePostCancelAllOrdersAfter({ timeout: 60 });
    expect(seen).toEqual([`${KRAKEN}/0/private/CancelAllOrdersAfter`, `${KRAKEN}/0/private/CancelAllOrdersAfter`]);
  });
});

describe("the running bot's dead man's switch", () => {
  it('is armed on Kraken while the bot trades live and disarmed by a graceful stop', async () => {
    const kraken = await startFakeKraken({ apiKey: TEST_API_KEY, secret: TEST_API_SECRET });
    try {
      await updateBotState(database.db, systemClock, { mode: 'live' });
      const config = testConfig({
        IS_LIVE: 'true', KRAKEN_API_KEY: TEST_API_KEY, KRAKEN_API_SECRET: TEST_API_SECRET, KRAKEN_API_URL: kraken.url, KRAKEN_RATE_LIMIT: 'false',
        DEAD_MAN_TIMEOUT: '30s', DEAD_MAN_INTERVAL: '10s', HOST: '127.0.0.1',
      });
      const bot = await startBot({ config, role: 'worker', feed: 'replay', port: 0, logger: silentLogger(), database, features: [killFeature] });
      for (let i = 0; i < 250 && kraken.state.deadMan.timeoutSeconds === 0; i++) await new Promise((r) => setTimeout(r, 20));
      expect(kraken.state.deadMan.timeoutSeconds).toBe(30);
      expect(kraken.callsTo('SystemStatus').length).toBeGreaterThan(0);
      await bot.stop();
      expect(kraken.state.deadMan).toEqual({ timeoutSeconds: 0, triggerAt: null });
      expect(kraken.callsTo('CancelAllOrdersAfter').map((c) => c.params['timeout'])).toEqual(['30', '0']);
    } finally {
      await kraken.close();
    }
  });
});

describe("the dead man's switch while Kraken is down or refuses for its rate limit", () => {
  // Against the Kraken simulator: its private API answers EService:Unavailable in maintenance, and
  // each refused call still counts on Kraken's REST counter, so retries must pause.
  async function simulatorSwitch(kraken: FakeKraken): Promise<DeadMansSwitch> {
    clock = new ManualClock('2026-03-02T10:00:00Z');
    alerts = recordingAlerts();
    ctx = await buildAppContext({
      config: testConfig({
        IS_LIVE: 'true', KRAKEN_API_KEY: TEST_API_KEY, KRAKEN_API_SECRET: TEST_API_SECRET, KRAKEN_API_URL: kraken.url, KRAKEN_RATE_LIMIT: 'false',
        DEAD_MAN_TIMEOUT: '60s', DEAD_MAN_INTERVAL: '20s',
      }),
      database, clock, logger: silentLogger(), alerts: () => alerts,
    });
    await updateBotState(database.db, clock, { mode: 'live' });
    return new DeadMansSwitch(ctx);
  }

  /** Ticks once a (manual-clock) second up to `toSecond`; returns the seconds at which CancelAllOrdersAfter was sent. */
  async function tickUntil(dms: DeadMansSwitch, kraken: FakeKraken, toSecond: number, before?: (second: number) => void): Promise<number[]> {
    const sent: number[] = [];
    for (let s = Math.round((clock.now().getTime() - Date.parse('2026-03-02T10:00:00Z')) / 1000) + 1; s <= toSecond; s++) {
      clock.set(new Date(Date.parse('2026-03-02T10:00:00Z') + s * 1000));
      before?.(s);
      const n = kraken.callsTo('CancelAllOrdersAfter').length;
      await dms.tick();
      if (kraken.callsTo('CancelAllOrdersAfter').length > n) sent.push(s);
    }
    return sent;
  }

  it('pauses its disarm retries during a 40 s maintenance (2 s, doubling) and re-arms on the first tick Kraken is online', async () => {
    const kraken = await startFakeKraken({ apiKey: TEST_API_KEY, secret: TEST_API_SECRET });
    try {
      const dms = await simulatorSwitch(kraken);
      expect(await dms.tick()).toMatchObject({ armed: true, reason: 'live' });
      const sent = await tickUntil(dms, kraken, 60, (s) => {
        if (s === 20) kraken.simulator.setSystemStatus('maintenance');
        if (s === 60) kraken.simulator.setSystemStatus('online');
      });
      // Disarm refused at 20 s, then 2, 4, 8, 16 s apart; Kraken online at 60 s: renewed at once.
      expect(sent).toEqual([20, 22, 26, 34, 50, 60]);
      expect(kraken.callsTo('CancelAllOrdersAfter').map((c) => c.params['timeout'])).toEqual(['60', '0', '0', '0', '0', '0', '60']);
      expect(dms.status()).toMatchObject({ armed: true, reason: 'live', lastError: null, retryAt: null });
      expect(kraken.state.deadMan.timeoutSeconds).toBe(60);
    } finally {
      await kraken.close();
    }
  });

  it("pauses renewals Kraken refuses for its rate limit, but still tries once before the switch's timer runs out", async () => {
    const kraken = await startFakeKraken({ apiKey: TEST_API_KEY, secret: TEST_API_SECRET });
    try {
      const dms = await simulatorSwitch(kraken);
      await dms.tick();
      kraken.failNext('CancelAllOrdersAfter', 'EAPI:Rate limit exceeded', 5);
      // Refused at 20, 22, 26, 34, 50 s; the next pause (32 s) would pass the 60 s timer: tried at 58 s.
      expect(await tickUntil(dms, kraken, 59)).toEqual([20, 22, 26, 34, 50, 58]);
      expect(dms.status()).toMatchObject({ armed: true, lastError: null, lastRenewedAt: new Date('2026-03-02T10:00:58Z') });
    } finally {
      await kraken.close();
    }
  });
});
