// A keyless `ctb kill` typed while the database is down, against a bot (another process: the kill
// feature of startBot, with the Kraken key) that an earlier kill already halted. The shell can only
// save the kill in DATA_DIR; the bot reads it there, and — a new kill, so a new cancel: an order may
// have landed since the last one — cancels on Kraken at once, though it was halted already. When the
// database answers again, writing the saved kill records what that cancel came to.
import { existsSync, mkdtempSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { eq } from 'drizzle-orm';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startBot, type RunningBot } from '../../../src/app/runtime.js';
import { testConfig } from '../../../src/config/env.js';
import { engineRequests, incidentChecklistItems } from '../../../src/db/schema/index.js';
import { silentLogger } from '../../../src/logger.js';
import { killFeature } from '../../../src/app/features/kill.js';
import { pendingKillPath, readPendingKills } from '../../../src/services/kill/pending-kill.js';
import type { FakeKraken } from '../../support/fake-kraken.js';
import { runCli } from '../../../src/cli/program.js';
import { recordingIo } from '../../support/cli-io.js';
import { ctbInShell } from '../../support/ctb-shell.js';
import { holdLease } from '../../support/held-lease.js';
import { TEST_API_KEY, TEST_API_SECRET } from '../../support/kraken-test-keys.js';
import { liveKillWorld } from '../../support/kill-world.js';
import { recordingDatabase } from '../../support/kill-context.js';
import { startStallProxy, type StallProxy } from '../../support/stall-proxy.js';

const cleanup: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  while (cleanup.length) await cleanup.pop()!().catch(() => {});
});

let proxy: StallProxy;
beforeAll(async () => {
  proxy = await startStallProxy();
});
afterAll(async () => {
  await proxy?.close();
});

const openAtKraken = (kraken: FakeKraken) => [...kraken.state.orders.values()].filter((o) => o.status === 'open' || o.status === 'pending');

/** Polls `done` every 50 ms until it holds or 60 s have passed (a bound against a hang, not a margin the test relies on). */
async function until(done: () => boolean | Promise<boolean>): Promise<void> {
  const end = Date.now() + 60_000;
  while (!(await done()) && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
}

/**
 * The bot with the key (through the proxy), halted by an earlier kill with the key that confirmed
 * Kraken clear and ticked the cancel item; then the database cut and an order landed on Kraken.
 */
async function haltedBotThenDatabaseDown() {
  proxy.set('forward');
  const { database, kraken } = await liveKillWorld(cleanup, ['OPEN-1']);
  const viaProxy = proxy.urlFor(database.url);
  const botDatabase = recordingDatabase(viaProxy, []);
  cleanup.push(() => botDatabase.close());
  const dataDir = join(mkdtempSync(join(tmpdir(), 'ctb-saved-kill-')), 'data');
  const config = testConfig({
    IS_LIVE: 'true', KRAKEN_API_KEY: TEST_API_KEY, KRAKEN_API_SECRET: TEST_API_SECRET, KRAKEN_API_URL: kraken.url, DATABASE_URL: viaProxy,
    DATA_DIR: dataDir, HOST: '127.0.0.1', HALT_POLL_INTERVAL: '100ms', KILL_DB_TIMEOUT: '2s', KILL_CONFIRM_WAIT: '1s', KILL_CONFIRM_ATTEMPTS: '1',
  });
  const bot: RunningBot = await startBot({ config, role: 'worker', feed: 'replay', port: 0, logger: silentLogger(), database: botDatabase, features: [killFeature] });
  cleanup.push(() => bot.stop());
  cleanup.push(await holdLease(database.db, { holderId: 'bot-under-test', host: hostname(), pid: process.pid, role: 'worker', feed: 'kraken', armed: true, hasKrakenKeys: true }, 60_000));

  // The earlier kill and the operator's "cancel again" (which confirms none open and ticks the cancel
  // item) are set-up: run in this process, as `ctb` runs them (the bot latches the halt from the
  // database either way); the keyless kill below is the shell process under test. The database's
  // deadline is not what is tested here: a loaded machine must not turn this write into a saved kill.
  const withKey = { DATABASE_URL: database.url, KRAKEN_API_KEY: TEST_API_KEY, KRAKEN_API_SECRET: TEST_API_SECRET, KRAKEN_API_URL: kraken.url, KILL_DB_TIMEOUT: '30s' };
  const first = recordingIo(withKey);
  expect(await runCli(['kill', '--reason', 'first'], first), `${first.out()}\n${first.err()}`).toBe(0);
  const again = recordingIo(withKey);
  expect(await runCli(['incident', 'done', 'cancel_orders'], again), `${again.out()}\n${again.err()}`).toBe(0);
  const cancelItem = async () => (await database.db.select().from(incidentChecklistItems).where(eq(incidentChecklistItems.item, 'cancel_orders')))[0]!;
  const ticked = await cancelItem();
  expect(ticked).toMatchObject({ state: 'done' });
  await until(() => bot.ctx.kill.latch.latched);
  expect(bot.ctx.kill.latch.latched).toBe(true);
  // The bot's own cancel for that halt is over before the database goes.
  await until(() => openAtKraken(kraken).length === 0);
  const cancelsBefore = kraken.callsTo('CancelAll').length;

  proxy.set('down');
  kraken.addOrder({ txid: 'LATE-1', pair: 'XBTUSD', type: 'buy', ordertype: 'limit', price: '40000', vol: '0.01', vol_exec: '0', status: 'open', opentm: 2 });
  return { database, kraken, bot, dataDir, viaProxy, cancelItem, ticked, cancelsBefore };
}

/** The keyless shell's kill: saved in DATA_DIR only, and it says orders may remain (true: it reached no bot). */
async function keylessKillWhileDown(w: { dataDir: string; viaProxy: string }, reason: string): Promise<string> {
  const run = await ctbInShell(['kill', '--reason', reason], { DATABASE_URL: w.viaProxy, DATA_DIR: w.dataDir, KILL_DB_TIMEOUT: '1s' });
  // 1, or 2 when the proxy's closed connection reads as a server that is not PostgreSQL (a configuration problem).
  expect([1, 2], `${run.stdout}\n${run.stderr}`).toContain(run.code);
  expect(run.stdout).toMatch(/orders may remain open on Kraken/);
  const saved = readPendingKills(w.dataDir).find((k) => k.reason === reason);
  expect(saved).toBeDefined();
  return saved!.killId;
}

describe('a keyless kill saved in DATA_DIR while the database is down, against a bot already halted', () => {
  it('the bot with the key cancels on Kraken for it at once; written later, it leaves the cancel item ticked by that confirmation', async () => {
    const w = await haltedBotThenDatabaseDown();
    const killId = await keylessKillWhileDown(w, 'pg down keyless');
    // The database is still down: the bot cancels on Kraken all the same.
    await until(() => openAtKraken(w.kraken).length === 0);
    expect(openAtKraken(w.kraken)).toEqual([]);
    expect(w.kraken.callsTo('CancelAll').length).toBeGreaterThan(w.cancelsBefore);
    expect(existsSync(pendingKillPath(w.dataDir))).toBe(true);

    proxy.set('forward');
    await until(() => !existsSync(pendingKillPath(w.dataDir)));
    expect(existsSync(pendingKillPath(w.dataDir))).toBe(false);
    // Confirmed clear by the bot's cancel for it: no follow-up, the item keeps its tick.
    const requests = await w.database.db.select().from(engineRequests).where(eq(engineRequests.kind, 'cancel_all'));
    expect(requests.filter((r) => (r.params as { killId?: string }).killId === killId)).toEqual([]);
    expect(await w.cancelItem()).toMatchObject({ state: 'done', doneAt: w.ticked.doneAt });
  }, 180_000);

  it("Kraken not confirmed clear by the bot's cancel for it: once written, a follow-up goes on and the ticked cancel item is reopened pending on it", async () => {
    const w = await haltedBotThenDatabaseDown();
    // Kraken refuses every cancel: the late order stays open.
    w.kraken.failNext('CancelAll', 'EService:Unavailable', 1_000_000);
    const killId = await keylessKillWhileDown(w, 'pg down keyless');
    await until(() => w.kraken.callsTo('CancelAll').length > w.cancelsBefore);
    expect(w.kraken.callsTo('CancelAll').length).toBeGreaterThan(w.cancelsBefore);

    proxy.set('forward');
    await until(() => !existsSync(pendingKillPath(w.dataDir)));
    expect(existsSync(pendingKillPath(w.dataDir))).toBe(false);
    // One follow-up per incident: the replay's, or the halt cancel's own when it reached the database first (joined then).
    const item = await w.cancelItem();
    expect(item.doneAt).toBeNull();
    const requests = await w.database.db.select().from(engineRequests).where(eq(engineRequests.kind, 'cancel_all'));
    const followUp = requests.find((r) => r.id === item.requestId);
    expect(followUp).toMatchObject({ checklistItem: 'cancel_orders', params: expect.objectContaining({ followUp: true }) });
    expect(readPendingKills(w.dataDir).map((k) => k.killId)).not.toContain(killId);
    // Pending on it in the replay's words — or already in those of the request's first try: the bot runs
    // it as soon as it is written, and the saved entry goes only once the kill's alert is stored after.
    expect(String(item.outcome?.['summary'])).toMatch(/^(Zero open orders on Kraken not confirmed by this bot's cancel for the kill saved in DATA_DIR|Cancel pending — the bot retries until Kraken confirms)/);
  }, 180_000);
});
