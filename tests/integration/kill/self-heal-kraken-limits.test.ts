// Self-heal against a Kraken that refuses for its rate limit or maintenance: a passing, venue-wide
// refusal is deferred (a warning, tried again on the next watchdog pass, a rate limit not retried
// within the pass) and pages (critical) only once it has lasted TRANSIENT_PAGE_AFTER_MS. Against
// the Kraken simulator on the live path, real PostgreSQL, time from a ManualClock.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import { buildAppContext, type OwnedContext } from '../../../src/app/build-context.js';
import { ManualClock } from '../../../src/clock.js';
import { testConfig } from '../../../src/config/env.js';
import { silentLogger } from '../../../src/logger.js';
import { updateBotState } from '../../../src/services/bot-state.js';
import { TRANSIENT_PAGE_AFTER_MS } from '../../../src/services/self-heal/self-heal.js';
import { startWatchdog } from '../../../src/services/self-heal/watchdog.js';
import { cliActor } from '../../../src/cli/with-context.js';
import { selfHealCommand } from '../../../commands/self-heal.js';
import { createPostgresTestDb, emptyTablesSql, type TestDatabase } from '../../support/db.js';
import { recordingAlerts, type RecordingAlerts } from '../../support/engine.js';
import { startFakeKraken, type FakeKraken } from '../../support/fake-kraken.js';
import { TEST_API_KEY, TEST_API_SECRET } from '../../support/kraken-test-keys.js';

let database: TestDatabase;
let kraken: FakeKraken;
let ctx: OwnedContext;
let clock: ManualClock;
let alerts: RecordingAlerts;
beforeAll(async () => {
  database = await createPostgresTestDb();
});
afterAll(async () => {
  await database?.close();
});
afterEach(async () => {
  await ctx?.close();
  await kraken?.close();
  await database.db.execute(sql.raw(emptyTablesSql(['bot_state', 'watchdog_clocks'], { restartIdentity: false })));
});

async function setup() {
  kraken = await startFakeKraken({ apiKey: TEST_API_KEY, secret: TEST_API_SECRET });
  clock = new ManualClock('2026-03-02T10:00:00Z');
  alerts = recordingAlerts();
  ctx = await buildAppContext({
    config: testConfig({
      IS_LIVE: 'true', KRAKEN_API_KEY: TEST_API_KEY, KRAKEN_API_SECRET: TEST_API_SECRET, KRAKEN_API_URL: kraken.url, KRAKEN_RATE_LIMIT: 'false',
      DATA_DIR: mkdtempSync(join(tmpdir(), 'ctb-self-heal-limits-')),
    }),
    database, clock, logger: silentLogger(), alerts: () => alerts,
  });
  await updateBotState(database.db, clock, { mode: 'live' });
  return startWatchdog(ctx, { timer: false, sleep: async () => {} });
}

const critical = () => alerts.raised.filter((a) => a.severity === 'critical');

describe('self-heal when Kraken refuses for its rate limit or maintenance', () => {
  it('defers a reconcile Kraken rate-limits (warning), retries it on the next pass, and pages only once it lasts 15 minutes', async () => {
    const watchdog = await setup();
    kraken.failNext('OpenOrders', 'reset');
    kraken.failNext('BalanceEx', 'EAPI:Rate limit exceeded', 100);
    const first = await watchdog.tick();
    expect(first?.actions.find((a) => a.check === 'exchange')).toMatchObject({ status: 'healed' });
    expect(first?.actions.find((a) => a.check === 'reconcile')).toMatchObject({ status: 'deferred', detail: expect.stringMatching(/rate_limited: Kraken BalanceEx.*tried again on the next pass/) });
    expect(critical()).toEqual([]);
    expect(alerts.raised).toContainEqual(expect.objectContaining({ source: 'self_heal', severity: 'warning', fingerprint: 'self-heal:reconcile:deferred', title: expect.stringMatching(/^Self-heal will retry reconcile/) }));

    // Kraken answers the probe at once now; the deferred reconcile runs again anyway.
    clock.advance(TRANSIENT_PAGE_AFTER_MS - 1);
    const second = await watchdog.tick();
    expect(second?.actions.find((a) => a.check === 'reconcile')).toMatchObject({ status: 'deferred' });
    expect(kraken.callsTo('BalanceEx')).toHaveLength(2);
    expect(critical()).toEqual([]);

    clock.advance(1);
    const third = await watchdog.tick();
    expect(third?.actions.find((a) => a.check === 'reconcile')).toMatchObject({ status: 'failed', detail: expect.stringMatching(/refused for rate_limited for 15 min \(limit 15 min\)$/) });
    expect(critical()).toEqual([expect.objectContaining({ fingerprint: 'self-heal:reconcile:failed' })]);
  });

  it('does not hammer a rate-limited Kraken: the probe is asked once a pass and deferred, not failed', async () => {
    const watchdog = await setup();
    kraken.failNext('OpenOrders', 'EAPI:Rate limit exceeded', 100);
    const result = await watchdog.tick();
    expect(result?.actions.find((a) => a.check === 'exchange')).toMatchObject({ status: 'deferred', attempts: 1 });
    expect(kraken.callsTo('OpenOrders')).toHaveLength(1);
    expect(critical()).toEqual([]);
  });

  it('defers the probe while Kraken is in maintenance (asked once a pass) and resyncs on the first pass it answers', async () => {
    const watchdog = await setup();
    kraken.simulator.setSystemStatus('maintenance');
    expect((await watchdog.tick())?.actions.find((a) => a.check === 'exchange')).toMatchObject({ status: 'deferred', attempts: 1, detail: expect.stringMatching(/exchange_unavailable/) });
    expect(kraken.callsTo('OpenOrders')).toHaveLength(1);
    expect(critical()).toEqual([]);
    kraken.simulator.setSystemStatus('online');
    clock.advance(60_000);
    const back = await watchdog.tick();
    expect(back?.actions.find((a) => a.check === 'exchange')).toMatchObject({ status: 'ok', detail: expect.stringMatching(/resynced/) });
  });

  it('a one-off `ctb self-heal` has no next pass: it says when to run it again, for the rate limit and for maintenance', async () => {
    await setup();
    const once = () => selfHealCommand.run({ ...ctx, actor: cliActor() }, { attempts: 1 });
    kraken.failNext('OpenOrders', 'EAPI:Rate limit exceeded', 1);
    const limited = (await once()).actions.find((a) => a.check === 'exchange');
    expect(limited).toMatchObject({ status: 'deferred', detail: expect.stringMatching(/Kraken refuses for now \(rate_limited\): run `ctb self-heal` again in a minute or so, once the API key's call counter has fallen/) });
    kraken.simulator.setSystemStatus('maintenance');
    const maintenance = (await once()).actions.find((a) => a.check === 'exchange');
    expect(maintenance).toMatchObject({ status: 'deferred', detail: expect.stringMatching(/Kraken refuses for now \(exchange_unavailable\): run `ctb self-heal` again once Kraken's system status is online/) });
    // Nothing retries a one-off run by itself: neither its text nor its alert says so.
    const deferredAlerts = alerts.raised.filter((a) => a.fingerprint === 'self-heal:exchange:deferred');
    expect(deferredAlerts.map((a) => a.title)).toEqual([expect.stringMatching(/^Self-heal deferred exchange: /), expect.stringMatching(/^Self-heal deferred exchange: /)]);
    for (const text of [limited?.detail, maintenance?.detail, ...deferredAlerts.map((a) => a.title)]) expect(text).not.toMatch(/next pass|will retry/);
  });
});
