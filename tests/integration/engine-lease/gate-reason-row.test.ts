// The live engine's gate, as another process reads it from the engine lease row: a real armed engine
// (startBot with the engine part, the live code path, the Kraken feed) against the Kraken simulator.
// When Kraken stops answering, `ctb mode status` in a shell of its own says the engine waits, with
// the gate's reason; once Kraken answers again, that it trades — without a candle closing between;
// a halt while the gate holds replaces the gate's reason at once, and a stopped engine leaves no row.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { engineFeature } from '../../../src/app/features/engine.js';
import { startBot, type RunningBot } from '../../../src/app/runtime.js';
import { systemClock } from '../../../src/clock.js';
import { testConfig } from '../../../src/config/env.js';
import { readLease } from '../../../src/db/queries/engine-lease.js';
import { liveReconciliationWhy } from '../../../src/domain/engine-waiting.js';
import { silentLogger } from '../../../src/logger.js';
import { updateBotState } from '../../../src/services/bot-state.js';
import { waitUntil } from '../../support/bot-process.js';
import { ctbInShell } from '../../support/ctb-shell.js';
import { createPostgresTestDb, type TestDatabase } from '../../support/db.js';
import { TEST_API_KEY, TEST_API_SECRET } from '../../support/kraken-test-keys.js';
import { startLiveKraken, type LiveKraken } from '../../support/live-engine.js';

let database: TestDatabase;
let kraken: LiveKraken;
let bot: RunningBot | undefined;
beforeAll(async () => {
  database = await createPostgresTestDb();
  kraken = await startLiveKraken();
}, 120_000);
afterAll(async () => {
  await bot?.stop();
  await kraken?.sim.close();
  await database?.close();
});

/** What the lease row says the engine waits on: null (trading), or "no row". */
const rowSays = async () => {
  const { lease } = await readLease(database.db);
  return lease ? lease.waiting : 'no row';
};
let last: string | null = null;
/** Until the row says `waiting`, read again as the engine writes it. */
const rowComesToSay = (waiting: string | null, what: string) =>
  waitUntil(async () => (last = await rowSays()) === waiting, 60_000, () => `${what} (the row says ${JSON.stringify(last)})`);

/** The engine line of `ctb mode status`, run in a shell of its own on the same database. */
const modeStatusEngine = async () => {
  const run = await ctbInShell(['mode', 'status'], { DATABASE_URL: database.url });
  expect(run.code, run.stderr).toBe(0);
  return run.stdout.split('\n').find((l) => l.startsWith('engine: ')) ?? `no engine line in: ${run.stdout}`;
};

const unreachable = liveReconciliationWhy('unreachable');

describe("the live engine's gate in its lease row", () => {
  it('says waiting with the reason while Kraken does not answer, trading once it does, and a halt while gated clears the reason', { timeout: 180_000 }, async () => {
    await updateBotState(database.db, systemClock, { mode: 'live' });
    const dir = mkdtempSync(join(tmpdir(), 'ctb-gate-row-'));
    bot = await startBot({
      config: testConfig({
        IS_LIVE: 'true', KRAKEN_API_KEY: TEST_API_KEY, KRAKEN_API_SECRET: TEST_API_SECRET, KRAKEN_API_URL: kraken.sim.url, KRAKEN_RATE_LIMIT: 'false',
        HOST: '127.0.0.1', DATA_DIR: join(dir, 'data'), LOG_DIR: join(dir, 'logs'),
      }),
      logger: silentLogger(), database, role: 'worker', feed: 'kraken', port: 0,
      features: [engineFeature({ reconcile: { tickMs: 100, probeMs: 300 } })],
    });
    // Past its steps, with the start reconciliation passed: the row names nothing, and the shell says it trades.
    await waitUntil(async () => (last = await rowSays()) === null, 120_000, () => `the engine trading (the row says ${JSON.stringify(last)})`);
    expect(await modeStatusEngine()).toMatch(/; engine trading now$/);

    // Kraken stops answering: the monitor's probe fails and the gate holds live orders.
    kraken.sim.faults.add({ endpoint: '*', kind: 'http_5xx', status: 503, json: true, probability: 1 });
    await rowComesToSay(unreachable, "the row naming the gate's reason");
    expect((await readLease(database.db)).lease?.waitingKind, 'recorded as a gate\'s reason, not a step').toBe('gate');
    expect(await modeStatusEngine()).toMatch(new RegExp(`; engine waiting: ${escape(unreachable)}$`));

    // Kraken answers again: reconciliation passes and the row says trading, with no candle needed.
    kraken.sim.faults.clear();
    await rowComesToSay(null, 'the row naming nothing once Kraken answers');
    expect(await modeStatusEngine()).toMatch(/; engine trading now$/);

    // Gated again, then halted by another process: the halt, not the gate's reason, is what is said.
    kraken.sim.faults.add({ endpoint: '*', kind: 'http_5xx', status: 503, json: true, probability: 1 });
    await rowComesToSay(unreachable, "the row naming the gate's reason again");
    await updateBotState(database.db, systemClock, { halted: true, haltedReason: 'drill: gated halt', haltedBy: 'test', haltedAt: new Date() });
    await rowComesToSay(null, "the row dropping the gate's reason after the halt");
    expect(await modeStatusEngine()).toMatch(/; engine waiting: halted \(drill: gated halt\): no orders until `ctb resume`$/);

    // Stopped: the row is released, and nothing is said of an engine.
    kraken.sim.faults.clear();
    await bot.stop();
    bot = undefined;
    expect(await rowSays()).toBe('no row');
    expect(await modeStatusEngine()).toBe('engine: no engine running');
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
