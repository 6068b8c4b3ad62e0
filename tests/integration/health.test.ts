// GET /healthz answers within HEALTHZ_DB_TIMEOUT whatever PostgreSQL does (through a proxy that can
// stall or drop it): 503 saying what it could not read, and 200 again once the database answers.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import { startBot, type RunningBot } from '../../src/app/runtime.js';
import { testConfig } from '../../src/config/env.js';
import { connectPostgres, type Database } from '../../src/db/client.js';
import { healthFeature } from '../../src/http/health.js';
import { ManualClock } from '../../src/clock.js';
import { acquireLease, releaseLease } from '../../src/db/queries/engine-lease.js';
import { updateBotState } from '../../src/services/bot-state.js';
import { setEngineLease } from '../../src/services/engine-lease/runtime.js';
import { silentLogger } from '../../src/logger.js';
import { createPostgresTestDb, type TestDatabase } from '../support/db.js';
import { startStallProxy, type StallProxy } from '../support/stall-proxy.js';

let database: TestDatabase;
let proxy: StallProxy;
let viaProxy: Database;
let bot: RunningBot;

beforeAll(async () => {
  database = await createPostgresTestDb();
  proxy = await startStallProxy();
  viaProxy = connectPostgres(proxy.urlFor(database.url), { max: 3 });
  bot = await startBot({
    // DATABASE_URL names where the database is (the open handle below is what is used).
    config: testConfig({ HEALTHZ_DB_TIMEOUT: '500ms', HOST: '127.0.0.1', DATABASE_URL: proxy.urlFor(database.url) }),
    role: 'web', feed: 'replay', port: 0, logger: silentLogger(), database: viaProxy, features: [healthFeature],
  });
});
afterAll(async () => {
  proxy?.set('forward');
  await bot?.stop();
  await viaProxy?.close();
  await proxy?.close();
  await database?.close();
});

async function healthz(): Promise<{ status: number; body: Record<string, unknown>; ms: number }> {
  const started = Date.now();
  const res = await fetch(`http://127.0.0.1:${bot.port}/healthz`, { signal: AbortSignal.timeout(10_000) });
  return { status: res.status, body: (await res.json()) as Record<string, unknown>, ms: Date.now() - started };
}

describe('GET /healthz', () => {
  it('answers 200 with the stored state while the database answers', async () => {
    const r = await healthz();
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ status: 'ok', mode: 'paper', halted: false, tradingState: 'active', database: 'postgres', armed: false, armedHere: false });
  });

  it("says the running engine's mode and arming (from its lease), not this unarmed web replica's", async () => {
    // The worker elsewhere runs the engine armed; the database says live; this replica has no IS_LIVE.
    const worker = { holderId: 'worker-1:4242:00000000', host: 'worker-1', pid: 4242, role: 'worker', feed: 'kraken', armed: true, hasKrakenKeys: true };
    expect((await acquireLease(database.db, worker, 30_000)).acquired).toBe(true);
    await updateBotState(database.db, new ManualClock('2026-01-05T03:00:00Z'), { mode: 'live' });
    try {
      const r = await healthz();
      expect(r.status).toBe(200);
      expect(r.body).toMatchObject({ mode: 'live', requestedMode: 'live', armed: true, armedHere: false,
        engine: { state: 'running', host: 'worker-1', pid: 4242, armed: true, thisProcess: false } });
    } finally {
      await updateBotState(database.db, new ManualClock('2026-01-05T03:00:00Z'), { mode: 'paper' });
      await releaseLease(database.db, worker.holderId);
    }
  });

  it("says a stale lease's mode unknown and its holder's own arming: a hung armed engine that wakes trades live again", async () => {
    const worker = { holderId: 'worker-1:4242:00000000', host: 'worker-1', pid: 4242, role: 'worker', feed: 'kraken', armed: true, hasKrakenKeys: true };
    expect((await acquireLease(database.db, worker, 30_000)).acquired).toBe(true);
    await database.db.execute(sql`update engine_lease set heartbeat_at = now() - interval '1 hour'`);
    await updateBotState(database.db, new ManualClock('2026-01-05T03:00:00Z'), { mode: 'live' });
    try {
      const r = await healthz();
      expect(r.status).toBe(200);
      expect(r.body).toMatchObject({ mode: 'unknown', requestedMode: 'live', armed: true, armedHere: false,
        engine: { state: 'stale', host: 'worker-1', pid: 4242, armed: true, thisProcess: false } });
    } finally {
      await updateBotState(database.db, new ManualClock('2026-01-05T03:00:00Z'), { mode: 'paper' });
      await releaseLease(database.db, worker.holderId);
    }
  });

  it("says a stale lease's mode paper when its holder could not trade live (not armed), as `ctb mode status` does", async () => {
    const worker = { holderId: 'worker-1:4242:00000000', host: 'worker-1', pid: 4242, role: 'worker', feed: 'kraken', armed: false, hasKrakenKeys: true };
    expect((await acquireLease(database.db, worker, 30_000)).acquired).toBe(true);
    await database.db.execute(sql`update engine_lease set heartbeat_at = now() - interval '1 hour'`);
    await updateBotState(database.db, new ManualClock('2026-01-05T03:00:00Z'), { mode: 'live' });
    try {
      const r = await healthz();
      expect(r.body).toMatchObject({ mode: 'paper', requestedMode: 'live', armed: false, engine: { state: 'stale', armed: false } });
    } finally {
      await updateBotState(database.db, new ManualClock('2026-01-05T03:00:00Z'), { mode: 'paper' });
      await releaseLease(database.db, worker.holderId);
    }
  });

  it('with the database stalled, says the engine unarmed when this unarmed process is the one running it', async () => {
    setEngineLease(bot.ctx, { holdsLease: () => true });
    proxy.set('stall');
    try {
      const r = await healthz();
      expect(r.status).toBe(503);
      expect(r.body).toMatchObject({ mode: 'unknown', armed: false, armedHere: false, engine: { thisProcess: true } });
    } finally {
      proxy.set('forward');
      setEngineLease(bot.ctx, null);
    }
  });

  it('with the database stalled, answers 503 within its timeout saying what it could not read — every time, with the pool full of hung queries', async () => {
    proxy.set('stall');
    try {
      for (let i = 0; i < 5; i++) {
        const r = await healthz();
        expect(r.status).toBe(503);
        expect(r.body).toMatchObject({ status: 'degraded', database: 'no answer within 500 ms', databaseKind: 'postgres', mode: 'unknown', armed: null, armedHere: false });
        expect(r.ms).toBeLessThan(2_000);
      }
    } finally {
      proxy.set('forward');
    }
  });

  it('with the database dropping connections, names what happened; and is 200 again once it answers', async () => {
    proxy.set('down');
    const r = await healthz();
    expect(r.status).toBe(503);
    expect(r.body.database).toMatch(/^The database at 127\.0\.0\.1:\d+ closed the connection|^The database refused the connection at 127\.0\.0\.1:\d+/);
    expect(r.body.database).not.toMatch(/Failed query/);
    proxy.set('forward');
    let again = await healthz();
    for (let i = 0; i < 40 && again.status !== 200; i++) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      again = await healthz();
    }
    expect(again.status).toBe(200);
  });
});
