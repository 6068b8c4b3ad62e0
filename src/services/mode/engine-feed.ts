// Owns the live switch's market-feed rule: live trading needs an engine that trades on a real market
// (Kraken's public feed), never on replayed history. The running engine names its feed in its lease
// (engine_lease.feed, renewed with its heartbeat); no fresh lease means no engine whose feed can be
// vouched for, so the switch is refused then too.
import { eq } from 'drizzle-orm';
import type { AppContext } from '../../app/context.js';
import type { Db } from '../../db/client.js';
import { engineLease } from '../../db/schema/index.js';

export type FeedVerdict = { ok: true; feed: string } | { ok: false; reason: string; hint: string };

/** Whether the engine holding the lease (heartbeat within ENGINE_STALE_AFTER) trades on a real market. */
export async function engineFeedVerdict(ctx: Pick<AppContext, 'clock' | 'config'>, db: Db): Promise<FeedVerdict> {
  const [lease] = await db.select().from(engineLease).where(eq(engineLease.id, 1));
  const staleAfter = ctx.config.ENGINE_STALE_AFTER;
  if (!lease || ctx.clock.now().getTime() - lease.heartbeatAt.getTime() > staleAfter) {
    return {
      ok: false,
      reason: lease
        ? `no engine holds the lease (the last one, ${lease.host} pid ${lease.pid}, was last seen ${lease.heartbeatAt.toISOString()}), so its market feed cannot be checked`
        : 'no engine is running (none holds the lease), so its market feed cannot be checked',
      hint: 'Start the bot on the Kraken feed (ctb start --feed kraken) and request live again.',
    };
  }
  if (lease.feed !== 'kraken') {
    return {
      ok: false,
      reason: `the engine (${lease.host} pid ${lease.pid}) trades on the ${lease.feed} feed: live orders would be priced from replayed history`,
      hint: 'Restart the bot with the Kraken feed (ctb start --feed kraken, or MARKET_FEED=kraken), then request live again.',
    };
  }
  return { ok: true, feed: lease.feed };
}
