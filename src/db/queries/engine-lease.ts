// Owns the engine_lease row (one engine per database): taken when the row is empty or stale, renewed
// only by its holder (`where holder_id = me`), deleted on a graceful release. Every time is the
// database's now(), so processes on hosts with different clocks agree on what is stale. It is a row,
// not a session lock: it holds whatever the connection layout (pools, poolers, PGlite's socket).
import { sql } from 'drizzle-orm';
import { execute, type Db } from '../client.js';
import type { EngineLease } from '../schema/index.js';

export interface LeaseClaim {
  holderId: string;
  host: string;
  pid: number;
  /** Where the pid means something, tied to the holder id (holder-gone.ts); unset or null where it cannot be told. */
  bootId?: string | null | undefined;
  role: string;
  feed: string;
  armed: boolean;
  hasKrakenKeys: boolean;
  /**
   * What the row says the engine waits on once this claim takes it from another holder (or an empty
   * row), until the engine writes its first step: never null there, which readers take for "trading".
   * Unset: null (a claim that runs no engine).
   */
  waitingOnTake?: string | null;
  /** The claimant's ENGINE_LEASE_TTL (ms), written with each renewal; unset: the row keeps what the take wrote. */
  ttlMs?: number;
}

export interface AcquireResult {
  acquired: boolean;
  /** The row as it stands after the attempt: ours when acquired, else the other holder's. */
  lease: EngineLease | null;
  /** The holder whose stale lease this one took over, or null (the row was empty or released). */
  takenOverFrom: string | null;
}

const date = (v: unknown): Date => (v instanceof Date ? v : new Date(String(v)));

function toLease(r: Record<string, unknown>): EngineLease {
  return {
    id: Number(r.id), holderId: String(r.holder_id), host: String(r.host), pid: Number(r.pid), bootId: r.boot_id === null || r.boot_id === undefined ? null : String(r.boot_id), role: String(r.role), feed: String(r.feed),
    armed: r.armed === true || r.armed === 't', hasKrakenKeys: r.has_kraken_keys === true || r.has_kraken_keys === 't',
    acquiredAt: date(r.acquired_at), heartbeatAt: date(r.heartbeat_at), takenOverFrom: r.taken_over_from === null || r.taken_over_from === undefined ? null : String(r.taken_over_from),
    waiting: r.waiting === null || r.waiting === undefined ? null : String(r.waiting),
    waitingKind: r.waiting_kind === 'gate' || r.waiting_kind === 'step' ? r.waiting_kind : null,
    waitingStateVersion: r.waiting_state_version === null || r.waiting_state_version === undefined ? null : Number(r.waiting_state_version),
    ttlMs: r.ttl_ms === null || r.ttl_ms === undefined ? null : Number(r.ttl_ms),
  };
}

/**
 * Takes the lease for `me` when nobody holds it, when it is already `me`'s, when its holder is
 * `goneHolder` (one the caller proved dead: holder-gone.ts) and still holds it, or when the holder's
 * heartbeat is older than the longer of the holder's own TTL (its row's ttl_ms) and `ttlMs`, this
 * claim's. The longer: a standby with a shorter TTL leaves a healthy holder with a longer one alone,
 * and a ttl_ms that is not its holder's cannot shorten the wait either (a binary from before migration
 * 0044 takes the row over and renews it without writing ttl_ms, so the previous holder's stays; a row
 * without one is judged by the claim's TTL alone, as before that migration). One statement: two
 * processes racing for a stale lease cannot both win. A keyed or armed claim is first recorded in
 * bot_state (recordKeySeen): a record that fails throws here, and nothing is taken.
 */
export async function acquireLease(db: Db, me: LeaseClaim, ttlMs: number, goneHolder: string | null = null): Promise<AcquireResult> {
  if (me.armed || me.hasKrakenKeys) await recordKeySeen(db, me.host);
  const rows = await execute(db, sql`
    insert into engine_lease as l (id, holder_id, host, pid, boot_id, role, feed, armed, has_kraken_keys, acquired_at, heartbeat_at, taken_over_from, waiting,
      waiting_kind, waiting_state_version, ttl_ms)
    values (1, ${me.holderId}, ${me.host}, ${me.pid}, ${me.bootId ?? null}, ${me.role}, ${me.feed}, ${me.armed}, ${me.hasKrakenKeys}, now(), now(), null,
      ${me.waitingOnTake ?? null}, ${me.waitingOnTake ? 'step' : null}, null, ${ttlMs})
    on conflict (id) do update set holder_id = excluded.holder_id, host = excluded.host, pid = excluded.pid, boot_id = excluded.boot_id, role = excluded.role,
      feed = excluded.feed, armed = excluded.armed, has_kraken_keys = excluded.has_kraken_keys, heartbeat_at = now(), ttl_ms = excluded.ttl_ms,
      acquired_at = case when l.holder_id = excluded.holder_id then l.acquired_at else now() end,
      taken_over_from = case when l.holder_id = excluded.holder_id then l.taken_over_from else l.holder_id end,
      waiting = case when l.holder_id = excluded.holder_id then l.waiting else excluded.waiting end,
      waiting_kind = case when l.holder_id = excluded.holder_id then l.waiting_kind else excluded.waiting_kind end,
      waiting_state_version = case when l.holder_id = excluded.holder_id then l.waiting_state_version else excluded.waiting_state_version end
    where l.holder_id = excluded.holder_id or l.heartbeat_at < now() - greatest(coalesce(l.ttl_ms, 0), ${ttlMs}::int) * interval '1 millisecond'
      or l.holder_id = ${goneHolder}
    returning l.*`);
  if (rows[0]) {
    const lease = toLease(rows[0]);
    return { acquired: true, lease, takenOverFrom: lease.takenOverFrom };
  }
  return { acquired: false, lease: (await readLease(db)).lease, takenOverFrom: null };
}

/** How long a record of this host stands before a claim from it writes it again (recordKeySeen). */
export const KEY_SEEN_REWRITE_MS = 10 * 60_000;

/**
 * Keeps in bot_state that a keyed or armed process sought the engine lease (kraken-use-ever.ts): the
 * lease row goes at a clean stop, this record does not. Its own statement, run BEFORE the take:
 * - Lock order. It locks bot_state's row alone and commits before the take locks engine_lease's, so
 *   the take never holds one while it waits for the other. The order-intent statement
 *   (ledger-intents.ts intentAllowedCte) and the live switch (lockBotState, then readLeaseHeld) lock
 *   bot_state, then engine_lease; the unarmed withdrawal (withdraw-unarmed-live.ts) locks engine_lease
 *   FOR SHARE, then bot_state. One transaction of record then take would deadlock with the last; take
 *   then record, with the first two. Two statements wait for each of them in turn and close no cycle.
 * - A failed record means no take: acquireLease throws before it, so no keyed engine ever holds the
 *   lease unrecorded, and a record that keeps failing leaves the lease to a standby (taken after a
 *   take, a failing record left the row re-taken and fresh, its engine never started).
 * - A process that dies between the two leaves the record. It is true: a keyed process ran here and
 *   sought the lease, which is all the record says ("seen seeking the engine lease").
 * - Conditional: rewritten only when it names another host, or this host more than
 *   KEY_SEEN_REWRITE_MS ago. A keyed standby polls every third of the TTL; an UPDATE whose WHERE
 *   excludes the row neither writes nor locks it, so those polls leave bot_state alone. Hence its time
 *   is when this host was seen seeking the lease, at most that long before its latest take.
 * Without the row (a new database), it inserts it; the insert runs only then.
 */
async function recordKeySeen(db: Db, host: string): Promise<void> {
  await execute(db, sql`
    with seen as (
      update bot_state set kraken_key_seen_at = now(), kraken_key_seen_host = ${host}
      where id = 1 and (kraken_key_seen_host is distinct from ${host} or kraken_key_seen_at is null
        or kraken_key_seen_at < now() - ${KEY_SEEN_REWRITE_MS}::int * interval '1 millisecond'))
    insert into bot_state (id, kraken_key_seen_at, kraken_key_seen_host)
    select 1, now(), ${host} where not exists (select 1 from bot_state where id = 1)
    on conflict (id) do update set kraken_key_seen_at = excluded.kraken_key_seen_at, kraken_key_seen_host = excluded.kraken_key_seen_host`);
}

/** Renews `holderId`'s lease (and what it says about itself). False: the lease is no longer its own. */
export async function renewLease(db: Db, me: LeaseClaim): Promise<boolean> {
  const rows = await execute(db, sql`
    update engine_lease set heartbeat_at = now(), armed = ${me.armed}, has_kraken_keys = ${me.hasKrakenKeys}, feed = ${me.feed},
      ttl_ms = coalesce(${me.ttlMs ?? null}::int, ttl_ms)
    where id = 1 and holder_id = ${me.holderId} returning id`);
  return rows.length > 0;
}

/**
 * What an engine waits on: a step of its start, or its gate's reason given on bot_state's `stateVersion`
 * (true of that version only).
 */
/** A gate's `why` null: open (or halted, which bot_state says) on bot_state at `stateVersion`, and on no later one. */
export type LeaseWaiting = { kind: 'step'; why: string } | { kind: 'gate'; why: string | null; stateVersion: number };

/**
 * What `holderId`'s engine waits on before it trades (null: it trades); nothing when the lease is no
 * longer its own. False then.
 */
export async function writeLeaseWaiting(db: Db, holderId: string, waiting: LeaseWaiting | null): Promise<boolean> {
  const version = waiting?.kind === 'gate' ? waiting.stateVersion : null;
  const rows = await execute(db, sql`update engine_lease set waiting = ${waiting?.why ?? null}, waiting_kind = ${waiting?.kind ?? null},
    waiting_state_version = ${version} where id = 1 and holder_id = ${holderId} returning id`);
  return rows.length > 0;
}

/** Gives the lease up (graceful stop): the next engine starts clean, without a takeover. */
export async function releaseLease(db: Db, holderId: string): Promise<boolean> {
  const rows = await execute(db, sql`delete from engine_lease where id = 1 and holder_id = ${holderId} returning id`);
  return rows.length > 0;
}

/** The lease row (or null) with the database's clock, so ages are measured on one clock. */
export async function readLease(db: Db): Promise<{ lease: EngineLease | null; dbNow: Date }> {
  const rows = await execute(db, sql`select now() as db_now, l.* from (select 1) as one left join engine_lease l on l.id = 1`);
  const row = rows[0] ?? {};
  return { lease: row.holder_id === null || row.holder_id === undefined ? null : toLease(row), dbNow: date(row.db_now) };
}

/**
 * readLease for a verdict a transaction commits on (the live switch): the row is held FOR SHARE until
 * that commit, so a renewal, takeover or release waits for it (a few ms) instead of landing between the
 * verdict and the commit; and its age is measured on clock_timestamp(), read after the lock, not on
 * now() — the transaction's start, which may be long past after waiting on bot_state's row lock.
 * No row: nothing to hold, and no engine is a verdict that refuses.
 */
export async function readLeaseHeld(db: Db): Promise<{ lease: EngineLease | null; dbNow: Date }> {
  const held = await execute(db, sql`select * from engine_lease where id = 1 for share`);
  const [clock] = await execute(db, sql`select clock_timestamp() as db_now`);
  return { lease: held[0] ? toLease(held[0]) : null, dbNow: date(clock?.db_now) };
}

/**
 * Whether `holderId` holds the lease row now, held FOR SHARE until the caller's transaction commits: a
 * decision only the holder may make (the live withdrawal) commits while it is still the holder — a
 * takeover waits for it. Its freshness is not judged here: the keeper's fence does that.
 */
export async function holdsLeaseRow(db: Db, holderId: string): Promise<boolean> {
  const rows = await execute(db, sql`select id from engine_lease where id = 1 and holder_id = ${holderId} for share`);
  return rows.length > 0;
}
