// Owns the kraken_rate_counter rows: when Kraken last refused a process a call for the API key's
// rate limit. Written only on such a refusal (never on an ordinary call), read where a kill, a halt
// cancel or a follow-up decides its pace. Every time here is the database's (now()): the processes
// using the key run on clocks of their own, which may be skewed, and a refusal's age must decay the
// same for all of them. A writer says only how long ago, on its own clock, Kraken refused it (an
// interval, which skew does not touch); a reader gets the age on the database's clock.
import { and, desc, eq, lt, sql } from 'drizzle-orm';
import type { Db } from '../client.js';
import { krakenRateCounter } from '../schema/index.js';

/** A refusal as a process writes it. */
export interface RateLimitRefusal {
  keyId: string;
  process: string;
  /** How long before this write Kraken refused the call (measured on the writer's own clock). */
  agoMs: number;
  call: string;
}

/** A refusal as read back: its time and its age, both on the database's clock. */
export interface RecordedRefusal {
  keyId: string;
  process: string;
  at: Date;
  /**
   * now() - refused_at when it was read, in whole seconds (as milliseconds, never negative), rounded
   * down: the age is known only to within the moments its write and this read took, and an age
   * taken shorter only makes the counter look fuller — a pacing that waits a little longer, never a
   * call sent into a full counter.
   */
  ageMs: number;
  call: string;
}

/** This process's latest refusal (an older one never replaces a newer); rows a day old go. */
export async function recordRateLimitRefusal(db: Db, r: RateLimitRefusal): Promise<void> {
  const refusedAt = sql`now() - ${Math.max(0, Math.round(r.agoMs))} * interval '1 millisecond'`;
  await db.insert(krakenRateCounter).values({ keyId: r.keyId, process: r.process, refusedAt, refusedCall: r.call })
    .onConflictDoUpdate({
      target: [krakenRateCounter.keyId, krakenRateCounter.process],
      set: { refusedAt: sql`greatest(${krakenRateCounter.refusedAt}, excluded.refused_at)`, refusedCall: sql`case when excluded.refused_at >= ${krakenRateCounter.refusedAt} then excluded.refused_call else ${krakenRateCounter.refusedCall} end` },
    });
  await db.delete(krakenRateCounter).where(and(eq(krakenRateCounter.keyId, r.keyId), lt(krakenRateCounter.refusedAt, sql`now() - interval '1 day'`)));
}

/** The latest refusal any process using the key recorded, or null. */
export async function lastRateLimitRefusal(db: Db, keyId: string): Promise<RecordedRefusal | null> {
  const [row] = await db.select({
    keyId: krakenRateCounter.keyId, process: krakenRateCounter.process, at: krakenRateCounter.refusedAt, call: krakenRateCounter.refusedCall,
    ageMs: sql<number>`(greatest(0, floor(extract(epoch from (now() - ${krakenRateCounter.refusedAt})))) * 1000)::float8`,
  }).from(krakenRateCounter).where(eq(krakenRateCounter.keyId, keyId)).orderBy(desc(krakenRateCounter.refusedAt)).limit(1);
  return row ? { keyId: row.keyId, process: row.process, at: row.at, ageMs: Number(row.ageMs), call: row.call } : null;
}
