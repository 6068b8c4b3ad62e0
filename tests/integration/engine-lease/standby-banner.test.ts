// The start banner says what this process is: a worker that stands by behind another process's
// engine does not trade, and says so — whose engine trades, and when it would take over — instead
// of the bot's "trading active"; the one that took the lease says it trades. A web process runs no
// engine: it says it does not trade, and names the process whose engine does, read from the lease.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { sql } from 'drizzle-orm';
import postgres from 'postgres';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { engineFeature } from '../../../src/app/features/engine.js';
import { healthFeature } from '../../../src/http/health.js';
import { getBotState } from '../../../src/services/bot-state.js';
import { modeStatus } from '../../../src/services/mode/sign-off.js';
import { renderStatus } from '../../../src/cli/commands/mode.js';
import { modeStatusCommand } from '../../../commands/mode-status.js';
import { renderModeStatus } from '../../../src/slack/views/mode-status.js';
import { startBot, type RunningBot } from '../../../src/app/runtime.js';
import { testConfig } from '../../../src/config/env.js';
import { acquireLease } from '../../../src/db/queries/engine-lease.js';
import { createLogger } from '../../../src/logger.js';
import { updateBotState } from '../../../src/services/bot-state.js';
import { systemClock } from '../../../src/clock.js';
import { createPostgresTestDb, type TestDatabase } from '../../support/db.js';
import { writeTradingReplay } from '../../support/trading-replay.js';

let database: TestDatabase;
let bot: RunningBot | undefined;

beforeAll(async () => {
  database = await createPostgresTestDb();
}, 120_000);
afterEach(async () => {
  await bot?.stop();
  bot = undefined;
  await database.db.execute(sql`delete from engine_lease`);
  await database.db.execute(sql`delete from bot_state`);
});
afterAll(async () => {
  await database?.close();
});

/** The banner's wait on the lease's read (5 s) for the test whose read is held by a lock until then: not its subject. */
const BANNER_WAIT_OUT_MS = 2_000;

/**
 * Starts a worker on the replay (or a web process) and returns its banner line (message and fields).
 * `bannerWaitMs`: the banner's wait (startBot's default unless given).
 */
async function startWorker(role: 'worker' | 'web' = 'worker', bannerWaitMs?: number): Promise<{ msg: string; banner: Record<string, unknown>; lines: Array<{ msg: string }> }> {
  const dir = mkdtempSync(join(tmpdir(), 'ctb-worker-banner-'));
  const { replayFile, strategiesFile } = writeTradingReplay(dir);
  const config = testConfig({
    MARKET_FEED: 'replay', REPLAY_FILE: replayFile, STRATEGIES_FILE: strategiesFile, REPLAY_INTERVAL: '10ms', ENGINE_LEASE_TTL: '30s',
    DATA_DIR: join(dir, 'data'), LOG_DIR: join(dir, 'logs'), HOST: '127.0.0.1', LOG_LEVEL: 'info',
  });
  const lines: Array<{ msg: string; banner?: Record<string, unknown> }> = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      for (const l of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(l));
      done();
    },
  });
  const logger = createLogger({ config, stdout: false, files: false, destination: sink, destinationLevel: 'info' });
  bot = await startBot({ config, logger, database, features: role === 'web' ? [] : [healthFeature, engineFeature({ standbyPollMs: 100 })], role, feed: 'replay', port: 0,
    ...(bannerWaitMs === undefined ? {} : { bannerWaitMs }) });
  const line = lines.find((l) => l.msg.startsWith('ctb running on port'));
  expect(line).toBeDefined();
  return { msg: line!.msg, banner: line!.banner!, lines };
}

/** The database live, and another worker's engine — armed, with Kraken keys — holding a fresh lease. */
async function armedEngineHoldsLive(): Promise<void> {
  await updateBotState(database.db, systemClock, { mode: 'live' });
  await acquireLease(database.db, { holderId: 'bot-a:4242:00000000', host: 'bot-a', pid: 4242, role: 'worker', feed: 'kraken', armed: true, hasKrakenKeys: true }, 30_000);
}

async function healthzEngine(): Promise<Record<string, unknown>> {
  const res = await fetch(`http://127.0.0.1:${bot!.port}/healthz`, { signal: AbortSignal.timeout(10_000) });
  return ((await res.json()) as { engine: Record<string, unknown> }).engine;
}

/** Polls `cond` (no guessed sleep): a loaded machine is slow, not wrong. */
async function until(cond: () => boolean | Promise<boolean>, what: string, ms = 60_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('the start banner of a worker', () => {
  it('behind another process holding the engine lease: says it stands by, not that it trades', async () => {
    // Another worker's engine holds a fresh lease.
    await acquireLease(database.db, { holderId: 'bot-a:4242:00000000', host: 'bot-a', pid: 4242, role: 'worker', feed: 'kraken', armed: false, hasKrakenKeys: false }, 30_000);
    const { msg, banner } = await startWorker();
    expect(msg).toMatch(/^ {2}mode {6}paper \(IS_LIVE is not set: no order can reach Kraken\), STANDBY: not trading here \(the engine runs in bot-a:4242 \(worker\); trading active there\), role worker$/m);
    expect(msg).toContain('  standby   this process takes the engine over if bot-a:4242 (worker) stops renewing its lease for 30s (ENGINE_LEASE_TTL), or at once if its process is gone on this host');
    expect(msg).not.toMatch(/, trading active,/);
    expect(banner).toMatchObject({ tradingState: 'active', engine: 'standby behind bot-a:4242 (worker)' });
  }, 120_000);

  it('that took the engine lease: says it trades', async () => {
    const { msg, banner } = await startWorker();
    expect(msg).toMatch(/^ {2}mode {6}paper .*, trading active, role worker$/m);
    expect(msg).not.toMatch(/standby|STANDBY/);
    expect(banner).toMatchObject({ tradingState: 'active', engine: 'this process' });
  }, 120_000);
});

describe('the start banner of a worker whose engine waits', () => {
  it("on the live approval's withdrawal: says the engine waits and why, never that it trades; /healthz says the same; a line follows once it trades", async () => {
    await updateBotState(database.db, systemClock, { mode: 'live' });
    // Another session holds bot_state's row: this unarmed engine's withdrawal cannot record paper, and is retried.
    const locker = postgres(database.url, { max: 1, onnotice: () => {} });
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let locked!: () => void;
    const isLocked = new Promise<void>((resolve) => (locked = resolve));
    const lock = locker.begin(async (tx) => {
      await tx`select id from bot_state where id = 1 for update`;
      locked();
      await held;
    });
    try {
      await isLocked;
      const { msg, banner, lines } = await startWorker();
      const waiting = /^the live approval's withdrawal \(this engine is not armed: a live approval bot_state holds is recorded withdrawn before it trades\): the database did not record it \(.+\); retried until it does$/;
      expect(msg).toMatch(/^ {2}mode {6}paper \(IS_LIVE is not set: no order can reach Kraken\), engine waiting: the live approval's withdrawal .*, role worker$/m);
      expect(msg).not.toMatch(/trading active/);
      expect(banner).toMatchObject({ engine: 'this process', engineWaiting: expect.stringMatching(waiting) });
      expect(await healthzEngine()).toMatchObject({ thisProcess: true, waiting: expect.stringMatching(waiting) });
      // Another process (`ctb mode status`) reads it from the lease row: the engine runs, and waits.
      const cliEngineLine = async () => renderStatus({ ok: true, ...(await modeStatus(bot!.ctx)) }).split('\n').find((l) => l.startsWith('engine: ')) ?? '';
      await until(async () => (await cliEngineLine()).includes("; engine waiting: the live approval's withdrawal"), 'ctb mode status to say the engine waits');
      // Slack's /mode status says the same, from the same row.
      const slackEngineField = async () => JSON.stringify(renderModeStatus(await modeStatusCommand.run({ ...bot!.ctx, actor: { id: 'cli:ops', source: 'cli' } }, {})).blocks).match(/\*Engine\*\\n([^"]*)/)?.[1] ?? '';
      expect(await slackEngineField()).toContain("; engine waiting: the live approval's withdrawal");

      release();
      await lock;
      await until(() => lines.some((l) => l.msg.startsWith('engine trading now')), 'the line saying the engine trades');
      expect(await healthzEngine()).toMatchObject({ thisProcess: true, waiting: null });
      await until(async () => !(await cliEngineLine()).includes('engine waiting'), 'ctb mode status to stop saying the engine waits');
      expect(await slackEngineField()).toMatch(/; engine trading now$/);
      expect((await getBotState(database.db)).mode).toBe('paper');
    } finally {
      release();
      await lock;
      await locker.end();
    }
  }, 120_000);

  it('that trades: says so, and /healthz says it waits on nothing', async () => {
    const { msg, banner } = await startWorker();
    expect(msg).toMatch(/^ {2}mode {6}paper .*, trading active, role worker$/m);
    expect(banner).toMatchObject({ engine: 'this process', engineWaiting: null });
    expect(await healthzEngine()).toMatchObject({ thisProcess: true, waiting: null });
  }, 120_000);
});

describe('the start banner of a web process', () => {
  it('says it does not trade, and whose engine does: the lease holder read from the database', async () => {
    await acquireLease(database.db, { holderId: 'bot-a:4242:00000000', host: 'bot-a', pid: 4242, role: 'worker', feed: 'kraken', armed: false, hasKrakenKeys: false }, 30_000);
    const { msg, banner } = await startWorker('web');
    expect(msg).toMatch(/^ {2}mode {6}paper \(IS_LIVE is not set in the engine's process: .*\), not trading here: this process serves Slack and HTTP and runs no engine, role web$/m);
    expect(msg).not.toMatch(/trading active,/);
    expect(msg).toMatch(/^ {2}engine {4}runs in bot-a:4242 \(worker, feed kraken, not armed, no Kraken keys\), heartbeat \d+s ago: trading active there$/m);
    expect(banner).toMatchObject({ engine: 'none in this process', engineHolder: { state: 'running', holderId: 'bot-a:4242:00000000' } });
  }, 120_000);

  it('names the live engine as armed although its own IS_LIVE is not set', async () => {
    await armedEngineHoldsLive();
    const { msg, banner } = await startWorker('web');
    expect(msg).toMatch(/^ctb running on port \d+ \(web: no engine here, postgres\)$/m);
    expect(msg).toMatch(/^ {2}mode {6}live, not trading here: /m);
    expect(msg).not.toMatch(/paper only|IS_LIVE is not set/);
    expect(banner).toMatchObject({ armed: true, mode: 'live' });
  }, 120_000);

  it('when the lease cannot be read in time: starts anyway, and says whether and where an engine runs is not known', async () => {
    // Another session holds the lease table locked: the banner's read of it waits, as on a stalled database.
    const locker = postgres(database.url, { max: 1, onnotice: () => {} });
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let locked!: () => void;
    const isLocked = new Promise<void>((resolve) => (locked = resolve));
    const lock = locker.begin(async (tx) => {
      await tx`lock table engine_lease in access exclusive mode`;
      locked();
      await held;
    });
    try {
      await isLocked;
      const started = Date.now();
      const timeout = new Promise<never>((_, reject) => setTimeout(() => reject(new Error('the banner waited on the lease read past its deadline')), 20_000).unref());
      const { msg, banner } = await Promise.race([startWorker('web', BANNER_WAIT_OUT_MS), timeout]);
      expect(Date.now() - started).toBeLessThan(20_000);
      expect(msg).toContain('  engine    not known: the engine lease could not be read (the warning above says why)');
      expect(msg).not.toMatch(/runs in a worker|paper only|mode {6}paper/);
      expect(banner).toMatchObject({ armed: null, mode: null, engineHolder: null });
    } finally {
      release();
      await lock;
      await locker.end();
    }
  }, 120_000);

  it('with the lease stale, its holder armed and the database live: says the mode unknown — it may resume LIVE if it wakes — never none or paper', async () => {
    await armedEngineHoldsLive();
    await database.db.execute(sql`update engine_lease set heartbeat_at = now() - interval '1 hour'`);
    const { msg, banner } = await startWorker('web');
    expect(msg).toMatch(/^ {2}mode {6}unknown: the engine \(bot-a:4242\) stopped renewing its lease at \S+ \(stale since \S+\); it was armed and the database says live: it may resume LIVE trading if it wakes; `ctb kill` cancels from any process, not trading here: /m);
    expect(msg).toMatch(/^ {2}engine {4}none running: the lease of bot-a:4242 \(worker\) went stale at \S+; nothing trades while it hangs or until a worker \(`ctb start --role worker`\) takes it over, but it may resume LIVE trading if it wakes$/m);
    expect(msg).not.toMatch(/mode {6}(none|paper)/);
    expect(banner).toMatchObject({ mode: 'unknown', engineHolder: { state: 'stale' } });
  }, 120_000);

  it('with no engine running: says nothing trades until a worker takes the lease', async () => {
    const { msg } = await startWorker('web');
    expect(msg).toContain('  engine    none running: nothing trades until a worker (`ctb start --role worker`) takes the engine lease');
  }, 120_000);
});
