// Queries over slack_deliveries: claim a Slack delivery once (a retry or duplicate loses the claim),
// claims issued together written in one statement, and prune claims older than Slack's retry window.
import { lt, sql } from 'drizzle-orm';
import type { Db } from '../client.js';
import { perDatabase } from '../coalesce.js';
import { executePrepared } from '../prepared.js';
import { slackDeliveries } from '../schema/index.js';

interface Claim {
  key: string;
  surface: string;
  receivedAt: Date;
  retryNum?: number | undefined;
}

/**
 * The statement behind claimSlackDelivery: claims in order, a key given twice taken by its first
 * claim only. Several claims go as text arrays cast in SQL: postgres.js types an array by its first
 * element, and drizzle passes timestamp arrays to it unserialized.
 */
export async function writeClaims(db: Db, claims: Claim[]): Promise<boolean[]> {
  if (claims.length === 1) {
    const c = claims[0]!;
    const rows = await executePrepared<{ key: string }>(
      db,
      sql`insert into slack_deliveries (key, surface, received_at, retry_num)
          values (${c.key}, ${c.surface}, ${c.receivedAt.toISOString()}::timestamptz, ${c.retryNum ?? null}::integer)
          on conflict do nothing returning key`,
    );
    return [rows.length === 1];
  }
  const rows = await executePrepared<{ key: string }>(
    db,
    sql`insert into slack_deliveries (key, surface, received_at, retry_num)
        select * from unnest(${sql.param(claims.map((c) => c.key))}::text[], ${sql.param(claims.map((c) => c.surface))}::text[],
                             ${sql.param(claims.map((c) => c.receivedAt.toISOString()))}::text[]::timestamptz[], ${sql.param(claims.map((c) => (c.retryNum === undefined ? null : String(c.retryNum))))}::text[]::integer[])
        on conflict do nothing returning key`,
  );
  const taken = new Set(rows.map((r) => r.key));
  return claims.map((c) => taken.delete(c.key));
}

const claim = perDatabase(writeClaims);

/**
 * True when this call took the delivery in; false when an earlier delivery with the same key did.
 * Runs for every Slack request: one prepared statement, shared by the claims issued together
 * (src/db/coalesce.ts), so a burst costs one round trip and one commit, not one each.
 */
export function claimSlackDelivery(opts: { db: Db } & Claim): Promise<boolean> {
  const { db, ...c } = opts;
  return claim(db, c);
}

export async function pruneSlackDeliveries(opts: { db: Db; olderThan: Date }): Promise<number> {
  const rows = await opts.db.delete(slackDeliveries).where(lt(slackDeliveries.receivedAt, opts.olderThan)).returning({ key: slackDeliveries.key });
  return rows.length;
}
