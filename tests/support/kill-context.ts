// Builds an AppContext for kill-switch tests: a real PostgreSQL database (optionally behind a
// stall proxy, with every query recorded in the shared event log), recording exchanges, a
// capturing alert sink and a ManualClock. DATA_DIR is a fresh temporary directory.
import { ALONE_BY_CONSTRUCTION } from '../../src/engine/ledger/intent-lease.js';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/postgres-js';
import postgres from 'postgres';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { createOutboxAlertSink } from '../../src/alerts/sink.js';
import type { AlertInput } from '../../src/alerts/types.js';
import { buildAppContext, type OwnedContext } from '../../src/app/build-context.js';
import { ManualClock } from '../../src/clock.js';
import { testConfig } from '../../src/config/env.js';
import type { Database, Db } from '../../src/db/client.js';
import { markIntent, writeIntent } from '../../src/engine/ledger/intents.js';
import { silentLogger } from '../../src/logger.js';
import { updateBotState } from '../../src/services/bot-state.js';
import type { KillTime } from '../../src/services/kill/runtime.js';
import { createPostgresTestDb, emptyTablesSql, type TestDatabase } from './db.js';
import { recordingExchange, type RecordingExchange } from './recording-exchange.js';

export const TEST_KRAKEN_KEY = 'k'.repeat(56);
export const TEST_KRAKEN_SECRET = Buffer.from('s'.repeat(64)).toString('base64');

/** postgres.js on `url`, logging each query it sends into `events` as `db:<sql>` (its first `sqlChars` characters); `onclose` told when a connection closes. */
export function recordingDatabase(url: string, events: string[], sqlChars = 60, onclose?: () => void): Database {
  const client = postgres(url, {
    max: 2, onnotice: () => {}, connect_timeout: 2, ...(onclose ? { onclose } : {}),
    debug: (_conn, query) => events.push(`db:${query.replace(/\s+/g, ' ').slice(0, sqlChars)}`),
  });
  return { db: drizzle(client) as unknown as Db, kind: 'postgres', via: 'direct', close: () => client.end({ timeout: 1 }) };
}

export interface KillTestContext {
  ctx: OwnedContext;
  clock: ManualClock;
  kraken: RecordingExchange;
  paper: RecordingExchange;
  alerts: AlertInput[];
  events: string[];
  dataDir: string;
}

export async function killTestContext(opts: {
  database: Database;
  /** IS_LIVE=true with Kraken keys. */
  armed?: boolean;
  /** Kraken keys without IS_LIVE (an operator's shell, an unarmed replica). */
  keys?: boolean;
  events?: string[];
  env?: Record<string, string>;
  dataDir?: string;
  /** The time the kill's confirmation rounds run on (default: the real one). */
  killTime?: KillTime;
  /** Also store each alert in the outbox (alert groups, to acknowledge or resolve), as the bot's sink does. */
  storeAlerts?: boolean;
}): Promise<KillTestContext> {
  const events = opts.events ?? [];
  const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), 'ctb-kill-'));
  const config = testConfig({
    DATA_DIR: dataDir,
    // Generous by default so a loaded CI machine never turns a healthy write into a 'pending' kill;
    // the outage tests pass a short deadline explicitly.
    KILL_DB_TIMEOUT: '8s',
    ...(opts.armed ? { IS_LIVE: 'true' } : {}),
    ...(opts.armed || opts.keys ? { KRAKEN_API_KEY: TEST_KRAKEN_KEY, KRAKEN_API_SECRET: TEST_KRAKEN_SECRET } : {}),
    ...opts.env,
  });
  const clock = new ManualClock('2026-03-02T10:00:00Z');
  const kraken = recordingExchange('kraken', events);
  const paper = recordingExchange('paper', events);
  const alerts: AlertInput[] = [];
  const ctx = await buildAppContext({
    config, clock, logger: silentLogger(), database: opts.database,
    exchanges: { kraken: () => kraken, paper: () => paper },
    alerts: (c) => {
      const outbox = opts.storeAlerts ? createOutboxAlertSink({ db: c.db, clock, logger: silentLogger(), config }) : null;
      return outbox
        ? { raise: async (a) => { alerts.push(a); await outbox.raise(a); }, resolve: (r) => outbox.resolve!(r) }
        : { raise: async (a) => void alerts.push(a) };
    },
    ...(opts.killTime ? { killTime: opts.killTime } : {}),
  });
  return { ctx, clock, kraken, paper, alerts, events, dataDir };
}

/**
 * The shared set-up of the kill tests: one PostgreSQL database for the file, every context and
 * connection a test opens (`track`) closed after it, and `truncate` emptied between tests.
 */
export function useKillTestDb(truncate: string[]): { db: () => TestDatabase; track<T extends { close(): Promise<unknown> }>(x: T): T } {
  let testDb: TestDatabase | undefined;
  const open: Array<{ close(): Promise<unknown> }> = [];
  beforeAll(async () => {
    testDb = await createPostgresTestDb();
  });
  afterAll(async () => {
    await testDb?.close();
  });
  afterEach(async () => {
    while (open.length) await open.pop()!.close().catch(() => {});
    // A saved kill's replay record goes with its incident: a test replaying a kill id an earlier test
    // replayed must find it unwritten (else it is announced by nobody).
    const tables = truncate.includes('incidents') && !truncate.includes('kill_replays') ? ['kill_replays', ...truncate] : truncate;
    await testDb!.db.execute(sql.raw(emptyTablesSql(tables)));
  });
  return {
    db: () => {
      if (!testDb) throw new Error('useKillTestDb: the database is created in beforeAll');
      return testDb;
    },
    track: (x) => {
      open.push(x);
      return x;
    },
  };
}

/** A table held locked by another session: around a function, or until released (table-lock.ts). */
export { holdTableLock, whileTableLocked, type TableLockMode } from './table-lock.js';

/**
 * A live exit sent to Kraken and not booked yet, with bot_state live, and Kraken's next answer a
 * network error: a self-heal pass retries its probe, resyncs and finds the order in flight. The
 * intent's id.
 */
export async function liveExitInFlight(t: KillTestContext): Promise<number> {
  await updateBotState(t.ctx.db, t.clock, { mode: 'live' });
  const intent = await writeIntent(t.ctx.db, {
    mode: 'live', feed: 'kraken', strategy: 'btc-ma-cross', symbol: 'BTC/USD', side: 'sell', purpose: 'exit', type: 'market', quantity: '0.03', at: t.clock.now(),
  }, { lease: ALONE_BY_CONSTRUCTION, armed: true });
  await markIntent(t.ctx.db, { id: intent!.id, status: 'sent', exchangeOrderId: 'OEXIT1-AAAAA-BBBBBB', at: t.clock.now() });
  t.kraken.mode = 'network_error';
  return intent!.id;
}
