// Queries over slack_deliveries: claim a Slack delivery once (a retry or duplicate loses the claim),
// claims issued together written in one statement with the command-trail rows issued with them
// (shared-writes.ts), and prune claims older than Slack's retry window. A claim for a status
// command reads the status rows in the same statement (mode-status.ts): that command's only read,
// made as its claim commits, instead of a second round trip right after it.
import { lt } from 'drizzle-orm';
import type { Db } from '../client.js';
import { slackDeliveries } from '../schema/index.js';
import { claimDelivery, type Claim, type ClaimOutcome } from './shared-writes.js';

export type { ClaimOutcome } from './shared-writes.js';

/**
 * True when this call took the delivery in; false when an earlier delivery with the same key did.
 * Runs for every Slack request: one prepared statement, shared by the claims and trail rows issued
 * together (shared-writes.ts), so a burst costs one round trip and one commit, not one each.
 */
export async function claimSlackDelivery(opts: { db: Db } & Claim): Promise<boolean> {
  const { db, ...c } = opts;
  return (await claimDelivery(db, c)).taken;
}

/**
 * claimSlackDelivery for a status command: the status rows are read in the claim's statement (with
 * the claims issued together), after the request arrived and as its claim commits — the read the
 * command would make next, not a copy kept from earlier.
 */
export function claimSlackDeliveryReadingStatus(opts: { db: Db } & Claim): Promise<ClaimOutcome> {
  const { db, ...c } = opts;
  return claimDelivery(db, { ...c, readStatus: true });
}

export async function pruneSlackDeliveries(opts: { db: Db; olderThan: Date }): Promise<number> {
  const rows = await opts.db.delete(slackDeliveries).where(lt(slackDeliveries.receivedAt, opts.olderThan)).returning({ key: slackDeliveries.key });
  return rows.length;
}
