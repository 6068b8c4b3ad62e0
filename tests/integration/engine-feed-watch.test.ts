// A market feed that stops answering is noticed within seconds: more than three poll intervals of
// silence raise one warning alert (not the stale heartbeat a minute later); an answer re-arms it.
import { performance } from 'node:perf_hooks';
import { describe, expect, it, vi } from 'vitest';
import { readEnv } from '../../src/config/env.js';
import { Engine } from '../../src/engine/engine.js';
import { FeedWatch, SILENT_AFTER_POLLS } from '../../src/engine/feed-watch.js';
import { silentLogger } from '../../src/logger.js';
import type { MarketFeed, MarketTick } from '../../src/market/types.js';
import { ENGINE_TABLES, usePostgresTestDb } from '../support/db.js';
import { engineContext, maCross, recordingAlerts } from '../support/engine.js';

/** A polling feed whose source went quiet: next() never answers until the engine stops. */
function silentFeed(pollIntervalMs: number): MarketFeed {
  return {
    kind: 'kraken',
    pollIntervalMs,
    next: (signal) => new Promise<MarketTick[] | null>((resolve) => signal.addEventListener('abort', () => resolve([]), { once: true })),
  };
}

describe('silent market feed', () => {
  const database = usePostgresTestDb({ truncate: ENGINE_TABLES });

  it('raises one warning alert within seconds once the feed is silent for more than 3 poll intervals', async () => {
    const t = await engineContext(database());
    const engine = new Engine({ ctx: t.ctx, feed: silentFeed(300), strategies: [maCross()], housekeepingMs: 50 });
    try {
      const started = performance.now();
      void engine.start();
      while (!t.alerts.raised.some((a) => a.fingerprint === 'market_feed_silent') && performance.now() - started < 10_000) {
        await new Promise((r) => setTimeout(r, 50));
      }
      const elapsed = performance.now() - started;
      expect(t.alerts.raised.filter((a) => a.fingerprint === 'market_feed_silent')).toEqual([
        expect.objectContaining({ severity: 'warning', source: 'exchange', title: expect.stringMatching(/kraken market feed has not answered for \d+ s/) }),
      ]);
      // 3 × 300 ms of silence, then at most one check period: well within 10 s.
      expect(elapsed).toBeGreaterThan(900);
      expect(elapsed).toBeLessThan(6_000);
      await new Promise((r) => setTimeout(r, 800));
      expect(t.alerts.raised.filter((a) => a.fingerprint === 'market_feed_silent')).toHaveLength(1);
    } finally {
      await engine.stop();
      await t.ctx.close();
    }
  }, 60_000);
});

describe('FeedWatch', () => {
  const watch = (clock: { t: number }) => {
    const alerts = recordingAlerts();
    return { alerts, w: new FeedWatch({ alerts, logger: silentLogger(), pollMs: 15_000, feed: 'kraken', now: () => clock.t }) };
  };

  it('stays quiet up to 3 poll intervals, alerts past them, and re-arms when the feed answers', async () => {
    const clock = { t: 0 };
    const { alerts, w } = watch(clock);
    w.answered();
    clock.t = 45_000;
    await w.check();
    expect(alerts.raised).toHaveLength(0);
    clock.t = 45_001;
    await w.check();
    await w.check();
    expect(alerts.raised).toHaveLength(1);
    w.answered();
    clock.t = 45_001 + 45_001;
    await w.check();
    expect(alerts.raised).toHaveLength(2);
  });

  it('at the shipped poll interval, alerts within 10 s of the feed passing 3 intervals of silence, not before', async () => {
    const pollMs = readEnv({}).MARKET_POLL_INTERVAL;
    vi.useFakeTimers();
    const stop = new AbortController();
    try {
      const alerts = recordingAlerts();
      const w = new FeedWatch({ alerts, logger: silentLogger(), pollMs, feed: 'kraken', now: () => Date.now() });
      const running = w.run(stop.signal);
      await vi.advanceTimersByTimeAsync(SILENT_AFTER_POLLS * pollMs);
      expect(alerts.raised).toHaveLength(0);
      await vi.advanceTimersByTimeAsync(10_000);
      expect(alerts.raised).toEqual([expect.objectContaining({ fingerprint: 'market_feed_silent', severity: 'warning' })]);
      stop.abort();
      await running;
    } finally {
      stop.abort();
      vi.useRealTimers();
    }
  });

  it('says nothing once a replay has played out', async () => {
    const clock = { t: 0 };
    const { alerts, w } = watch(clock);
    w.ended();
    clock.t = 10 * 60_000;
    await w.check();
    expect(alerts.raised).toHaveLength(0);
  });
});
