// Queries over slack_deliveries: claim a Slack delivery once (a retry or duplicate loses the claim),
// and prune claims older than Slack's retry window.
import { lt, sql } from 'drizzle-orm';
import type { Db } from '../client.js';
import { executePrepared } from '../prepared.js';
import { slackDeliveries } from '../schema/index.js';

/**
 * True when this call took the delivery in; false when an earlier delivery with the same key did.
 * Runs for every Slack request, so it is one prepared statement (one round trip, planned once).
 */
export async function claimSlackDelivery(opts: {
  db: Db;
  key: string;
  surface: string;
  receivedAt: Date;
  retryNum?: number | undefined;
}): Promise<boolean> {
  const rows = await executePrepared<{ key: string }>(
    opts.db,
    sql`insert into slack_deliveries (key, surface, received_at, retry_num)
        values (${opts.key}, ${opts.surface}, ${opts.receivedAt.toISOString()}::timestamptz, ${opts.retryNum ?? null}::integer)
        on conflict do nothing returning key`,
  );
  return rows.length === 1;
}

export async function pruneSlackDeliveries(opts: { db: Db; olderThan: Date }): Promise<number> {
  const rows = await opts.db.delete(slackDeliveries).where(lt(slackDeliveries.receivedAt, opts.olderThan)).returning({ key: slackDeliveries.key });
  return rows.length;
}
