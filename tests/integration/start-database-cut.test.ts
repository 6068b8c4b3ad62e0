// `ctb start` (a child process) on PostgreSQL through a TCP proxy that is taken down after /healthz
// answers and before the start is over (the banner). The start used to fail then: the process exited,
// its HTTP connections closed under a POST /kill in flight, and the exit said the server "did not answer
// as PostgreSQL — check DATABASE_URL" of a database that had answered. A database that answered and
// went away is an outage: the start waits for it, /healthz says so, POST /kill and Slack /kill answer
// (the halt saved on disk), and once the database is back the start finishes and the saved kill is
// written, once. The cut is placed by holding the start at Slack's auth.test (the Slack part's start),
// after /healthz and POST /kill are served: the parts after it, and the banner's reads, meet the cut.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { MIGRATIONS_DIR } from '../../src/db/migrate.js';
import { botState, incidents } from '../../src/db/schema/index.js';
import { createPostgresTestDb, type TestDatabase } from '../support/db.js';
import { startBotProcess, waitUntil, type BotProcess } from '../support/bot-process.js';
import { startFakeSlack, type FakeSlack } from '../support/fake-slack.js';
import { freePort } from '../support/free-port.js';
import { botInMigrationWait, migrationWaitDatabases, seen } from '../support/migration-wait-bot.js';
import { signedHeaders } from '../support/slack-signing.js';
import { startStallProxy, type StallProxy } from '../support/stall-proxy.js';

const TOKEN = 'kill-token-0123456789abcdef-XYZ';
const SIGNING_SECRET = 'test-signing-secret';
const OPERATOR = 'U0OPERATOR';
const PASSWORD = 'pw-start-cut-not-to-print';

interface World {
  database: TestDatabase;
  proxy: StallProxy;
  slack: FakeSlack;
  dir: string;
  bot: BotProcess;
  url: string;
  /** Lets the Slack part's start (held at auth.test) go on. */
  releaseSlack(): void;
}
const worlds: World[] = [];
afterAll(async () => {
  for (const w of worlds) {
    w.bot.kill();
    const ended = await Promise.race([w.bot.exited.then(() => true, () => true), new Promise<false>((r) => setTimeout(() => r(false), 15_000))]);
    if (!ended) w.bot.kill('SIGKILL');
    await w.slack.close();
    await w.proxy.close();
    await w.database.close();
    rmSync(w.dir, { recursive: true, force: true });
  }
});

/**
 * A `ctb start` on its own database through its own proxy, whose start is held at Slack's auth.test
 * (the Slack part), every part before it started (/healthz, POST /kill): returned once it is held there.
 * Its DATABASE_URL carries a password the server does not ask for (trust) and no output may show.
 */
async function heldStart(): Promise<World> {
  const database = await createPostgresTestDb();
  const proxy = await startStallProxy();
  const slack = await startFakeSlack();
  const dir = mkdtempSync(join(tmpdir(), 'ctb-start-cut-'));
  let releaseSlack!: () => void;
  const slackHeld = new Promise<void>((resolve) => (releaseSlack = resolve));
  slack.on('auth.test', async () => {
    await slackHeld;
    return { body: { ok: true, user_id: 'U0BOT', bot_id: 'B0BOT', team_id: 'T0TEAM', user: 'ctb', team: 'test' } };
  });
  const databaseUrl = new URL(proxy.urlFor(database.url));
  databaseUrl.password = PASSWORD;
  const port = await freePort();
  const bot = startBotProcess(['start'], {
    PATH: process.env.PATH ?? '', HOME: dir, DATABASE_URL: databaseUrl.toString(), MARKET_FEED: 'replay', PORT: String(port), HOST: '127.0.0.1',
    DATA_DIR: join(dir, 'data'), LOG_DIR: join(dir, 'logs'), LOG_LEVEL: 'info',
    SLACK_BOT_TOKEN: 'xoxb-0000-test-not-a-real-token', SLACK_SIGNING_SECRET: SIGNING_SECRET, SLACK_API_URL: slack.url, SLACK_OPERATORS: OPERATOR,
    KILL_HTTP_TOKEN: TOKEN, KILL_DB_TIMEOUT: '2s', KILL_CONFIRM_WAIT: '1s',
  }, dir);
  const world = { database, proxy, slack, dir, bot, url: `http://127.0.0.1:${port}`, releaseSlack };
  worlds.push(world);
  await waitUntil(() => slack.callsTo('auth.test').length > 0, 90_000, () => bot.output().slice(-3000));
  return world;
}

describe('a database cut while `ctb start` is starting', () => {
  it('keeps the bot up: the start waits for the database, /healthz says so, the kills answer, and the start finishes once it is back', { timeout: 240_000 }, async () => {
    const { database, proxy, slack, dir, bot, url, releaseSlack } = await heldStart();
    const health = async () => {
      const r = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(20_000) });
      return { status: r.status, body: (await r.json()) as Record<string, unknown> };
    };

    // The start is held in the Slack part, every part before it started: /healthz answers, and says the bot is starting.
    const starting = await health();
    expect(starting.status).toBe(200);
    expect(starting.body.start).toMatchObject({ state: 'starting' });

    proxy.set('down');
    releaseSlack();
    await seen(bot, /"event":"start_database_lost"/);
    const lost = bot.output().split('\n').find((l) => l.includes('"event":"start_database_lost"'))!;
    expect(lost).toMatch(new RegExp(`the database at 127\\.0\\.0\\.1:${proxy.port} went away during the start, after it had answered: connection (lost|refused)`));
    expect(lost).toMatch(/Waiting for it, (retrying|checking again) every \d+ s/);

    const down = await health();
    expect(down.status).toBe(503);
    expect(down.body).toMatchObject({ status: 'degraded', mode: 'unknown' });
    expect(down.body.start).toMatchObject({ state: 'waiting for the database', part: expect.stringMatching(/^the part "(slack|alerts|mode)"$/) });
    expect((down.body.start as { database: string }).database).toMatch(new RegExp(`^connection .* at 127\\.0\\.0\\.1:${proxy.port}$`));

    // The kill switch answers: POST /kill gets the kill's answer (the halt saved on disk), not a reset.
    const killed = await fetch(`${url}/kill`, {
      method: 'POST', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify({ reason: 'drill: database cut during the start' }),
      signal: AbortSignal.timeout(60_000),
    });
    expect(killed.status).toBe(200);
    const kill = (await killed.json()) as { killId: string; state: string };
    expect(kill).toMatchObject({ killId: expect.any(String), state: 'pending' });
    // Its answer names the database as away, not as a wrong address (it answered as PostgreSQL before the cut).
    expect(JSON.stringify(kill)).not.toMatch(/did not answer as PostgreSQL|db_not_postgres|as configured/);
    const saved = () => existsSync(join(dir, 'data', 'kill-pending.json'))
      ? (JSON.parse(readFileSync(join(dir, 'data', 'kill-pending.json'), 'utf8')) as { kills: Array<{ killId: string }> }).kills.map((k) => k.killId)
      : [];
    expect(saved()).toContain(kill.killId);
    // And Slack: its /kill is acknowledged (the Slack part started before the cut met the start).
    const slash = new URLSearchParams({ command: '/kill', text: 'drill from Slack', user_id: OPERATOR, channel_id: 'C0OPS', trigger_id: 'trg-cut-1', response_url: `${slack.url}respond/cut-1` }).toString();
    const slackKill = await fetch(`${url}/slack/events`, {
      method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...signedHeaders(SIGNING_SECRET, slash) }, body: slash, signal: AbortSignal.timeout(20_000),
    });
    expect(slackKill.status).toBe(200);
    // Its kill runs after the acknowledgement: saved beside the first.
    await waitUntil(() => saved().length === 2, 60_000, () => bot.output().slice(-3000));
    const kills = saved();
    expect(bot.proc.exitCode).toBeNull();
    expect(bot.output()).not.toMatch(/"banner":\{|Check DATABASE_URL/);

    proxy.set('forward');
    await seen(bot, /"event":"start_database_back"/, 90_000);
    await seen(bot, /"banner":\{/, 60_000);
    expect((await health()).body.start).toBeUndefined();
    // The saved kills are written once the database answers, once each: one incident (the first written
    // opens it, the other joins it), the halt stored, the file emptied.
    await waitUntil(() => saved().length === 0, 60_000, () => bot.output().slice(-3000));
    const opened = await database.db.select().from(incidents);
    expect(opened).toHaveLength(1);
    expect(kills).toContain(opened[0]!.killId);
    for (const id of kills) {
      expect(bot.output().split('\n').filter((l) => l.includes(`"killId":"${id}"`) && l.includes('pending kill written to the database')).length).toBeLessThanOrEqual(1);
    }
    const [state] = await database.db.select().from(botState);
    expect(state!.halted).toBe(true);
    expect(bot.proc.exitCode).toBeNull();
    expect(bot.output()).not.toContain(PASSWORD);
  });

  it('stops at once, exit 0, when asked to (SIGTERM) while its start waits for the database', { timeout: 180_000 }, async () => {
    const { proxy, bot, releaseSlack } = await heldStart();
    proxy.set('down');
    releaseSlack();
    await seen(bot, /"event":"start_database_lost"/);
    bot.kill('SIGTERM');
    expect(await bot.exited).toBe(0);
    expect(bot.output()).toMatch(new RegExp(`stopped after SIGTERM in \\d+ ms: stopped while the start waited for the database at 127\\.0\\.0\\.1:${proxy.port} \\(connection`));
    expect(bot.output()).not.toMatch(/"banner":\{|^error:/m);
    expect(bot.output()).not.toContain(PASSWORD);
  });
});

describe('a database cut while `ctb start` runs its migrations', () => {
  const databases = migrationWaitDatabases();
  afterAll(() => databases.dropDatabases());

  // The migrations are held in their transaction, not raced: a transaction of the test's has created the
  // first table, so the bot's migration waits on it mid-transaction; the cut comes then, and the test's
  // transaction rolls back, so the table is free for the run that follows the database's return
  // (tests/support/migration-wait-bot.ts).
  it('waits for the database and runs them again once it answers: said "during the migrations", each applied once, no unhandled error', { timeout: 240_000 }, async () => {
    const { bot, direct, proxy, port, close } = await botInMigrationWait(await databases.make('startcut'), 'ctb-migration-cut-', {});
    try {
      const lost = bot.output().split('\n').find((l) => l.includes('"event":"start_database_lost"'))!;
      expect(lost).toContain('"part":"the migrations"');
      expect(lost).toMatch(new RegExp(`the database at 127\\.0\\.0\\.1:${proxy.port} went away during the migrations, after it had answered: connection lost`));
      expect(lost).toMatch(/Waiting for it, retrying every 1 s/);
      // Nothing but the kill serves yet, and the line says so: not the later wait's "/healthz and the kill switch answer meanwhile".
      expect(lost).toContain('/healthz and Slack are served once the migrations are applied');
      expect(lost).toContain('POST /kill answers meanwhile');
      const starting = await fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(10_000) });
      expect(starting.status).toBe(503);
      expect(await starting.json()).toMatchObject({ status: 'starting' });

      proxy.set('forward');
      await seen(bot, /"event":"start_database_back"/, 90_000);
      await seen(bot, /"banner":\{/, 90_000);
      // Every migration of the journal applied, once.
      const journal = (JSON.parse(readFileSync(join(MIGRATIONS_DIR, 'meta', '_journal.json'), 'utf8')) as { entries: unknown[] }).entries.length;
      const applied = await direct<{ hash: string }[]>`select hash from drizzle.__drizzle_migrations`;
      expect(applied).toHaveLength(journal);
      expect(new Set(applied.map((r) => r.hash)).size).toBe(journal);
      expect(bot.output()).not.toMatch(/"unhandled":true|closed the connection without answering|^error:/m);
      bot.kill('SIGTERM');
      expect(await bot.exited).toBe(0);
    } finally {
      await close();
    }
  });
});
