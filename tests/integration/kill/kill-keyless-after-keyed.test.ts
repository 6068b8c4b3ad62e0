// The new-operator review's keyless kill: a database whose kill once cancelled on Kraken with the
// key (no live order ever in its ledger: the bot ran in paper, orders were placed beside it with the
// same key), no bot running, and orders open on Kraken again. `ctb kill` from a shell without the key
// cannot see Kraken, so it must never say Kraken is clear: it says NOT CONFIRMED, queues the cancel
// for a bot with the key, leaves the cancel item undone and exits 1. Real `ctb` processes, a fake
// Kraken with the test key, the real PostgreSQL. Also with no earlier kill at all: an armed bot with
// the key ran in paper mode and stopped cleanly (its lease row deleted), orders were placed beside it.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startBotProcess } from '../../support/bot-process.js';
import { createPostgresTestDb } from '../../support/db.js';
import { startFakeKraken, type FakeKraken } from '../../support/fake-kraken.js';
import { TEST_API_KEY, TEST_API_SECRET } from '../../support/kraken-test-keys.js';
import { ctbInShell } from '../../support/ctb-shell.js';

const cleanup: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  while (cleanup.length) await cleanup.pop()!().catch(() => {});
});

const openAtKraken = (kraken: FakeKraken) => [...kraken.state.orders.values()].filter((o) => o.status === 'open' || o.status === 'pending');
const placeBeside = (kraken: FakeKraken, txids: string[]) => {
  for (const txid of txids) kraken.addOrder({ txid, pair: 'XBTUSD', type: 'buy', ordertype: 'limit', price: '40000', vol: '0.01', vol_exec: '0', status: 'open', opentm: 1 });
};

describe('ctb kill without the key, on a database that has used Kraken', () => {
  it('never says Kraken is clear: NOT CONFIRMED, the cancel queued for a bot with the key, cancel_orders not ticked, exit 1', async () => {
    const database = await createPostgresTestDb();
    cleanup.push(() => database.close());
    const kraken = await startFakeKraken({ apiKey: TEST_API_KEY, secret: TEST_API_SECRET });
    cleanup.push(() => kraken.close());
    const env = { DATABASE_URL: database.url, KILL_DB_TIMEOUT: '30s' };

    // An earlier kill with the key cancelled 2 orders on Kraken.
    placeBeside(kraken, ['BESIDE-1', 'BESIDE-2']);
    const keyed = await ctbInShell(['kill', '--reason', 'drill with the key'], { ...env, KRAKEN_API_KEY: TEST_API_KEY, KRAKEN_API_SECRET: TEST_API_SECRET, KRAKEN_API_URL: kraken.url });
    expect(keyed.code, `${keyed.stdout}\n${keyed.stderr}`).toBe(0);
    expect(keyed.stdout).toMatch(/^ {2}kraken: 2 cancelled, none open \(confirmed\)$/m);
    expect(openAtKraken(kraken)).toEqual([]);

    // Two more placed beside the bot with the same key; then a kill from a shell without it.
    placeBeside(kraken, ['BESIDE-3', 'BESIDE-4']);
    const run = await ctbInShell(['kill', '--reason', 'no key here'], env);
    const said = `${run.stdout}\n${run.stderr}`;
    expect(run.code, said).toBe(1);
    // Nothing it says claims Kraken is clear or that nothing of this bot is there.
    expect(said).not.toMatch(/nothing of this bot on Kraken|nothing on Kraken to cancel|no open orders \(|none open now/);
    expect(run.stdout).toMatch(/^This process has no Kraken key and no bot with the key is running \(no engine running\): the cancel on Kraken is queued in the database \(request #\d+\)[^\n]*orders may stay open on Kraken\.$/m);
    expect(run.stdout).toMatch(/^Already killed \(incident #\d+\) — cancelled again: OPEN ORDERS MAY REMAIN: NOT ALL CONFIRMED CANCELLED\.$/m);
    expect(run.stdout).toMatch(/^ {2}kraken \(queued for a bot with the key, not yet taken, request #\d+\): no cancel sent from this process, NOT CONFIRMED/m);
    // What to do about it: the command that checks Kraken.
    expect(run.stdout).toMatch(/NO BOT WITH THE KRAKEN KEY IS RUNNING \(no engine running\): orders may remain open on Kraken\.[^\n]*run `ctb kill` again where the key is, or cancel in Kraken's UI\./);
    // Why Kraken could not be ruled out is said too: the database's record of Kraken use.
    expect(run.stderr).toMatch(/this database records Kraken use \(an earlier cancel on Kraken\): Kraken cannot be checked from this process/);
    // The cancel item is not ticked: it waits on the queued request.
    expect(run.stdout).toMatch(/^ {2}\[~\] cancel_orders\s.* — PENDING$/m);
    expect(run.stdout).not.toMatch(/^ {2}\[x\] cancel_orders/m);
    const shown = await ctbInShell(['incident', '--json'], env);
    const item = JSON.parse(shown.stdout).current.items.find((i: { item: string }) => i.item === 'cancel_orders');
    expect(item.doneAt).toBeNull();
    expect(item.state).toBe('pending');
    // Kraken was not touched from a process without the key: both orders are still open there.
    expect(openAtKraken(kraken).map((o) => o.txid).sort()).toEqual(['BESIDE-3', 'BESIDE-4']);
  }, 180_000);

  it('after an armed bot with the key ran in paper and stopped cleanly: NOT CONFIRMED, says what the database records, cancel_orders pending, exit 1', async () => {
    const database = await createPostgresTestDb();
    cleanup.push(() => database.close());
    const kraken = await startFakeKraken({ apiKey: TEST_API_KEY, secret: TEST_API_SECRET });
    cleanup.push(() => kraken.close());
    const env = { DATABASE_URL: database.url, KILL_DB_TIMEOUT: '30s' };

    // The bot: armed, with the key, in paper mode (no live order, no live mode); stopped with SIGTERM.
    const dir = mkdtempSync(join(tmpdir(), 'ctb-keyed-paper-'));
    const bot = startBotProcess(['start', '--role', 'worker'], {
      PATH: process.env.PATH ?? '', HOME: dir, PORT: '0', HOST: '127.0.0.1', DATA_DIR: join(dir, 'data'), LOG_DIR: join(dir, 'logs'), LOG_LEVEL: 'info',
      DATABASE_URL: database.url, IS_LIVE: 'true', KRAKEN_API_KEY: TEST_API_KEY, KRAKEN_API_SECRET: TEST_API_SECRET, KRAKEN_API_URL: kraken.url, MARKET_FEED: 'replay',
    }, dir);
    cleanup.push(async () => bot.kill('SIGKILL'));
    await bot.waitFor(/engine lease taken/, 120_000);
    placeBeside(kraken, ['BESIDE-1', 'BESIDE-2']);
    bot.kill('SIGTERM');
    expect(await bot.exited, bot.output().slice(-3000)).toBe(0);
    expect(bot.output()).toMatch(/engine lease released/);

    const run = await ctbInShell(['kill', '--reason', 'no key here'], env);
    const said = `${run.stdout}\n${run.stderr}`;
    expect(run.code, said).toBe(1);
    expect(said).not.toMatch(/nothing of this bot on Kraken|nothing on Kraken to cancel|no open orders \(|none open now/);
    expect(run.stdout).toMatch(/^ {2}kraken \(queued for a bot with the key, not yet taken, request #\d+\): no cancel sent from this process, NOT CONFIRMED/m);
    // Why: what the database records, named as the database's record (host, when), not as a fact of Kraken.
    expect(run.stderr).toMatch(/this database records Kraken use \(a bot with the Kraken key or armed ran here \(host [^,]+, seen seeking the engine lease at \d{4}-\d\d-\d\dT[\d:]+Z\)\): Kraken cannot be checked from this process/);
    expect(run.stdout).toMatch(/^ {2}\[~\] cancel_orders\s.* — PENDING$/m);
    const shown = await ctbInShell(['incident', '--json'], env);
    const item = JSON.parse(shown.stdout).current.items.find((i: { item: string }) => i.item === 'cancel_orders');
    expect(item.doneAt).toBeNull();
    expect(item.state).toBe('pending');
    expect(openAtKraken(kraken).map((o) => o.txid).sort()).toEqual(['BESIDE-1', 'BESIDE-2']);
  }, 240_000);
});
