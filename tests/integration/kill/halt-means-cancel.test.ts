// Halt means cancel: a running bot that holds the Kraken key and learns of a halt written by another
// process (its halt watcher's poll) cancels every order on Kraken, confirms none is open, and only
// then disarms Kraken's dead man's switch. Against a local Kraken that behaves like Kraken.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startBot } from '../../../src/app/runtime.js';
import { systemClock } from '../../../src/clock.js';
import { testConfig } from '../../../src/config/env.js';
import { silentLogger } from '../../../src/logger.js';
import { updateBotState } from '../../../src/services/bot-state.js';
import { killFeature } from '../../../src/app/features/kill.js';
import { createPostgresTestDb } from '../../support/db.js';
import { startFakeKraken } from '../../support/fake-kraken.js';
import { TEST_API_KEY, TEST_API_SECRET } from '../../support/kraken-test-keys.js';

const cleanup: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  while (cleanup.length) await cleanup.pop()!().catch(() => {});
});

const until = async (what: () => boolean, ms = 10_000) => {
  const deadline = Date.now() + ms;
  while (!what() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  return what();
};

describe('a live bot that learns of a halt', () => {
  it("cancels on Kraken, confirms zero open orders, then disarms the dead man's switch", async () => {
    const database = await createPostgresTestDb();
    cleanup.push(() => database.close());
    const kraken = await startFakeKraken({ apiKey: TEST_API_KEY, secret: TEST_API_SECRET });
    cleanup.push(() => kraken.close());
    for (const txid of ['OPEN-1', 'OPEN-2']) {
      kraken.addOrder({ txid, pair: 'XBTUSD', type: 'sell', ordertype: 'limit', price: '90000', vol: '0.01', vol_exec: '0', status: 'open', opentm: 1 });
    }
    await updateBotState(database.db, systemClock, { mode: 'live' });
    const config = testConfig({
      IS_LIVE: 'true', KRAKEN_API_KEY: TEST_API_KEY, KRAKEN_API_SECRET: TEST_API_SECRET, KRAKEN_API_URL: kraken.url,
      DEAD_MAN_TIMEOUT: '30s', DEAD_MAN_INTERVAL: '10s', HALT_POLL_INTERVAL: '200ms', HOST: '127.0.0.1',
      DATA_DIR: mkdtempSync(join(tmpdir(), 'ctb-halt-cancel-')),
    });
    const bot = await startBot({ config, role: 'worker', feed: 'replay', port: 0, logger: silentLogger(), database, features: [killFeature] });
    cleanup.push(() => bot.stop());
    expect(await until(() => kraken.state.deadMan.timeoutSeconds === 30)).toBe(true);
    expect(kraken.callsTo('CancelAll')).toEqual([]);

    // Another process (a shell, a web replica) writes the halt; this bot was not told otherwise.
    await updateBotState(database.db, systemClock, { halted: true, haltedReason: 'killed elsewhere', haltedBy: 'cli:ops', haltedAt: new Date() });
    expect(await until(() => kraken.state.deadMan.timeoutSeconds === 0)).toBe(true);

    expect([...kraken.state.orders.values()].map((o) => o.status)).toEqual(['canceled', 'canceled']);
    const order = kraken.calls.filter((c) => ['CancelAll', 'OpenOrders', 'CancelAllOrdersAfter'].includes(c.endpoint)).map((c) => `${c.endpoint}${c.params['timeout'] ? `(${c.params['timeout']})` : ''}`);
    const firstCancel = order.indexOf('CancelAll');
    const disarm = order.indexOf('CancelAllOrdersAfter(0)');
    expect(firstCancel).toBeGreaterThan(-1);
    expect(order.indexOf('OpenOrders', firstCancel)).toBeGreaterThan(firstCancel);
    expect(disarm).toBeGreaterThan(order.indexOf('OpenOrders', firstCancel));
  }, 60_000);
});
