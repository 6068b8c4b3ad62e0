// A rehearsal at `ctb simulate-kraken --pace 1` (a candle closed every second) must show the bot the
// candles as they close, not a poll's worth at once: the bot trades on each batch, so a batch of
// fifteen candles reads as a burst of orders, then nothing. Judged by what the feed hands over and
// what it asked the simulator (its call log), through the simulator's HTTP API and with the bot's
// Kraken pacing on, as `ctb start` runs it; no wall-clock margin beyond "most candles alone".
import { describe, expect, it } from 'vitest';
import { pollIntervalForPace } from '../../../src/cli/commands/simulate-kraken.js';
import { parseDuration } from '../../../src/config/duration.js';
import { testConfig } from '../../../src/config/env.js';
import { publicCounterOfProcess } from '../../../src/exchange/kraken/rate-limiter.js';
import { createMarketFeed, SAMPLE_REPLAY_FILE } from '../../../src/market/create-feed.js';
import { readReplayFile } from '../../../src/market/replay-file.js';
import { startSimulator } from '../../support/simulator.js';

const sample = readReplayFile(SAMPLE_REPLAY_FILE);

/** Waits, a turn of the timers at a time, until `done()`: the test's timeout bounds the wait. */
async function until(done: () => boolean): Promise<void> {
  while (!done()) await new Promise((r) => setTimeout(r, 50));
}

describe("the bot's Kraken feed against the simulator at its pace", () => {
  it('prints a poll interval of one candle, between 1s (the public allowance) and the 15s default', () => {
    expect([1, 0.5, 0.1, 0.01, 5, 0].map(pollIntervalForPace)).toEqual(['1s', '2s', '10s', '15s', '1s', '1s']);
  });

  it('at --pace 1 and the printed MARKET_POLL_INTERVAL, hands most candles over alone, in order, none twice, and asks the 24h ticker at most once a minute', async () => {
    // The rate limiter's count of public calls is one for the process (Kraken's allowance is per IP),
    // and may still hold calls an earlier file of this worker made: it falls by one a second, so within
    // 4 s it is empty, as a new `ctb start`'s is.
    await until(() => publicCounterOfProcess().level === 0);
    const sim = await startSimulator({ replay: sample, fixedPrices: {}, historyCandles: 30, pace: 1 });
    const interval = pollIntervalForPace(sim.pace);
    const config = testConfig({ KRAKEN_API_URL: sim.url, MARKET_FEED: 'kraken', MARKET_POLL_INTERVAL: interval, KRAKEN_RATE_LIMIT: 'true' });
    expect(config.MARKET_POLL_INTERVAL).toBe(parseDuration('1s'));
    const feed = await createMarketFeed(config, 'kraken');
    const signal = new AbortController().signal;
    const warmup = (await feed.next(signal))!;
    expect(warmup.length).toBeGreaterThanOrEqual(30);
    const batches: number[] = [];
    const times: number[] = [warmup.at(-1)!.candle.openTime.getTime()];
    while (times.length - 1 < 12) {
      const batch = (await feed.next(signal))!;
      if (batch.length === 0) continue;
      batches.push(batch.length);
      times.push(...batch.map((t) => t.candle.openTime.getTime()));
    }
    // Every candle once, in order: each a minute after the one before.
    expect(times.slice(1).map((t, i) => t - times[i]!)).toEqual(times.slice(1).map(() => 60_000));
    const handed = batches.reduce((a, b) => a + b, 0);
    const alone = batches.filter((n) => n === 1).length;
    expect(alone, `batches: ${batches.join(', ')}`).toBeGreaterThanOrEqual(handed / 2);
    // The slow-moving 24h volume is not asked on every poll (it cost one of the second's public calls).
    const tickers = sim.calls.filter((c) => c.endpoint === 'Ticker').length;
    const ohlc = sim.calls.filter((c) => c.endpoint === 'OHLC').length;
    expect(ohlc).toBeGreaterThan(handed / 2);
    expect(tickers).toBeLessThanOrEqual(2);
  }, 90_000);
});
