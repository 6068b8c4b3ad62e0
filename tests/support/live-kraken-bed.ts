// A live bot's test bed for reconciliation tests: a real PostgreSQL database (one per file, its
// order and state tables emptied before each test), the fake Kraken (the simulator, in Kraken's
// formats, a fresh one per test), a scratch directory with logs/, the environment an armed process
// reads, app contexts built on it (closed after each test) and `ctb` run in-process with that
// environment. Call it at a test file's top level: it registers the hooks that set all this up.
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { afterAll, afterEach, beforeAll, beforeEach } from 'vitest';
import type { AlertInput } from '../../src/alerts/types.js';
import { buildAppContext, type OwnedContext } from '../../src/app/build-context.js';
import { runCli } from '../../src/cli/program.js';
import { ManualClock } from '../../src/clock.js';
import { testConfig } from '../../src/config/env.js';
import { createPostgresTestDb, emptyTablesSql, type TestDatabase } from './db.js';
import { startFakeKraken, type FakeKraken } from './fake-kraken.js';
import { TEST_API_KEY, TEST_API_SECRET } from './kraken-test-keys.js';
import { silentLogger } from '../../src/logger.js';

export type Env = Record<string, string | undefined>;

export interface LiveKrakenBed {
  /** Set before each test (the file's own beforeEach hooks run after the bed's). */
  readonly current: { database: TestDatabase; kraken: FakeKraken; dir: string };
  /** The environment of an armed process with the key, pointed at the fake Kraken; `extra` overrides. */
  env(extra?: Env): Env;
  /** A process's app context on the bed (closed after the test); alerts raised go into `alerts`. */
  context(alerts?: AlertInput[]): Promise<OwnedContext>;
  /** `ctb argv…` in-process with the bed's environment (plus `extra`). */
  ctb(argv: string[], extra?: Env): Promise<{ code: number; out: string; err: string }>;
}

export function liveKrakenBed(tmpPrefix: string): LiveKrakenBed {
  const current = {} as LiveKrakenBed['current'];
  const contexts: OwnedContext[] = [];
  beforeAll(async () => {
    current.database = await createPostgresTestDb();
  });
  afterAll(async () => {
    await current.database?.close();
  });
  beforeEach(async () => {
    await current.database.db.execute(sql.raw(emptyTablesSql(['order_intents', 'fills', 'trades', 'equity_snapshots', 'bot_state', 'engine_requests', 'engine_lease', 'watchdog_clocks'])));
    current.kraken = await startFakeKraken({ apiKey: TEST_API_KEY, secret: TEST_API_SECRET, balances: { ZUSD: '10000.0000', XXBT: '0.0000000000' } });
    current.dir = mkdtempSync(join(tmpdir(), tmpPrefix));
    mkdirSync(join(current.dir, 'logs'));
  });
  afterEach(async () => {
    for (const ctx of contexts.splice(0)) await ctx.close();
    await current.kraken?.close();
  });
  const env = (extra: Env = {}): Env => {
    const { database, kraken, dir } = current;
    return {
      IS_LIVE: 'true', KRAKEN_API_KEY: TEST_API_KEY, KRAKEN_API_SECRET: TEST_API_SECRET, KRAKEN_API_URL: kraken.url, KRAKEN_RATE_LIMIT: 'false',
      DATABASE_URL: database.url, DATA_DIR: join(dir, 'data'), LOG_DIR: join(dir, 'logs'), REPORTS_DIR: join(dir, 'reports'), LOG_LEVEL: 'warn', ...extra,
    };
  };
  return {
    current,
    env,
    async context(alerts) {
      const ctx = await buildAppContext({
        config: testConfig(env()), database: current.database, clock: new ManualClock(new Date()), logger: silentLogger(),
        alerts: () => ({ raise: async (a) => void alerts?.push(a) }),
      });
      contexts.push(ctx);
      return ctx;
    },
    async ctb(argv, extra = {}) {
      let out = '';
      let err = '';
      const code = await runCli(argv, { env: env(extra), cwd: current.dir, stdout: { write: (s: string) => (out += s) }, stderr: { write: (s: string) => (err += s) } });
      return { code, out, err };
    },
  };
}
