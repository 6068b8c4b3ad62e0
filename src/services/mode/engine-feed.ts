// Owns the live switch's market-feed rule: live trading needs an engine that trades on a real market
// (Kraken's public feed), never on replayed history. The running engine names its feed in its lease
// (engine_lease.feed, renewed with its heartbeat; read on the database's clock); no running holder
// means no engine whose feed can be vouched for, so the switch is refused then too.
import type { Config } from '../../config/env.js';
import type { Db } from '../../db/client.js';
import type { EngineHolderView } from '../../domain/engine-holder.js';
import { readEngineHolder } from '../engine-lease/holder-view.js';

export type FeedVerdict = { ok: true; feed: string } | { ok: false; reason: string; hint: string };

const START_ON_KRAKEN = 'Start the bot on the Kraken feed (ctb start --feed kraken, or MARKET_FEED=kraken), then request live again.';

/**
 * A stale lease: which engine, since when, and what to do — find out whether it lives (a hung holder
 * that wakes renews its lease and trades again), stop it if it hangs, and start an engine on the
 * Kraken feed, which takes the stale lease over.
 */
function staleVerdict(h: EngineHolderView): FeedVerdict & { ok: false } {
  const who = `${h.host} pid ${h.pid}`;
  return {
    ok: false,
    reason: `no engine holds the lease (the last one, ${who}, stopped renewing it at ${h.heartbeatAt}; stale since ${h.staleSince}: ${h.role}, feed ${h.feed}, `
      + `${h.armed ? 'armed' : 'not armed'} — it died or hung), so its market feed cannot be checked`,
    hint: `Find out whether ${who} is alive (on ${h.host}: ps -p ${h.pid}; \`ctb mode status\` shows the lease). If it hangs, stop it (kill ${h.pid} on ${h.host}): `
      + `a hung engine that wakes renews its lease and trades again. Then start an engine on the Kraken feed (ctb start --feed kraken, or the Procfile worker with MARKET_FEED=kraken): `
      + 'it takes the stale lease over. Then request live again.',
  };
}

/** Whether the engine holding the lease (renewed within ENGINE_LEASE_TTL) trades on a real market. */
export async function engineFeedVerdict(ctx: { config: Config }, db: Db): Promise<FeedVerdict> {
  const holder = await readEngineHolder({ db, config: ctx.config });
  if (holder.state === 'none') {
    return { ok: false, reason: 'no engine is running (none holds the lease), so its market feed cannot be checked', hint: START_ON_KRAKEN };
  }
  if (holder.state === 'stale') return staleVerdict(holder);
  if (holder.feed !== 'kraken') {
    return {
      ok: false,
      reason: `the engine (${holder.host} pid ${holder.pid}) trades on the ${holder.feed} feed: live orders would be priced from replayed history`,
      hint: 'Restart the bot with the Kraken feed (ctb start --feed kraken, or MARKET_FEED=kraken), then request live again.',
    };
  }
  return { ok: true, feed: holder.feed };
}
