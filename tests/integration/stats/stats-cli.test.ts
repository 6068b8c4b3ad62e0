import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBot, type RunningBot } from '../../../src/app/runtime.js';
import type { CliIo } from '../../../src/cli/io.js';
import { runCli } from '../../../src/cli/program.js';
import { testConfig } from '../../../src/config/env.js';
import { silentLogger } from '../../../src/logger.js';
import { createPostgresTestDb, type TestDatabase } from '../../support/db.js';
import { closedTrade, insertTrades } from '../../support/factories/ledger.js';
import { seedHandComputedLedger } from '../../support/factories/stats-ledger-fixture.js';

function cliIo(env: Record<string, string>) {
  let out = '';
  let err = '';
  const dir = mkdtempSync(join(tmpdir(), 'ctb-stats-cli-'));
  const value: CliIo = {
    env: { LOG_DIR: join(dir, 'logs'), DATA_DIR: join(dir, 'data'), LOG_LEVEL: 'warn', ...env },
    cwd: dir,
    stdout: { write: (s: string) => (out += s) },
    stderr: { write: (s: string) => (err += s) },
  };
  return { value, out: () => out, err: () => err, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

describe('ctb stats on PostgreSQL', () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createPostgresTestDb();
    await seedHandComputedLedger(database.db);
  });
  afterAll(async () => {
    await database?.close();
  });

  it('prints JSON with a numeric closed count and the books side by side', async () => {
    const t = cliIo({ DATABASE_URL: database.url });
    expect(await runCli(['stats', '--json'], t.value), t.err()).toBe(0);
    const json = JSON.parse(t.out());
    expect(json.closed).toBe(7);
    expect(typeof json.closed).toBe('number');
    expect(json.books.map((b: { book: string }) => b.book)).toEqual(['paper', 'live', 'replay']);
    t.cleanup();
  });

  it('prints a table with one column per book', async () => {
    const t = cliIo({ DATABASE_URL: database.url });
    expect(await runCli(['stats', '--period', '30d'], t.value)).toBe(0);
    expect(t.out()).toMatch(/paper[\s│]+live[\s│]+replay \(not for go-live\)/);
    expect(t.out()).toMatch(/wins \/ losses/);
    t.cleanup();
  });

  it('writes the equity-and-drawdown chart as a PNG with --chart', async () => {
    const t = cliIo({ DATABASE_URL: database.url });
    const file = join(t.value.cwd, 'equity.png');
    expect(await runCli(['stats', '--json', '--chart', 'equity.png'], t.value), t.err()).toBe(0);
    const json = JSON.parse(t.out());
    // Marked: the paper book's entries and exits from its first snapshot on (4 entries, one of them
    // still open, and 3 exits); the 2025 trade predates the curve, live and replay have no curve here.
    expect(json.chart).toEqual({ file, points: 6, markers: 7 });
    const png = readFileSync(file);
    expect(png.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
    expect(png.length).toBeGreaterThan(20_000); // axes, labels and two panels, not an empty canvas
    expect(png.readUInt32BE(16)).toBeGreaterThan(800); // width from the IHDR chunk
    t.cleanup();
  });

  it('refuses a --chart file that is not a .png, and one it cannot write', async () => {
    const t = cliIo({ DATABASE_URL: database.url });
    expect(await runCli(['stats', '--chart', 'equity.jpg'], t.value)).toBe(2);
    expect(t.err()).toMatch(/--chart: expected a file name ending in \.png, got "equity\.jpg"/);
    expect(await runCli(['stats', '--chart', 'no/such/dir/equity.png'], t.value)).toBe(2);
    expect(t.err()).toMatch(/Could not write the chart to .*no\/such\/dir\/equity\.png/);
    t.cleanup();
  });

  it('exits 2 on an unknown period, naming the ones it accepts', async () => {
    const t = cliIo({ DATABASE_URL: database.url });
    expect(await runCli(['stats', '--period', '1y'], t.value)).toBe(2);
    expect(t.err()).toMatch(/period: expected one of 24h, 7d, 30d, all, got "1y"/);
    expect(t.out()).toBe('');
    t.cleanup();
  });

  it('takes the period as a word, as /stats 7d does in Slack, and suggests the closest for a typo', async () => {
    const positional = cliIo({ DATABASE_URL: database.url });
    expect(await runCli(['stats', '7D', '--json'], positional.value), positional.err()).toBe(0);
    const byWord = JSON.parse(positional.out());
    const byOption = cliIo({ DATABASE_URL: database.url });
    expect(await runCli(['stats', '--period', '7d', '--json'], byOption.value)).toBe(0);
    expect(byWord.period).toBe('7d');
    expect(byWord.closed).toBe(JSON.parse(byOption.out()).closed);

    const typo = cliIo({ DATABASE_URL: database.url });
    expect(await runCli(['stats', '7dd'], typo.value)).toBe(2);
    expect(typo.err()).toMatch(/period: expected one of 24h, 7d, 30d, all, got "7dd" \(Did you mean 7d\?\)/);

    const json = cliIo({ DATABASE_URL: database.url });
    expect(await runCli(['stats', '30dd', '--json'], json.value)).toBe(2);
    expect(JSON.parse(json.out())).toMatchObject({ ok: false, code: 'bad_period', expected: 'one of 24h, 7d, 30d, all', suggestion: ['30d'], exitCode: 2 });

    const twice = cliIo({ DATABASE_URL: database.url });
    expect(await runCli(['stats', '7d', '--period', '30d'], twice.value)).toBe(2);
    expect(twice.err()).toMatch(/two different periods/);
    for (const t of [positional, byOption, typo, json, twice]) t.cleanup();
  });
});

describe('ctb stats while the bot runs on the embedded database', () => {
  let bot: RunningBot;
  let dir: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ctb-stats-embedded-'));
    const config = testConfig({ DATA_DIR: join(dir, 'data'), LOG_DIR: join(dir, 'logs') });
    bot = await startBot({ config, logger: silentLogger(), role: 'all', feed: 'replay', features: [], port: 0 });
    await insertTrades(bot.ctx.db, [closedTrade({ feed: 'replay' }), closedTrade({ feed: 'replay', exitPrice: '90' })]);
  });
  afterAll(async () => {
    await bot?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('reads the closed trades through the running bot', async () => {
    const t = cliIo({ DATA_DIR: join(dir, 'data'), LOG_DIR: join(dir, 'logs') });
    expect(await runCli(['stats', '--json'], t.value), t.err()).toBe(0);
    const json = JSON.parse(t.out());
    expect(json.closed).toBe(2);
    expect(json.books.find((b: { book: string }) => b.book === 'replay').trades).toMatchObject({ closed: 2, wins: 1, losses: 1 });
    t.cleanup();
  });
});
