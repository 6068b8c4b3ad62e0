// A takeover of the engine lease never holds engine_lease's row while it waits for bot_state's, nor
// bot_state's while it waits for engine_lease's: the order-intent statement and the live switch lock
// bot_state, then engine_lease, and the withdrawal of an unarmed engine's live approval holds
// engine_lease FOR SHARE, then bot_state. A keyed takeover records itself in bot_state, committed,
// before its take. A take that held the lease row while waiting for bot_state deadlocked with the first
// two (PostgreSQL ends one: 40P01). Each
// order is forced on PostgreSQL over separate connections: one side held open in a transaction, the
// other run, its wait seen in pg_stat_activity — never a sleep. (PGlite is one session: nothing there
// runs beside a statement.)
import postgres from 'postgres';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Db } from '../../../src/db/client.js';
import { execute } from '../../../src/db/client.js';
import { lockBotState } from '../../../src/db/queries/bot-state-row.js';
import { acquireLease, holdsLeaseRow, readLeaseHeld, type LeaseClaim } from '../../../src/db/queries/engine-lease.js';
import { REMOVES_RISK, type IntentLease } from '../../../src/engine/ledger/intent-lease.js';
import { writeIntent, type NewIntent } from '../../../src/engine/ledger/intents.js';
import { usePostgresTestDb } from '../../support/db.js';

const claim = (holderId: string): LeaseClaim => ({ holderId, host: holderId.split(':')[0]!, pid: 42, role: 'worker', feed: 'kraken', armed: true, hasKrakenKeys: true });
const held = (holderId: string): IntentLease => ({ kind: 'held', holderId, lost: () => {} });
const intent = (purpose: NewIntent['purpose']): NewIntent => ({
  mode: 'live', feed: 'kraken', strategy: 's', symbol: 'BTC/USD', side: purpose === 'entry' ? 'buy' : 'sell', purpose, type: 'market', quantity: '0.01',
  ...(purpose === 'entry' ? {} : { tradeId: 1 }), at: new Date(),
});
const ME = 'engine-host:1:aaaaaaaa';
const OTHER = 'standby-host:2:bbbbbbbb';

const testDb = usePostgresTestDb({ truncate: ['order_intents', 'engine_lease', 'bot_state'] });
let watcher: postgres.Sql;
beforeAll(() => {
  watcher = postgres(testDb().url, { max: 1, onnotice: () => {} });
});
afterAll(async () => {
  await watcher.end({ timeout: 1 });
});
beforeEach(async () => {
  await execute(testDb().db, sql`insert into bot_state (id, mode) values (1, 'live')`);
  await acquireLease(testDb().db, claim(ME), 60_000);
});

/** Whether a session of this database waits for a row or table lock in a statement whose text is like `like`. */
async function lockWaitIn(like: string): Promise<boolean> {
  return (await watcher`select 1 from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock' and query like ${like}`).length > 0;
}

/**
 * Whether the takeover waits for a lock: its take (the statement starts `insert into engine_lease`) or
 * its key record in bot_state. (pg_stat_activity keeps a statement's first 1 kB only.)
 */
const takeoverWaits = async () => (await lockWaitIn('%insert into engine_lease%')) || (await lockWaitIn('%kraken_key_seen_at%'));

/** Resolves once `seen` is true; polls the database's own view of who waits, not the time. */
async function until(seen: () => boolean | Promise<boolean>): Promise<void> {
  while (!(await seen())) await new Promise((r) => setTimeout(r, 5));
}

/** Runs `first` in a transaction of its own connection and holds that transaction open until `release()`. */
async function holdOpen(db: Db, first: (tx: Db) => Promise<unknown>): Promise<{ release(): Promise<void> }> {
  let letGo!: () => void;
  const open = new Promise<void>((r) => (letGo = r));
  let ran!: () => void;
  const started = new Promise<void>((r) => (ran = r));
  const tx = db.transaction(async (t) => {
    await first(t);
    ran();
    await open;
  });
  await Promise.race([started, tx]);
  return { release: async () => { letGo(); await tx; } };
}

/** `p`, its failure awaited later: not an unhandled rejection meanwhile. */
function later<T>(p: Promise<T>): Promise<T> {
  p.catch(() => {});
  return p;
}

/** Each outcome as 'ok' or the PostgreSQL error code it failed with (40P01: ended as a deadlock). */
const outcomes = (settled: PromiseSettledResult<unknown>[]) => settled.map((s) => (s.status === 'fulfilled' ? 'ok' : String(
  (s.reason as { cause?: { code?: string }; code?: string }).cause?.code ?? (s.reason as { code?: string }).code ?? s.reason)));

describe('the engine lease take and bot_state, locked in one order everywhere (PostgreSQL)', () => {
  it("a takeover, an engine's intent and a flatten's intent holding bot_state: the intent never waits on the takeover, nothing deadlocks", async () => {
    const { db } = testDb();
    // A kill's flatten intent written, its transaction not yet committed: bot_state's row held FOR SHARE.
    const flatten = await holdOpen(db, (tx) => writeIntent(tx, intent('flatten'), { armed: true, lease: REMOVES_RISK }));
    let engineIntent: Promise<unknown> = Promise.resolve();
    let takeover: Promise<unknown> = Promise.resolve();
    let intentWaited = false;
    try {
      // A standby takes the lease over (its holder proved gone); its key record, before the take, waits for the flatten.
      takeover = later(acquireLease(db, claim(OTHER), 60_000, ME));
      await until(takeoverWaits);
      // The engine that held the lease writes an entry's intent meanwhile.
      let written = false;
      engineIntent = later(writeIntent(db, intent('entry'), { armed: true, lease: held(ME) }).finally(() => (written = true)));
      await until(async () => written || (await lockWaitIn('%order_intents%')));
      intentWaited = !written;
    } finally {
      await flatten.release();
    }
    const settled = await Promise.allSettled([takeover, engineIntent]);
    expect(outcomes(settled)).toEqual(['ok', 'ok']);
    expect(intentWaited).toBe(false);
    expect(settled[0]).toMatchObject({ value: { acquired: true, takenOverFrom: ME } });
    // The takeover had taken nothing while it waited: the row still named the engine, whose intent is written.
    expect(settled[1]).toMatchObject({ value: { purpose: 'entry', status: 'pending' } });
    expect((await execute(db, sql`select kraken_key_seen_host from bot_state where id = 1`))[0]).toMatchObject({ kraken_key_seen_host: 'standby-host' });
  });

  it('a live switch holding bot_state reads the lease held while a takeover runs: the takeover waits before its take, nothing deadlocks', async () => {
    const { db } = testDb();
    let takeover: Promise<unknown> = Promise.resolve();
    // The switch's order: bot_state's row for update (lockBotState), then the lease row FOR SHARE (readLeaseHeld).
    const switching = db.transaction(async (tx) => {
      await lockBotState(tx);
      takeover = later(acquireLease(db, claim(OTHER), 60_000, ME));
      await until(takeoverWaits);
      return (await readLeaseHeld(tx)).lease?.holderId;
    });
    const settled = [...await Promise.allSettled([switching]), ...await Promise.allSettled([takeover])];
    expect(outcomes(settled)).toEqual(['ok', 'ok']);
    expect(settled[0]).toMatchObject({ value: ME });
    expect(settled[1]).toMatchObject({ value: { acquired: true, takenOverFrom: ME } });
  });

  it("an unarmed engine's withdrawal holding the lease row FOR SHARE, then bot_state, while a takeover runs: nothing deadlocks", async () => {
    const { db } = testDb();
    let takeover: Promise<unknown> = Promise.resolve();
    // The withdrawal's order (withdraw-unarmed-live.ts): the lease row FOR SHARE, then bot_state's row for update.
    const withdrawing = db.transaction(async (tx) => {
      const mine = await holdsLeaseRow(tx, ME);
      takeover = later(acquireLease(db, claim(OTHER), 60_000, ME));
      await until(() => lockWaitIn('%insert into engine_lease%'));
      await lockBotState(tx);
      return mine;
    });
    const settled = [...await Promise.allSettled([withdrawing]), ...await Promise.allSettled([takeover])];
    expect(outcomes(settled)).toEqual(['ok', 'ok']);
    expect(settled[0]).toMatchObject({ value: true });
    expect(settled[1]).toMatchObject({ value: { acquired: true, takenOverFrom: ME } });
  });
});
