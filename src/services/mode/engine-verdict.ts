// Owns reading the engine's live verdict (domain/engine-live-readiness.ts): the lease row and the
// database's clock, read once through `db` — inside the switch's transaction, the one the flip commits in.
import type { Config } from '../../config/env.js';
import type { Db } from '../../db/client.js';
import { engineLiveVerdict, type EngineLiveVerdict } from '../../domain/engine-live-readiness.js';
import { readEngineHolder } from '../engine-lease/holder-view.js';

/** Whether the engine holding the lease could trade live: running, armed, on a real market. */
export async function readEngineVerdict(ctx: { config: Pick<Config, 'ENGINE_LEASE_TTL'> }, db: Db): Promise<EngineLiveVerdict> {
  return engineLiveVerdict(await readEngineHolder({ db, config: ctx.config }));
}
