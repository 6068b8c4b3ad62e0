// Owns the kraken_rate_counter rows: when Kraken last refused a process a call for the API key's
// rate limit. Written only on such a refusal (never on an ordinary call), read where a kill, a halt
// cancel or a follow-up decides its pace.
import { and, desc, eq, lt, sql } from 'drizzle-orm';
import type { Db } from '../client.js';
import { krakenRateCounter } from '../schema/index.js';

/** Rows older than this say nothing of the counter now (a full Starter counter empties in 45 s). */
const KEPT_MS = 24 * 60 * 60 * 1000;

export interface RateLimitRefusal {
  keyId: string;
  process: string;
  at: Date;
  call: string;
}

/** This process's latest refusal (an older one never replaces a newer); rows a day old go. */
export async function recordRateLimitRefusal(db: Db, r: RateLimitRefusal): Promise<void> {
  await db.insert(krakenRateCounter).values({ keyId: r.keyId, process: r.process, refusedAt: r.at, refusedCall: r.call })
    .onConflictDoUpdate({
      target: [krakenRateCounter.keyId, krakenRateCounter.process],
      set: { refusedAt: sql`greatest(${krakenRateCounter.refusedAt}, excluded.refused_at)`, refusedCall: sql`case when excluded.refused_at >= ${krakenRateCounter.refusedAt} then excluded.refused_call else ${krakenRateCounter.refusedCall} end` },
    });
  await db.delete(krakenRateCounter).where(and(eq(krakenRateCounter.keyId, r.keyId), lt(krakenRateCounter.refusedAt, new Date(r.at.getTime() - KEPT_MS))));
}

/** The latest refusal any process using the key recorded, or null. */
export async function lastRateLimitRefusal(db: Db, keyId: string): Promise<RateLimitRefusal | null> {
  const [row] = await db.select().from(krakenRateCounter).where(eq(krakenRateCounter.keyId, keyId)).orderBy(desc(krakenRateCounter.refusedAt)).limit(1);
  return row ? { keyId: row.keyId, process: row.process, at: row.refusedAt, call: row.refusedCall } : null;
}
