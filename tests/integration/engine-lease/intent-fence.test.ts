// The engine lease as a fence in the order-intent statement (src/engine/ledger/intent-lease.ts): an
// engine's intent is written only while engine_lease's row names its holder, checked in the same
// statement with the row locked FOR SHARE; a flatten, which only removes risk, is never refused for
// want of the lease. The statement on both databases; the race of an intent with a takeover on
// PostgreSQL, over two connections (PGlite has one session: nothing there runs beside a statement).
import { sql } from 'drizzle-orm';
import { beforeEach, describe, expect, it } from 'vitest';
import { execute } from '../../../src/db/client.js';
import { acquireLease, type LeaseClaim } from '../../../src/db/queries/engine-lease.js';
import { ALONE_BY_CONSTRUCTION, REMOVES_RISK, type IntentLease } from '../../../src/engine/ledger/intent-lease.js';
import { unresolvedIntents, writeIntent, type NewIntent } from '../../../src/engine/ledger/intents.js';
import { usePostgresTestDb, useTestDb, type DbKind } from '../../support/db.js';

const claim = (holderId: string): LeaseClaim => ({ holderId, host: holderId.split(':')[0]!, pid: 42, role: 'worker', feed: 'kraken', armed: true, hasKrakenKeys: true });
const held = (holderId: string, lost: string[] = []): IntentLease => ({ kind: 'held', holderId, lost: (reason) => lost.push(reason) });
const intent = (purpose: NewIntent['purpose'] = 'entry'): NewIntent => ({
  mode: 'live', feed: 'kraken', strategy: 's', symbol: 'BTC/USD', side: purpose === 'entry' ? 'buy' : 'sell', purpose, type: 'market', quantity: '0.01',
  ...(purpose === 'entry' ? {} : { tradeId: 1 }), at: new Date(),
});
const ME = 'engine-host:1:aaaaaaaa';
const OTHER = 'standby-host:2:bbbbbbbb';

describe.each<DbKind>(['postgres', 'pglite'])('the order-intent statement under the engine lease, on %s', (kind) => {
  const database = useTestDb(kind, { truncate: ['order_intents', 'engine_lease', 'bot_state'] });
  beforeEach(async () => {
    await execute(database().db, sql`insert into bot_state (id, mode) values (1, 'live')`);
  });

  it("refuses an engine's intent while the lease row names another holder, and writes it while the row names this engine", async () => {
    const { db } = database();
    await acquireLease(db, claim(OTHER), 60_000);
    expect(await writeIntent(db, intent(), { armed: true, lease: held(ME) })).toBeNull();
    expect(await writeIntent(db, intent('exit'), { armed: true, lease: held(ME) })).toBeNull();
    // Closed intents (the gate's refusal, the venue's rejection) are written under the same check.
    expect(await writeIntent(db, intent(), { armed: true, lease: held(ME) }, { status: 'refused', error: 'gate' })).toBeNull();
    expect(await unresolvedIntents(db)).toEqual([]);
    expect(await writeIntent(db, intent(), { armed: true, lease: held(OTHER) })).toMatchObject({ status: 'pending' });
  });

  it("refuses an engine's intent when the lease row is gone (released, or never taken)", async () => {
    expect(await writeIntent(database().db, intent(), { armed: true, lease: held(ME) })).toBeNull();
  });

  it("writes a flatten's intent whoever holds the lease, and with no lease at all, as a kill's flatten runs", async () => {
    const { db } = database();
    expect(await writeIntent(db, intent('flatten'), { armed: true, lease: REMOVES_RISK })).toMatchObject({ purpose: 'flatten', status: 'pending' });
    await acquireLease(db, claim(OTHER), 60_000);
    expect(await writeIntent(db, intent('flatten'), { armed: true, lease: REMOVES_RISK })).toMatchObject({ purpose: 'flatten', status: 'pending' });
    // Halted too: the kill halts first, then flattens.
    await execute(db, sql`update bot_state set halted = true where id = 1`);
    expect(await writeIntent(db, intent('flatten'), { armed: true, lease: REMOVES_RISK })).toMatchObject({ purpose: 'flatten', status: 'pending' });
  });

  it('an engine alone on its database by construction asks no lease; bot_state still decides', async () => {
    const { db } = database();
    expect(await writeIntent(db, intent(), { armed: true, lease: ALONE_BY_CONSTRUCTION })).toMatchObject({ status: 'pending' });
    await execute(db, sql`update bot_state set halted = true where id = 1`);
    await acquireLease(db, claim(ME), 60_000);
    expect(await writeIntent(db, intent(), { armed: true, lease: held(ME) })).toBeNull();
  });
});

describe('an intent and a takeover of the lease, racing on PostgreSQL', () => {
  const testDb = usePostgresTestDb({ truncate: ['order_intents', 'engine_lease', 'bot_state'] });
  beforeEach(async () => {
    await execute(testDb().db, sql`insert into bot_state (id, mode) values (1, 'live')`);
    await acquireLease(testDb().db, claim(ME), 60_000);
  });
  const settled = async (done: () => boolean) => {
    for (let i = 0; i < 200 && !done(); i++) await new Promise((r) => setTimeout(r, 10));
  };

  it("a takeover waits for an intent being written under the lease, then sees it pending (its start-up check resolves it)", async () => {
    const { db } = testDb();
    let takeover: Awaited<ReturnType<typeof acquireLease>> | 'not yet' = 'not yet';
    let written: Awaited<ReturnType<typeof writeIntent>> = null;
    await db.transaction(async (tx) => {
      written = await writeIntent(tx, intent(), { armed: true, lease: held(ME) });
      expect(written).not.toBeNull();
      // A standby, in another connection, takes the lease over (its holder proved gone) before the intent commits.
      void acquireLease(db, claim(OTHER), 60_000, ME).then((r) => (takeover = r));
      await new Promise((r) => setTimeout(r, 300));
      expect(takeover).toBe('not yet');
    });
    await settled(() => takeover !== 'not yet');
    expect(takeover).toMatchObject({ acquired: true, takenOverFrom: ME });
    expect((await unresolvedIntents(db)).map((i) => i.clientOrderId)).toEqual([written!.clientOrderId]);
  });

  it('an intent written while a takeover is being committed waits for the commit, then is refused', async () => {
    const { db } = testDb();
    let written: Awaited<ReturnType<typeof writeIntent>> | 'not yet' = 'not yet';
    await db.transaction(async (tx) => {
      expect(await acquireLease(tx, claim(OTHER), 60_000, ME)).toMatchObject({ acquired: true });
      // The engine, in another connection, writes an intent before the takeover commits.
      void writeIntent(db, intent(), { armed: true, lease: held(ME) }).then((r) => (written = r));
      await new Promise((r) => setTimeout(r, 300));
      expect(written).toBe('not yet');
    });
    await settled(() => written !== 'not yet');
    expect(written).toBeNull();
    expect(await unresolvedIntents(db)).toEqual([]);
  });
});
