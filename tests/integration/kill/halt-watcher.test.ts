// The running bot and a halt it did not cause: restarted while halted it stays halted; a kill from
// another terminal (another process's context on the same database) stops its engine and trading
// jobs within a second; a resume elsewhere lifts the latch, and a reconciliation that passes never
// lifts a kill's halt. Real engine, real paper exchange.
import { sql } from 'drizzle-orm';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startBot, type RunningBot } from '../../../src/app/runtime.js';
import { systemClock } from '../../../src/clock.js';
import { testConfig } from '../../../src/config/env.js';
import { connectPostgres, execute } from '../../../src/db/client.js';
import { engineFeature } from '../../../src/app/features/engine.js';
import { silentLogger } from '../../../src/logger.js';
import { getBotState, updateBotState } from '../../../src/services/bot-state.js';
import { killFeature } from '../../../src/app/features/kill.js';
import { executeKill } from '../../../src/services/kill/kill.js';
import { isHaltLatched } from '../../../src/services/kill/runtime.js';
import { createPostgresTestDb, type TestDatabase } from '../../support/db.js';
import { maCross } from '../../support/engine.js';
import { killTestContext } from '../../support/kill-context.js';
import { liftHaltPlacedBy, placeHaltIfRunning } from '../../../src/db/queries/reconcile-state.js';
import { RECONCILIATION_ACTOR, RECONCILIATION_REASON } from '../../../src/services/reconcile/start/run.js';

const cleanup: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  while (cleanup.length) await cleanup.pop()!().catch(() => {});
});

async function intents(db: TestDatabase): Promise<number> {
  const rows = await execute<{ n: number }>(db.db, sql`select count(*)::int as n from order_intents`);
  return rows[0]?.n ?? 0;
}

async function waitFor(what: string, fn: () => Promise<boolean> | boolean, ms = 30_000): Promise<number> {
  const started = Date.now();
  while (Date.now() - started < ms) {
    if (await fn()) return Date.now() - started;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`timed out waiting for ${what}`);
}

async function startTradingBot(database: TestDatabase): Promise<RunningBot> {
  const dir = mkdtempSync(join(tmpdir(), 'ctb-halt-'));
  const strategiesFile = join(dir, 'strategies.json');
  // Fast averages on the bundled replay sample: the engine enters and exits within seconds.
  writeFileSync(strategiesFile, JSON.stringify({ strategies: [maCross({ params: { fastPeriod: 2, slowPeriod: 5, signalWindow: 2 }, limits: { minConfidence: 0.000001, minVolume24hQuote: 1 } })] }));
  const config = testConfig({
    STRATEGIES_FILE: strategiesFile, REPLAY_INTERVAL: '5ms', TRADING_PAIRS: 'BTC/USD', DATA_DIR: join(dir, 'data'),
    LOG_DIR: join(dir, 'logs'), HALT_POLL_INTERVAL: '500ms', EQUITY_SNAPSHOT_INTERVAL: '1h',
  });
  const bot = await startBot({
    config, role: 'worker', feed: 'replay', port: 0, logger: silentLogger(), database,
    features: [killFeature, engineFeature({ standbyPollMs: 50 })],
  });
  cleanup.push(() => bot.stop());
  return bot;
}

describe('the running bot and halts from elsewhere', () => {
  it('restarted while halted, stays halted: no order while bot_state says halted, trades again once resumed elsewhere', async () => {
    const database = await createPostgresTestDb();
    cleanup.push(() => database.close());
    await updateBotState(database.db, systemClock, { halted: true, haltedReason: 'kill before the restart', haltedAt: new Date(), haltedBy: 'UOPS' });

    const bot = await startTradingBot(database);
    expect(isHaltLatched(bot.ctx)).toBe(true);
    expect(bot.ctx.jobs.tradingPaused).toBe('kill: kill before the restart');
    // Enough replayed candles for this strategy to trade several times over (see the control below).
    await new Promise((r) => setTimeout(r, 2_500));
    expect(await intents(database)).toBe(0);
    expect((await getBotState(database.db)).halted).toBe(true);

    // `ctb resume` from another terminal: the running bot notices and trades again.
    await updateBotState(database.db, systemClock, { halted: false, haltedReason: null, haltedAt: null, haltedBy: null });
    await waitFor('the latch to lift', () => !isHaltLatched(bot.ctx), 5_000);
    expect(bot.ctx.jobs.tradingPaused).toBeNull();
    await waitFor('an order after the resume', async () => (await intents(database)) > 0);
  }, 60_000);

  it('sees a `ctb kill` from another process within a second: engine stops ordering, trading jobs pause', async () => {
    const database = await createPostgresTestDb();
    cleanup.push(() => database.close());
    const bot = await startTradingBot(database);
    await waitFor('the engine to trade', async () => (await intents(database)) > 0);
    expect(isHaltLatched(bot.ctx)).toBe(false);

    // Another terminal: its own connection, its own process state (a separate context).
    const other = connectPostgres(database.url, { max: 2 });
    cleanup.push(() => other.close());
    // The bot trades paper on a replay with no Kraken key: its lease says so, and this keyless terminal
    // hands Kraken's cancel to nobody; the short KILL_HANDOFF_TIMEOUT bounds an unreadable lease.
    const cli = await killTestContext({ database: other, env: { KILL_HANDOFF_TIMEOUT: '500ms' } });
    cleanup.push(() => cli.ctx.close());
    const result = await executeKill(cli.ctx, { actor: { id: 'cli:ops', source: 'cli' }, reason: 'from another terminal', trigger: 'manual' });
    expect(result.state).toBe('written');
    const writtenAt = Date.now();

    const seenAfter = await waitFor('the running bot to latch the halt', () => isHaltLatched(bot.ctx), 5_000);
    expect(seenAfter).toBeLessThan(1_000);
    expect(bot.ctx.jobs.tradingPaused).toBe('kill: from another terminal');
    // An order already under way may finish; after that nothing new is sent.
    await new Promise((r) => setTimeout(r, 300));
    const after = await intents(database);
    await new Promise((r) => setTimeout(r, 1_500));
    expect(await intents(database)).toBe(after);
    expect(Date.now() - writtenAt).toBeGreaterThan(1_500);
  }, 60_000);

  it("halted by reconciliation, then killed from another process: reconciliation passing lifts nothing, and the bot sends no order", async () => {
    const database = await createPostgresTestDb();
    cleanup.push(() => database.close());
    const bot = await startTradingBot(database);
    await waitFor('the engine to trade', async () => (await intents(database)) > 0);
    // Reconciliation finds something it cannot explain (written by another process, as ctb reconcile does).
    expect(await placeHaltIfRunning(database.db, { reason: RECONCILIATION_REASON, actor: RECONCILIATION_ACTOR, now: new Date() })).toBe(true);
    await waitFor('the running bot to latch the halt', () => isHaltLatched(bot.ctx), 5_000);

    const other = connectPostgres(database.url, { max: 2 });
    cleanup.push(() => other.close());
    const cli = await killTestContext({ database: other, env: { KILL_HANDOFF_TIMEOUT: '500ms' } });
    cleanup.push(() => cli.ctx.close());
    const result = await executeKill(cli.ctx, { actor: { id: 'cli:ops', source: 'cli' }, reason: 'killed while reconciling', trigger: 'manual' });
    expect(result.state).toBe('written');

    // What a passing reconciliation writes, from yet another process.
    const before = await intents(database);
    const lifted = await liftHaltPlacedBy(other.db, RECONCILIATION_ACTOR, new Date());
    // Enough replayed candles for this strategy to trade several times over (see the first test's control).
    await new Promise((r) => setTimeout(r, 2_500));
    expect({ lifted, latched: isHaltLatched(bot.ctx), newIntents: (await intents(database)) - before }).toEqual({ lifted: false, latched: true, newIntents: 0 });
    expect(await getBotState(database.db)).toMatchObject({ halted: true, haltedBy: 'cli:ops' });
  }, 60_000);
});
