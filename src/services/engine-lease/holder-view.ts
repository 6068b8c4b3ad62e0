// Owns reading the engine's holder (the lease row and the database's clock) for the views in
// domain/engine-holder.ts, and what the reading shell itself would do were it to run the engine.
import type { Config } from '../../config/env.js';
import type { Db } from '../../db/client.js';
import { holderView, type EngineHolderView } from '../../domain/engine-holder.js';
import { hostname } from 'node:os';
import type { EngineLease } from '../../db/schema/index.js';
import { readLease, readLeaseHeld } from '../../db/queries/engine-lease.js';
import { holderGone, pidExists, readBootId } from './holder-gone.js';

/** What the process reading the status would do itself, were it to run the engine. */
export interface ShellView {
  armed: boolean;
  hasKrakenKeys: boolean;
}

/** Reading the holder: the lease row, and the TTL past which it is stale. */
export interface EngineHolderDeps {
  db: Db;
  config: Pick<Config, 'ENGINE_LEASE_TTL'>;
}

/** What this process would do: its own arming and keys. */
export interface ShellDeps {
  config: Pick<Config, 'IS_LIVE' | 'KRAKEN_API_KEY' | 'KRAKEN_API_SECRET'>;
}

/** `held`: inside a transaction that commits on the view — the row held until then (readLeaseHeld). */
export async function readEngineHolder(ctx: EngineHolderDeps, opts: { held?: boolean } = {}): Promise<EngineHolderView> {
  const { lease, dbNow } = await (opts.held ? readLeaseHeld : readLease)(ctx.db);
  return holderViewHere(lease, dbNow, ctx.config.ENGINE_LEASE_TTL);
}

/**
 * holderView as this process sees it: a holder that ran on this host, in this pid scope, whose pid is
 * no process now is said gone — the very proof a standby here takes the lease over on at once (keeper.ts).
 */
export function holderViewHere(lease: EngineLease | null, dbNow: Date, readerTtlMs: number, exists: (pid: number) => boolean = pidExists): EngineHolderView {
  const processGone = lease !== null && holderGone(lease, { host: hostname(), bootId: readBootId(), pid: process.pid }, exists);
  return holderView(lease, dbNow, readerTtlMs, { processGone });
}

export function shellView(ctx: ShellDeps): ShellView {
  return { armed: ctx.config.IS_LIVE, hasKrakenKeys: Boolean(ctx.config.KRAKEN_API_KEY && ctx.config.KRAKEN_API_SECRET) };
}
