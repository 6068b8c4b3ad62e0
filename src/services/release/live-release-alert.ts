// Owns the page when an engine takes the lease of a database that is live and armed while it runs no
// tagged release built from a clean tree: the live switch checked the release once, at the switch, and
// an engine restarted later on another build (an untagged checkout, a dirty rebuild) trades live with
// nothing else looking. It pages and does not stop trading: refusing orders here would also refuse the
// exits that protect open positions, and the kill switch (cancels, halt) stays the operator's choice.
import type { AlertInput } from '../../alerts/types.js';
import type { Config } from '../../config/env.js';
import type { Db } from '../../db/client.js';
import type { Logger } from '../../logger.js';
import { getBotState } from '../bot-state.js';
import { describeRelease, type ReleaseInfo } from './version.js';

export const LIVE_RELEASE_UNTAGGED = 'engine_live_release_untagged';

export interface LiveReleaseAlertDeps {
  db: Db;
  config: Pick<Config, 'IS_LIVE'>;
  logger: Logger;
  alerts: { raise(alert: AlertInput): Promise<unknown> };
}

/** Pages (critical) when the database is live, this engine is armed and `release` is no tagged clean build; true when it paged. */
export async function alertUntaggedLiveRelease(ctx: LiveReleaseAlertDeps, release: ReleaseInfo, by: string): Promise<boolean> {
  if (release.tagged || !ctx.config.IS_LIVE) return false;
  const state = await getBotState(ctx.db);
  if (state.mode !== 'live') return false;
  const running = describeRelease(release);
  ctx.logger.error({ release: running, by }, 'the engine trades live on a build that is no tagged release built from a clean tree');
  await ctx.alerts.raise({
    source: 'engine', severity: 'critical', fingerprint: LIVE_RELEASE_UNTAGGED,
    title: `The engine (${by}) took over live trading on ${running}: not a tagged release built from a clean tree`,
    details: {
      by, release: running,
      fix: 'Restart the engine (ctb start) on the tagged release the live switch approved (`ctb version` prints its tag), or stop trading with `ctb kill`.',
    },
  });
  return true;
}
