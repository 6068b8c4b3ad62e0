// The Procfile's split: a kill sent to the `web` process stops the `worker`'s orders at once, even
// while Kraken's CancelAll hangs — the halt is written in parallel with the cancel, and the worker's
// intent statement checks it under a row lock — and no order reaches Kraken after the kill answers.
// The worker's order path runs in a child process (tests/support/order-pump-child.ts) that never
// looks for a halt itself; web and worker use keys of their own on one Kraken account.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startBot } from '../../../src/app/runtime.js';
import { systemClock } from '../../../src/clock.js';
import { testConfig } from '../../../src/config/env.js';
import { silentLogger } from '../../../src/logger.js';
import { getBotState, updateBotState } from '../../../src/services/bot-state.js';
import { killFeature } from '../../../src/app/features/kill.js';
import { childScript } from '../../support/children.js';
import { createPostgresTestDb } from '../../support/db.js';
import { startFakeKraken } from '../../support/fake-kraken.js';

const TOKEN = `kill-token-${randomBytes(12).toString('hex')}`;
const cleanup: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  while (cleanup.length) await cleanup.pop()!().catch(() => {});
});

const newKey = () => ({ key: randomBytes(28).toString('hex'), secret: randomBytes(64).toString('base64') });

describe('kill sent to the web process of a web/worker split', () => {
  it("stops the worker's orders while Kraken's CancelAll hangs: none reaches Kraken after the kill answers", async () => {
    const database = await createPostgresTestDb();
    cleanup.push(() => database.close());
    const kraken = await startFakeKraken({ balances: { ZUSD: '10000000.0000' } });
    cleanup.push(() => kraken.close());
    await updateBotState(database.db, systemClock, { mode: 'live' });

    const web = newKey();
    const config = testConfig({
      IS_LIVE: 'true', KRAKEN_API_KEY: web.key, KRAKEN_API_SECRET: web.secret, KRAKEN_API_URL: kraken.url, KILL_HTTP_TOKEN: TOKEN,
      KILL_CONFIRM_ATTEMPTS: '1', HOST: '127.0.0.1', DATA_DIR: mkdtempSync(join(tmpdir(), 'ctb-web-')),
    });
    const bot = await startBot({ config, role: 'web', feed: 'kraken', port: 0, logger: silentLogger(), database, features: [killFeature] });
    cleanup.push(() => bot.stop());

    const worker = newKey();
    const pump = spawn(process.execPath, [childScript('order-pump-child'), database.url, kraken.url, worker.key, worker.secret, mkdtempSync(join(tmpdir(), 'ctb-pump-logs-'))], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let pumpOut = '';
    pump.stdout.on('data', (d) => (pumpOut += String(d)));
    pump.stderr.on('data', (d) => (pumpOut += String(d)));
    const exited = new Promise((resolve) => pump.on('exit', resolve));
    cleanup.push(async () => {
      if (pump.exitCode === null) pump.kill('SIGKILL');
      await exited;
    });
    const addOrders = () => kraken.callsTo('AddOrder');
    for (let i = 0; i < 600 && addOrders().length < 5; i++) await new Promise((r) => setTimeout(r, 100));
    expect(addOrders().length, `${pumpOut}\n${kraken.calls.map((c) => c.endpoint).join(" ")}`).toBeGreaterThanOrEqual(5);

    // Kraken takes the CancelAll and answers nothing until the halt is in the database and 3 s have
    // passed: the halt must not wait for Kraken (it is seen while the cancel is unanswered, however
    // loaded the machine), and the kill's reply must (nothing is answered before Kraken is).
    const answerCancelAll = kraken.hold('CancelAll');
    const sent = Date.now();
    let replied = false;
    const answer = fetch(`http://127.0.0.1:${bot.port}/kill`, {
      method: 'POST', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }, body: '{"reason":"stop the worker"}',
    }).finally(() => (replied = true));
    while (!(await getBotState(database.db)).halted && Date.now() - sent < 60_000) await new Promise((r) => setTimeout(r, 10));
    const haltSeen = Date.now();
    expect((await getBotState(database.db)).halted, 'the halt was not written while Kraken had not answered the CancelAll').toBe(true);
    expect(kraken.callsTo('CancelAll')).toHaveLength(1); // sent, still unanswered
    while (Date.now() - sent < 3_000) await new Promise((r) => setTimeout(r, 50));
    expect(replied, 'the kill replied before Kraken answered its CancelAll').toBe(false);
    const krakenAnswered = Date.now();
    answerCancelAll();

    const res = await answer;
    const acknowledged = Date.now();
    expect(res.status).toBe(200);
    expect(acknowledged).toBeGreaterThanOrEqual(krakenAnswered); // the reply waited for Kraken's answer
    await new Promise((r) => setTimeout(r, 1_500));
    pump.kill('SIGTERM');
    await exited;

    expect(addOrders().filter((c) => c.at > acknowledged)).toEqual([]);
    // At most the one order already on its way when the halt was written (the pump sends one at a time).
    expect(addOrders().filter((c) => c.at > haltSeen).length).toBeLessThanOrEqual(1);
    expect(pumpOut).toMatch(/"skipped":\d+/);
  }, 180_000);
});
