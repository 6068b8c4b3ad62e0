// The engine lease is a fence in the order-intent statement (src/engine/ledger/intent-lease.ts), on the
// shipped `ctb start` (a real process) trading live against the Kraken simulator: once a standby's
// takeover of the lease row is committed, the engine that held it sends no order — even while its own
// holdsLease(), a judgement on time, still says it holds the lease (a process paused past a takeover:
// here a long TTL keeps the next renewal, which would find the row taken, well after the signal).
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
import { baseEnv, bot, killBotsAfterEach } from './one-engine-bots.js';

killBotsAfterEach();

const STANDBY = 'standby-host:4242:0badcafe';

describe('an engine whose lease was taken over while it still trusts it', () => {
  let database: TestDatabase | undefined;
  let kraken: SteppedKraken | undefined;
  afterAll(async () => {
    await kraken?.close();
    await database?.close();
  });

  it('sends no order to Kraken on its next signal: the intent is refused, the holder named, and the engine stops trading', async () => {
    database = await createPostgresTestDb();
    kraken = await startSteppedKraken();
    const k = kraken;
    const db = database.db;
    await execute(db, sql`insert into bot_state (id, mode) values (1, 'live') on conflict (id) do update set mode = 'live'`);
    const dir = mkdtempSync(join(tmpdir(), 'ctb-intent-fence-'));
    mkdirSync(join(dir, 'a'));
    const a = bot(['start', '--role', 'worker'], baseEnv(join(dir, 'a'), {
      // Renewed every 100 s, trusted for 240 s: holdsLease() stays true through the whole test.
      DATABASE_URL: database.url, ENGINE_LEASE_TTL: '5m', IS_LIVE: 'true', KRAKEN_API_KEY: TEST_API_KEY, KRAKEN_API_SECRET: TEST_API_SECRET,
      KRAKEN_API_URL: k.url, KRAKEN_RATE_LIMIT: 'false', MARKET_FEED: 'kraken', MARKET_POLL_INTERVAL: '100ms', RECONCILE_PROBE_INTERVAL: '1s',
    }), dir);
    await a.waitFor(/engine lease taken: this process runs the engine/, 120_000);
    await waitUntil(async () => (await execute(db, sql`select 1 from bot_state where id = 1 and reconciled_through is not null`)).length > 0, 60_000,
      () => `for A's first reconciliation:\n${a.output().slice(-3000)}`);
    // A trades live: its signals reach Kraken.
    await k.play(3 * ROUND_TRIP_CANDLES, { until: () => k.addOrders() > 0 });
    expect(k.addOrders(), a.output().slice(-3000)).toBeGreaterThan(0);

    // A standby takes the lease over as stale, committed, while A's last renewal is recent.
    await execute(db, sql`update engine_lease set holder_id = ${STANDBY}, host = 'standby-host', pid = 4242, role = 'worker', taken_over_from = holder_id,
      acquired_at = now(), heartbeat_at = now() where id = 1`);
    const placed = k.addOrders();
    const refused = /order intent refused: the engine lease is held by standby-host:4242:0badcafe/;
    const done = () => k.addOrders() > placed || refused.test(a.output());
    // Played by hand, not with play(): once the engine stops trading its feed stops asking for candles.
    for (let played = 0; played < 3 * ROUND_TRIP_CANDLES && !done(); played += 4) {
      const asked = k.callsTo('OHLC').length;
      k.sim.advance(4);
      await waitUntil(() => k.callsTo('OHLC').length >= asked + 2 || done(), 60_000, () => `for the feed to ask OHLC again:\n${a.output().slice(-3000)}`, 10);
    }
    expect(k.addOrders(), a.output().slice(-3000)).toBe(placed);
    await a.waitFor(refused, 10_000);
    await a.waitFor(/engine lease lost \(the lease row names standby-host:4242:0badcafe: an order intent was refused\): this process stops trading and stands by/, 10_000);
    expect(k.addOrders()).toBe(placed);
  }, 300_000);
});
