// Owns whose gate-policy record the live switch may judge: only the one written by the process that
// holds the engine lease now and is running. A record left by an engine that has since stopped (or
// been replaced by one that has not recorded its own yet) says nothing about the engine that would
// trade live: its limits, approvers, alert channels, log scan and release are not judged.
import type { Config } from '../../../config/env.js';
import type { Db } from '../../../db/client.js';
import { readLease } from '../../../db/queries/engine-lease.js';
import { holderView } from '../../../domain/engine-holder.js';

/**
 * Why the record of `recordedBy` (host:pid (role), as the engine writes it) is not the current lease
 * holder's, in words that follow "recorded by …, but"; null when it is.
 */
export async function notTheHoldersRecord(ctx: { db: Db; config: Pick<Config, 'ENGINE_LEASE_TTL'> }, recordedBy: string, what: string): Promise<string | null> {
  const { lease, dbNow } = await readLease(ctx.db);
  const holder = holderView(lease, dbNow, ctx.config.ENGINE_LEASE_TTL);
  const holderName = holder.state === 'none' ? null : `${holder.host}:${holder.pid} (${holder.role})`;
  if (holder.state !== 'running') {
    const now = holder.state === 'none' ? 'no engine holds the engine lease now' : `the engine lease of ${holderName} is stale since ${holder.staleSince}`;
    return `${now}: the engine is not running`;
  }
  if (holderName !== recordedBy) return `the engine lease is held by ${holderName}, which has not recorded its ${what}`;
  return null;
}
