// A `ctb start` child held in its migrations' wait: its own database, reached through the stall
// proxy; a transaction of the test's holds the first migration's table, the bot's migrations wait on
// it, then the database is cut (proxy down) and the transaction rolled back, so the start waits for
// a database that does not answer, retrying. The bot holds the Kraken key of a fake Kraken with two
// open orders of this bot (OPEN-1, OPEN-2), as the kill tests of that wait need.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import postgres from 'postgres';
import { startBotProcess, waitUntil, type BotProcess } from './bot-process.js';
import { ADMIN_URL } from './db.js';
import { startFakeKraken, type FakeKraken } from './fake-kraken.js';
import { freePort } from './free-port.js';
import { TEST_API_KEY, TEST_API_SECRET } from './kraken-test-keys.js';
import { startStallProxy, type StallProxy } from './stall-proxy.js';

export interface MigrationWaitBot {
  bot: BotProcess;
  /** The bot's own database, reached directly (not through the proxy). */
  direct: postgres.Sql;
  proxy: StallProxy;
  kraken: FakeKraken;
  dir: string;
  port: number;
  /** Stops the bot (SIGKILL if still running) and everything else; the database is dropped by `dropDatabases`. */
  close(): Promise<void>;
}

/** Waits for `pattern` in the bot's output; fails at once, with the output, if the bot exits first. */
export async function seen(b: BotProcess, pattern: RegExp, timeoutMs = 60_000): Promise<void> {
  const exited = b.exited.then((code) => {
    throw new Error(`ctb start exited (code ${code}) before ${pattern}:\n${b.output().slice(-4000)}`);
  });
  await Promise.race([b.waitFor(pattern, timeoutMs), exited]);
}

/** The admin connection that makes the bots' databases and drops them when `dropDatabases` is called. */
export function migrationWaitDatabases(): { make(prefix: string): Promise<URL>; dropDatabases(): Promise<void> } {
  const admin = postgres(ADMIN_URL, { max: 1, onnotice: () => {} });
  const made: string[] = [];
  return {
    async make(prefix) {
      const name = `ctb_t_${prefix}_${randomBytes(4).toString('hex')}`;
      await admin.unsafe(`create database "${name}"`);
      made.push(name);
      const target = new URL(ADMIN_URL);
      target.pathname = `/${name}`;
      return target;
    },
    async dropDatabases() {
      for (const name of made) await admin.unsafe(`drop database if exists "${name}" with (force)`);
      await admin.end();
    },
  };
}

/**
 * Starts the bot in `target` with `env` added to what every such bot has, and returns once it has said
 * `start_database_lost` during the migrations. `env` may name the port's settings it uses (PORT is given).
 */
export async function botInMigrationWait(target: URL, dirPrefix: string, env: Record<string, string>): Promise<MigrationWaitBot> {
  const direct = postgres(target.toString(), { max: 2, onnotice: () => {} });
  const proxy = await startStallProxy();
  const kraken = await startFakeKraken({ apiKey: TEST_API_KEY, secret: TEST_API_SECRET });
  for (const txid of ['OPEN-1', 'OPEN-2']) {
    kraken.addOrder({ txid, pair: 'XBTUSD', type: 'buy', ordertype: 'limit', price: '40000', vol: '0.01', vol_exec: '0', status: 'open', opentm: 1 });
  }
  const dir = mkdtempSync(join(tmpdir(), dirPrefix));
  const port = await freePort();
  const holder = await direct.reserve();
  let bot: BotProcess | undefined;
  const close = async () => {
    if (bot && bot.proc.exitCode === null) bot.kill('SIGKILL');
    await bot?.exited.catch(() => undefined);
    holder.release();
    await direct.end();
    await proxy.close();
    await kraken.close();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await holder`begin`;
    await holder`create table bot_state (id integer)`;
    const b = startBotProcess(['start'], {
      PATH: process.env.PATH ?? '', HOME: dir, DATABASE_URL: proxy.urlFor(target.toString()), MARKET_FEED: 'replay', PORT: String(port), HOST: '127.0.0.1',
      DATA_DIR: join(dir, 'data'), LOG_DIR: join(dir, 'logs'), LOG_LEVEL: 'info',
      KRAKEN_API_KEY: TEST_API_KEY, KRAKEN_API_SECRET: TEST_API_SECRET, KRAKEN_API_URL: kraken.url,
      ...env,
    }, dir);
    bot = b;
    await waitUntil(async () => (await direct`select pid from pg_stat_activity where datname = current_database()
      and wait_event_type = 'Lock' and query like 'CREATE TABLE "bot_state"%'`).length === 1, 90_000, () => b.output().slice(-3000));
    proxy.set('down');
    await holder`rollback`;
    await seen(b, /"event":"start_database_lost"/);
    return { bot: b, direct, proxy, kraken, dir, port, close };
  } catch (err) {
    await close();
    throw err;
  }
}
