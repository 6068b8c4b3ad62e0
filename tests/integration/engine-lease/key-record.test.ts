// A keyed or armed process records itself in bot_state (kraken_key_seen_at) before it takes the
// engine lease, never after: a record that fails means no take, so a keyed engine never holds the
// lease unrecorded, and an unkeyed standby takes over from a keyed process whose record keeps failing
// (it held a fresh lease and ran no engine when the take came first). The record is conditional: a
// keyed standby's polls leave bot_state's row alone while it names this host recently.
import { sql } from 'drizzle-orm';
import { afterEach, describe, expect, it } from 'vitest';
import { testConfig } from '../../../src/config/env.js';
import { execute, type Db } from '../../../src/db/client.js';
import { acquireLease, KEY_SEEN_REWRITE_MS, readLease, type LeaseClaim } from '../../../src/db/queries/engine-lease.js';
import { silentLogger } from '../../../src/logger.js';
import { createLeaseKeeper } from '../../../src/services/engine-lease/keeper.js';
import { useTestDb, type DbKind } from '../../support/db.js';
import { TEST_API_KEY, TEST_API_SECRET } from '../../support/kraken-test-keys.js';

const claim = (host: string, over: Partial<LeaseClaim> = {}): LeaseClaim => ({
  holderId: `${host}:1:00000000`, host, pid: 1, role: 'worker', feed: 'kraken', armed: false, hasKrakenKeys: true, ...over,
});

/** bot_state's key record and the row version's transaction id (xmin): a write changes it, a skipped one does not. */
async function keyRecord(db: Db): Promise<{ host: string | null; at: string | null; xmin: string }> {
  const [r] = await execute<{ host: string | null; at: string | null; xmin: string }>(db, sql`
    select kraken_key_seen_host as host, kraken_key_seen_at::text as at, xmin::text as xmin from bot_state where id = 1`);
  return r!;
}

/** A trigger that refuses every write of bot_state's key record: the record's statement fails. */
async function refuseKeyRecord(db: Db): Promise<void> {
  await execute(db, sql`create or replace function refuse_key_record() returns trigger language plpgsql as $$
    begin raise exception 'key record refused (test)'; end $$`);
  await execute(db, sql`create trigger refuse_key_record before insert or update of kraken_key_seen_at on bot_state
    for each row execute function refuse_key_record()`);
}

describe.each<DbKind>(['postgres', 'pglite'])('the key record before the engine lease take on %s', (kind) => {
  const database = useTestDb(kind, { truncate: ['engine_lease', 'bot_state'] });
  afterEach(async () => {
    await execute(database().db, sql`drop trigger if exists refuse_key_record on bot_state`);
  });

  it('a keyed keeper whose record fails holds no lease, and an unkeyed standby takes it', async () => {
    const { db } = database();
    await execute(db, sql`insert into bot_state (id) values (1)`);
    await refuseKeyRecord(db);
    const ctx = (keys: boolean) => ({
      db, logger: silentLogger(),
      config: testConfig({ ENGINE_LEASE_TTL: '60s', ...(keys ? { KRAKEN_API_KEY: TEST_API_KEY, KRAKEN_API_SECRET: TEST_API_SECRET } : {}) }),
    });
    const keyed = createLeaseKeeper(ctx(true), { role: 'worker', feed: 'kraken', standbyPollMs: 50 });
    const unkeyed = createLeaseKeeper(ctx(false), { role: 'worker', feed: 'kraken', standbyPollMs: 50 });
    const stop = new AbortController();
    try {
      const keyedTrying = keyed.acquire(stop.signal);
      await keyed.tried;
      expect(keyed.holdsLease()).toBe(false);
      // A 60 s lease: had the keyed take committed, the unkeyed keeper would stand by behind it.
      const lease = (await readLease(db)).lease;
      expect(lease?.holderId ?? null).toBeNull();
      const unkeyedTrying = unkeyed.acquire(stop.signal);
      await unkeyed.tried;
      expect(unkeyed.standing()).toEqual({ kind: 'engine' });
      await expect(unkeyedTrying).resolves.toMatchObject({ lease: { holderId: unkeyed.holderId, hasKrakenKeys: false } });
      expect(keyed.holdsLease()).toBe(false);
      stop.abort();
      await expect(keyedTrying).resolves.toBeNull();
    } finally {
      stop.abort();
      await unkeyed.release();
      await keyed.release();
    }
    expect((await keyRecord(db)).host).toBeNull();
  });

  it('a failed record throws from the take and takes nothing', async () => {
    const { db } = database();
    await refuseKeyRecord(db);
    await expect(acquireLease(db, claim('vm-keyed'), 60_000)).rejects.toThrow();
    expect((await readLease(db)).lease).toBeNull();
    // Unkeyed and unarmed: no record, so the same refusal does not touch its take.
    await expect(acquireLease(db, claim('vm-plain', { hasKrakenKeys: false }), 60_000)).resolves.toMatchObject({ acquired: true });
  });

  it('a keyed standby polling behind a fresh holder leaves bot_state alone while the record names its host recently', async () => {
    const { db } = database();
    expect((await acquireLease(db, claim('vm-engine'), 60_000)).acquired).toBe(true);
    const taken = await keyRecord(db);
    expect(taken.host).toBe('vm-engine');
    // Another host's record is rewritten once; then that host's polls find it recent and write nothing.
    expect((await acquireLease(db, claim('vm-standby'), 60_000)).acquired).toBe(false);
    const first = await keyRecord(db);
    expect(first.host).toBe('vm-standby');
    expect((await acquireLease(db, claim('vm-standby'), 60_000)).acquired).toBe(false);
    expect((await acquireLease(db, claim('vm-standby'), 60_000)).acquired).toBe(false);
    expect(await keyRecord(db)).toEqual(first);
    // Older than KEY_SEEN_REWRITE_MS: written again.
    await execute(db, sql`update bot_state set kraken_key_seen_at = now() - ${KEY_SEEN_REWRITE_MS + 60_000}::int * interval '1 millisecond'`);
    await acquireLease(db, claim('vm-standby'), 60_000);
    const again = await keyRecord(db);
    expect(again.host).toBe('vm-standby');
    expect(Date.now() - new Date(again.at!).getTime()).toBeLessThan(KEY_SEEN_REWRITE_MS);
  });

  it('records a keyed take on a database without bot_state row, and an armed one without the key', async () => {
    const { db } = database();
    expect((await acquireLease(db, claim('vm-new'), 60_000)).acquired).toBe(true);
    expect((await keyRecord(db)).host).toBe('vm-new');
    await execute(db, sql`delete from engine_lease`);
    expect((await acquireLease(db, claim('vm-armed', { armed: true, hasKrakenKeys: false }), 60_000)).acquired).toBe(true);
    expect((await keyRecord(db)).host).toBe('vm-armed');
  });
});
