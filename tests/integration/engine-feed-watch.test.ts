// A market feed that stops answering is noticed within seconds: more than three poll intervals of
// silence (and at least 10 s) raise one warning alert (not the stale heartbeat a minute later). With
// hysteresis: the alert is resolved only once the feed has answered steadily for a while (10 poll
// intervals, at least 60 s), so a fast poll answering in fits does not raise and resolve it repeatedly.
import { ALONE_BY_CONSTRUCTION } from '../../src/engine/ledger/intent-lease.js';
import { performance } from 'node:perf_hooks';
import { describe, expect, it, vi } from 'vitest';
import { readEnv } from '../../src/config/env.js';
import { Engine } from '../../src/engine/engine.js';
import type { AlertInput, AlertRecovery, AlertSink } from '../../src/alerts/types.js';
import { ManualClock } from '../../src/clock.js';
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
    // The 10 s floor is the unit tests' below: here only the engine's wiring, at 3 × 300 ms.
    const engine = new Engine({ lease: ALONE_BY_CONSTRUCTION, ctx: t.ctx, feed: silentFeed(300), strategies: [maCross()], housekeepingMs: 50, feedWatch: { minSilentMs: 0 } });
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

  it('stays quiet up to 3 poll intervals, alerts past them, and stays raised while the feed answers only now and then', async () => {
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
    expect(alerts.raised).toHaveLength(1);
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

/** An alert sink that records raises and resolutions in one list, in order. */
function recordingSink(): AlertSink & { events: string[] } {
  const events: string[] = [];
  return {
    events,
    raise: async (a: AlertInput) => void events.push(`raise ${a.fingerprint}`),
    resolve: async (r: AlertRecovery) => {
      events.push(`resolve ${r.fingerprint}: ${r.note}`);
      return 1;
    },
  };
}

describe('FeedWatch at a 1 s poll (hysteresis)', () => {
  const setUp = () => {
    const clock = new ManualClock('2026-01-05T12:00:00Z');
    const alerts = recordingSink();
    const w = new FeedWatch({ alerts, logger: silentLogger(), pollMs: 1_000, feed: 'kraken', now: () => clock.now().getTime() });
    /** The feed answers every second for `ms`, checked after each answer. */
    const answering = async (ms: number) => {
      for (let t = 0; t < ms; t += 1_000) {
        clock.advance(1_000);
        w.answered();
        await w.check();
      }
    };
    /** The feed is silent for `ms`, checked every second. */
    const silent = async (ms: number) => {
      for (let t = 0; t < ms; t += 1_000) {
        clock.advance(1_000);
        await w.check();
      }
    };
    return { alerts, w, answering, silent };
  };

  it('raises only after 10 s of silence, not at 3 poll intervals', async () => {
    const { alerts, answering, silent } = setUp();
    await answering(5_000);
    await silent(10_000);
    expect(alerts.events).toEqual([]);
    await silent(1_000);
    expect(alerts.events).toEqual(['raise market_feed_silent']);
  });

  it('keeps one alert, neither resolved nor raised again, while the feed comes back in fits', async () => {
    const { alerts, answering, silent } = setUp();
    await silent(11_000);
    for (let i = 0; i < 5; i++) {
      await answering(30_000);
      await silent(12_000);
    }
    expect(alerts.events).toEqual(['raise market_feed_silent']);
  });

  it('resolves once the feed has answered steadily for 60 s, and a later silence raises it again', async () => {
    const { alerts, w, answering, silent } = setUp();
    await silent(11_000);
    // The first answer starts the count: 60 answers a second apart are 59 s of answering steadily.
    await answering(60_000);
    expect(alerts.events).toEqual(['raise market_feed_silent']);
    expect(w.status().state, 'silent while the alert stands, as other replicas read it').toBe('silent');
    await answering(1_000);
    expect(alerts.events).toEqual(['raise market_feed_silent', 'resolve market_feed_silent: The kraken market feed has answered steadily for 60 s']);
    expect(w.status().state).toBe('answering');
    await silent(11_000);
    expect(alerts.events.at(-1)).toBe('raise market_feed_silent');
    expect(alerts.events).toHaveLength(3);
  });
});
