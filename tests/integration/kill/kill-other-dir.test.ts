// `ctb kill` typed in another directory than the running bot's (the same .env, DATA_DIR ./data): the
// embedded database there is not the bot's. The kill still cancels on Kraken with the key, but never
// says KILLED or halted: it names the DATA_DIR it reached, says no bot has used it and that the
// running bot is not halted, and exits 2. Real processes: the bot (`ctb start`) in A, the kills in B.
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { pgliteDirOf } from '../../../src/db/pglite-start.js';
import { copyTemplate } from '../../../src/db/pglite-template.js';
import { ctbIn } from '../../support/ctb-shell.js';
import { CLOSED_LOCAL_URL } from '../../support/local-only.js';
import { startFakeKraken, type FakeKraken } from '../../support/fake-kraken.js';
import { TEST_API_KEY, TEST_API_SECRET } from '../../support/kraken-test-keys.js';
import { baseEnv, bot, killBotsAfterEach } from '../engine-lease/one-engine-bots.js';

killBotsAfterEach();
const cleanup: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  while (cleanup.length) await cleanup.pop()!().catch(() => {});
});

const openAtKraken = (kraken: FakeKraken) => [...kraken.state.orders.values()].filter((o) => o.status === 'open' || o.status === 'pending');

async function fakeKraken(): Promise<FakeKraken> {
  const kraken = await startFakeKraken({ apiKey: TEST_API_KEY, secret: TEST_API_SECRET });
  cleanup.push(() => kraken.close());
  for (const txid of ['OPEN-1', 'OPEN-2']) {
    kraken.addOrder({ txid, pair: 'XBTUSD', type: 'buy', ordertype: 'limit', price: '40000', vol: '0.01', vol_exec: '0', status: 'open', opentm: 1 });
  }
  return kraken;
}

/** What both directories share, as one .env: paper, the default DATA_DIR (./data of where ctb runs). */
function shell(dir: string, env: Record<string, string>, dotEnv: string): Record<string, string> {
  writeFileSync(join(dir, '.env'), dotEnv);
  return { LOG_LEVEL: 'warn', DATA_DIR: './data', LOG_DIR: join(dir, 'logs'), ...env };
}

describe('ctb kill outside the running bot\'s directory', () => {
  it('with the key: cancels on Kraken, creates no database, says no bot is halted (naming DATA_DIR), exits 2; the bot keeps running unhalted', async () => {
    const kraken = await fakeKraken();
    const a = mkdtempSync(join(tmpdir(), 'ctb-kill-dir-a-'));
    const b = mkdtempSync(join(tmpdir(), 'ctb-kill-dir-b-'));
    // Whether the bot trades is not looked at here: only that it runs, unhalted, then halted.
    const envA = baseEnv(a, {}, { idle: true });
    const running = bot(['start'], envA, a);
    await running.waitFor(/engine lease taken/, 150_000);

    const dotEnv = `KRAKEN_API_KEY=${TEST_API_KEY}\nKRAKEN_API_SECRET=${TEST_API_SECRET}\nKRAKEN_API_URL=${kraken.url}\n`;
    const run = await ctbIn(b, ['kill', '--reason', 'wrong dir'], shell(b, {}, dotEnv));
    expect(run.code, `${run.stdout}\n${run.stderr}`).toBe(2);
    const lines = run.stdout.split('\n');
    expect(lines[0]).toBe(`NO BOT HALTED — no bot has used DATA_DIR ${join(b, 'data')} (from ${b}): there is no embedded database there, so this kill recorded no halt and created none. `
      + "The running bot (if any) is NOT halted and keeps trading: run ctb kill with the bot's DATA_DIR (or DATABASE_URL).");
    expect(lines[1]).toBe('Kraken: 2 cancelled, none open (confirmed).');
    expect(run.stdout).not.toMatch(/KILLED|Halted in paper mode/);
    expect(openAtKraken(kraken)).toEqual([]);
    expect(existsSync(join(b, 'data'))).toBe(false);

    // The bot in A was not halted, and still runs.
    const status = await ctbIn(a, ['incident', '--json'], { ...envA, LOG_LEVEL: 'warn' });
    expect(status.code, status.stderr).toBe(0);
    expect(JSON.parse(status.stdout)).toMatchObject({ halted: false });
    expect(running.proc.exitCode).toBeNull();

    // The advice works: the same kill from B with the bot's DATA_DIR halts it. That the bot's database
    // takes the halt is the point, not how fast: through the bot's socket, on a machine at load 30, the
    // 3 s default deadline (its miss, a halt saved in DATA_DIR, is kill.test.ts's) was missed in 4 runs of 10.
    const right = await ctbIn(b, ['kill', '--reason', 'right dir'], shell(b, { DATA_DIR: join(a, 'data'), KILL_DB_TIMEOUT: '30s' }, dotEnv));
    expect(right.code, `${right.stdout}\n${right.stderr}`).toBe(0);
    // The first kill cancelled Kraken's two orders: this one found none open, and says so.
    expect(right.stdout.split('\n')[0]).toBe('KILLED — no open orders (kraken and paper confirmed).');
    expect(right.stdout).toContain('Halted in paper mode: the halt is recorded in the database.');
    const after = await ctbIn(a, ['incident', '--json'], { ...envA, LOG_LEVEL: 'warn' });
    expect(JSON.parse(after.stdout)).toMatchObject({ halted: true });
  }, 400_000);

  it('into an embedded database no bot has ever run on: says it wrote the halt there, that no bot is halted, never KILLED or "trading is halted" (with the key too); exits 2', async () => {
    const b = mkdtempSync(join(tmpdir(), 'ctb-kill-dir-b-'));
    const env = shell(b, { KILL_HANDOFF_TIMEOUT: '1s' }, 'LOG_LEVEL=warn\n');
    // An embedded database here as an earlier command leaves a new one (the build's migrated template,
    // copied as such a command's start copies it); no engine has run on it. A `ctb stats` to make it
    // cost a PGlite child (~1.4 CPU-s); what a command says on a new ./data is cli-fresh-data-dir.test.ts's.
    mkdirSync(join(b, 'data'));
    expect(copyTemplate(pgliteDirOf(join(b, 'data'))), 'the build made the embedded database template').toBe(true);
    const said = `NO BOT HALTED — no engine has ever run on the embedded database in DATA_DIR ${join(b, 'data')} (from ${b}): the halt was written there, and only a bot that starts with this DATA_DIR will read it. `
      + "A bot running with another DATA_DIR or DATABASE_URL is NOT halted and keeps trading: run ctb kill with that bot's DATA_DIR (or DATABASE_URL).";

    // With the key (Kraken never answers: its rounds run KILL_CONFIRM_WAIT), in a terminal: the kill
    // that cancels on Kraken itself says "Halted: …" on stderr once a halt is recorded, unless no
    // engine has ever run on the database it went to.
    const keyed = await ctbIn(b, ['kill', '--reason', 'wrong dir'], {
      ...env, KRAKEN_API_KEY: TEST_API_KEY, KRAKEN_API_SECRET: TEST_API_SECRET, KRAKEN_API_URL: CLOSED_LOCAL_URL, KILL_CONFIRM_WAIT: '1s',
    });
    expect(keyed.code, `${keyed.stdout}\n${keyed.stderr}`).toBe(2);
    expect(keyed.stderr).not.toMatch(/trading is halted|Halted: /);
    expect(keyed.stdout.split('\n')[0]).toBe(said);
    expect(keyed.stdout).not.toMatch(/KILLED|Halted in paper mode/);
    expect(keyed.stdout).toContain('The halt is recorded only in that database, on which no engine has run yet.');

    // Without it, with --json: the same answer in its error.
    const run = await ctbIn(b, ['kill', '--reason', 'wrong dir', '--json'], env);
    expect(run.code, `${run.stdout}\n${run.stderr}`).toBe(2);
    expect(JSON.parse(run.stdout)).toMatchObject({ ok: false, botHalted: false, error: said });
  }, 300_000);
});
