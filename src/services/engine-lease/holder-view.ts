// Owns reading the engine's holder (the lease row and the database's clock) for the views in
// domain/engine-holder.ts, and what the reading shell itself would do were it to run the engine.
import type { AppContext } from '../../app/context.js';
import { holderView, type EngineHolderView } from '../../domain/engine-holder.js';
import { readLease } from '../../db/queries/engine-lease.js';

/** What the process reading the status would do itself, were it to run the engine. */
export interface ShellView {
  armed: boolean;
  hasKrakenKeys: boolean;
}

export async function readEngineHolder(ctx: Pick<AppContext, 'db' | 'config'>): Promise<EngineHolderView> {
  const { lease, dbNow } = await readLease(ctx.db);
  return holderView(lease, dbNow, ctx.config.ENGINE_LEASE_TTL);
}

export function shellView(ctx: Pick<AppContext, 'config'>): ShellView {
  return { armed: ctx.config.IS_LIVE, hasKrakenKeys: Boolean(ctx.config.KRAKEN_API_KEY && ctx.config.KRAKEN_API_SECRET) };
}
