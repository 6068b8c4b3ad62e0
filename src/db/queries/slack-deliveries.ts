// Queries over slack_deliveries: claim a Slack delivery once (a retry or duplicate loses the claim),
// and prune claims older than Slack's retry window.
import { lt } from 'drizzle-orm';
import type { Db } from '../client.js';
import { slackDeliveries } from '../schema/index.js';

/** True when this call took the delivery in; false when an earlier delivery with the same key did. */
export async function claimSlackDelivery(opts: {
  db: Db;
  key: string;
  surface: string;
  receivedAt: Date;
  retryNum?: number | undefined;
}): Promise<boolean> {
  const rows = await opts.db
    .insert(slackDeliveries)
    .values({ key: opts.key, surface: opts.surface, receivedAt: opts.receivedAt, retryNum: opts.retryNum ?? null })
    .onConflictDoNothing()
    .returning({ key: slackDeliveries.key });
  return rows.length === 1;
}

export async function pruneSlackDeliveries(opts: { db: Db; olderThan: Date }): Promise<number> {
  const rows = await opts.db.delete(slackDeliveries).where(lt(slackDeliveries.receivedAt, opts.olderThan)).returning({ key: slackDeliveries.key });
  return rows.length;
}
