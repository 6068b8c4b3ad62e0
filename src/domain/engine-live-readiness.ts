// Owns whether the engine that holds the lease could trade live were bot_state to say so: a running
// holder (a stale one's feed and arming vouch for nothing now), armed (IS_LIVE=true in its own
// process: an unarmed one keeps trading paper, and an approval it never acted on would turn LIVE at
// its next armed restart with no new sign-off), on a real market (Kraken's public feed, never replayed
// history). One reading of the lease judges all three: the live switch, the live request, and the
// status views that say what blocks going live. Pure over the lease's view.
import type { EngineHolderView } from './engine-holder.js';

/** Why the engine could not trade live, as the refusal's AppError code: its feed (or no engine to vouch for it), or its arming. */
export type EngineRefusalCode = 'live_needs_market_feed' | 'engine_not_armed';

export type EngineLiveVerdict = { ok: true; feed: string } | { ok: false; code: EngineRefusalCode; reason: string; hint: string };

const START_ON_KRAKEN = 'Start the bot on the Kraken feed (ctb start --feed kraken, or MARKET_FEED=kraken), then request live again.';

/**
 * A stale lease: which engine, since when, and what to do — find out whether it lives (a hung holder
 * that wakes renews its lease and trades again), stop it if it hangs, and start an engine on the
 * Kraken feed, which takes the stale lease over.
 */
function staleVerdict(h: EngineHolderView): EngineLiveVerdict & { ok: false } {
  const who = `${h.host} pid ${h.pid}`;
  return {
    ok: false,
    code: 'live_needs_market_feed',
    reason: `no engine holds the lease (the last one, ${who}, stopped renewing it at ${h.heartbeatAt}; stale since ${h.staleSince}: ${h.role}, feed ${h.feed}, `
      + `${h.armed ? 'armed' : 'not armed'} — it died or hung), so its market feed cannot be checked`,
    hint: `Find out whether ${who} is alive (on ${h.host}: ps -p ${h.pid}; \`ctb mode status\` shows the lease). If it hangs, stop it (kill ${h.pid} on ${h.host}): `
      + `a hung engine that wakes renews its lease and trades again. Then start an engine on the Kraken feed (ctb start --feed kraken, or the Procfile worker with MARKET_FEED=kraken): `
      + 'it takes the stale lease over. Then request live again.',
  };
}

/**
 * A running engine without IS_LIVE: the switch would flip bot_state to live while it keeps trading
 * paper, and leave an approval standing that its next armed restart would act on, unsigned anew.
 */
function unarmedVerdict(h: EngineHolderView): EngineLiveVerdict & { ok: false } {
  const onKraken = h.feed === 'kraken' ? '' : ' on the Kraken feed (MARKET_FEED=kraken; it trades on the ' + `${h.feed} feed now)`;
  return {
    ok: false,
    code: 'engine_not_armed',
    reason: `the engine (${h.host} pid ${h.pid}, ${h.role}) is not armed (IS_LIVE is not true in its process): it would keep trading paper, `
      + 'and its next armed restart would trade LIVE on an approval given now, without a new sign-off',
    hint: `Restart the ${h.role ?? 'engine'} on ${h.host} (pid ${h.pid}) with IS_LIVE=true and a Trade-only Kraken key (KRAKEN_API_KEY, KRAKEN_API_SECRET)${onKraken}, `
      + 'then request live again.',
  };
}

/** Whether the lease's holder (renewed within ENGINE_LEASE_TTL) could trade live: running, armed, on Kraken's feed. */
export function engineLiveVerdict(holder: EngineHolderView): EngineLiveVerdict {
  if (holder.state === 'none') {
    return { ok: false, code: 'live_needs_market_feed', reason: 'no engine is running (none holds the lease), so its market feed cannot be checked', hint: START_ON_KRAKEN };
  }
  if (holder.state === 'stale') return staleVerdict(holder);
  if (!holder.armed) return unarmedVerdict(holder);
  if (holder.feed !== 'kraken') {
    return {
      ok: false,
      code: 'live_needs_market_feed',
      reason: `the engine (${holder.host} pid ${holder.pid}) trades on the ${holder.feed} feed: live orders would be priced from replayed history`,
      hint: 'Restart the bot with the Kraken feed (ctb start --feed kraken, or MARKET_FEED=kraken), then request live again.',
    };
  }
  return { ok: true, feed: holder.feed };
}
