// A Kraken stand-in whose BTC/USD market moves only when a test plays it: the product's simulator
// (src/simulator) on the round-trip replay (a moving-average cross up, then down, every 38 candles:
// the test strategy of tests/support/trading-replay.ts buys and sells on it), one key pair, no pace.
// `play` closes candles and waits until the bot's market feed has asked OHLC again after handing the
// engine the batch that held them — so a test knows the engine saw those candles (and would have
// traded on them) instead of hoping that a pause on the wall clock was long enough.
import type { SimOrder, SimTrade } from '../../src/simulator/types.js';
import { KrakenSimulator } from '../../src/simulator/simulator.js';
import type { RecordedCall } from '../../src/simulator/types.js';
import { waitUntil } from './bot-process.js';
import { candlesFrom, roundTripCloses } from './engine.js';
import { TEST_API_KEY, TEST_API_SECRET } from './kraken-test-keys.js';

/** Candles of one round trip of the replay. */
export const ROUND_TRIP_CANDLES = roundTripCloses().length;

export interface SteppedKraken {
  sim: KrakenSimulator;
  url: string;
  callsTo(endpoint: string): RecordedCall[];
  addOrders(): number;
  /**
   * Closes `candles` candles, `perPoll` at a time, each batch seen by the bot's feed (it asked OHLC
   * twice since: the first answer held the batch, the second comes only after the engine handled it).
   * Stops early once `until` holds. Fails, naming what it waited for, when the feed stops asking.
   */
  play(candles: number, opts?: { perPoll?: number; until?: () => boolean; timeoutMs?: number }): Promise<void>;
  close(): Promise<void>;
}

export async function startSteppedKraken(opts: { orders?: SimOrder[]; trades?: SimTrade[]; balances?: Record<string, string> } = {}): Promise<SteppedKraken> {
  const closes: number[] = [];
  for (let i = 0; i < 40; i++) closes.push(...roundTripCloses());
  const sim = await KrakenSimulator.start({
    apiKey: TEST_API_KEY, secret: TEST_API_SECRET, replay: candlesFrom(closes), pace: 0, loop: true, rateLimits: false,
    // The history a feed warms up on (never traded): a whole round trip, so the averages are formed.
    historyCandles: ROUND_TRIP_CANDLES,
    ...(opts.orders ? { orders: opts.orders } : {}), ...(opts.trades ? { trades: opts.trades } : {}), ...(opts.balances ? { balances: opts.balances } : {}),
  });
  const callsTo = (endpoint: string) => sim.calls.filter((c) => c.endpoint === endpoint);
  return {
    sim, url: sim.url, callsTo,
    addOrders: () => callsTo('AddOrder').length,
    async play(candles, { perPoll = 4, until, timeoutMs = 60_000 } = {}) {
      for (let played = 0; played < candles && !until?.();) {
        const n = Math.min(perPoll, candles - played);
        sim.advance(n);
        played += n;
        const asked = callsTo('OHLC').length;
        // Checked every 10 ms, not waitUntil's 100: a count of calls already received costs nothing to
        // read, and with the feed polling every 100 ms the coarser check was up to a third of each batch's time.
        await waitUntil(() => callsTo('OHLC').length >= asked + 2, timeoutMs,
          () => `for the bot's market feed to ask OHLC twice after candle ${played} of ${candles} closed (it asked ${callsTo('OHLC').length - asked} time(s))`, 10);
      }
    },
    close: () => sim.close(),
  };
}
