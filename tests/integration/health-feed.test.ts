// GET /healthz says when the market feed does not answer: a bot whose Kraken feed never delivered a
// batch is alive (200, so nothing restarts it for Kraken's sake) but not "ok". The engine's own view
// answers in the process that runs it; any other replica reads the open silent-feed alert.
import { ALONE_BY_CONSTRUCTION } from '../../src/engine/ledger/intent-lease.js';
import { describe, expect, it } from 'vitest';
import { persistAlerts } from '../../src/alerts/store.js';
import { Engine } from '../../src/engine/engine.js';
import { FEED_SILENT_FINGERPRINT } from '../../src/engine/feed-watch.js';
import type { MarketFeed, MarketTick } from '../../src/market/types.js';
import { healthProbe } from '../../src/services/health/read-health.js';
import { ENGINE_TABLES, usePostgresTestDb } from '../support/db.js';
import { engineContext, maCross } from '../support/engine.js';

/** A polling feed that never answers until `answer()` is called; then it answers every poll with nothing new. */
function mutedFeed(): MarketFeed & { answer(): void } {
  let answering = false;
  return {
    kind: 'kraken',
    pollIntervalMs: 50,
    answer: () => (answering = true),
    async next(signal): Promise<MarketTick[] | null> {
      while (!answering && !signal.aborted) await new Promise((r) => setTimeout(r, 20));
      await new Promise((r) => setTimeout(r, 20));
      return [];
    },
  };
}

async function until<T>(read: () => Promise<T>, ok: (v: T) => boolean, ms = 10_000): Promise<T> {
  const started = Date.now();
  let v = await read();
  while (!ok(v) && Date.now() - started < ms) {
    await new Promise((r) => setTimeout(r, 50));
    v = await read();
  }
  return v;
}

describe('GET /healthz and the market feed', () => {
  const database = usePostgresTestDb({ truncate: [...ENGINE_TABLES, 'alert_events', 'alert_groups'] });

  it('is not "ok" while the engine\'s feed has never answered, says "feed silent" past the threshold, and "ok" once it answers', async () => {
    const t = await engineContext(database());
    const feed = mutedFeed();
    const engine = new Engine({ lease: ALONE_BY_CONSTRUCTION, ctx: t.ctx, feed, strategies: [maCross()], housekeepingMs: 50, feedWatch: { minSilentMs: 5_000, minBackMs: 200 } });
    const probe = healthProbe(t.ctx, { feed: 'kraken' });
    try {
      void engine.start();
      const waiting = await until(probe, (a) => a.body.feedState !== null);
      expect(waiting.status).toBe(200);
      expect(waiting.body).toMatchObject({ status: 'feed not answered yet', feedState: { feed: 'kraken', state: 'no answer yet', lastAnswerAt: null } });
      const silent = await until(probe, (a) => a.body.status === 'feed silent', 20_000);
      expect(silent.status, 'alive all the same: a restart does not bring the feed back').toBe(200);
      expect(silent.body).toMatchObject({ status: 'feed silent', feed: 'kraken', feedState: { state: 'silent', lastAnswerAt: null, thresholdMs: 5_000 } });
      expect(silent.body.feedState).toMatchObject({ silentForMs: expect.any(Number) });
      expect((silent.body.feedState as { silentForMs: number }).silentForMs).toBeGreaterThan(5_000);
      feed.answer();
      const back = await until(probe, (a) => a.body.status === 'ok', 20_000);
      expect(back.body).toMatchObject({ status: 'ok', feedState: { state: 'answering', lastAnswerAt: expect.any(String) } });
    } finally {
      await engine.stop();
      await t.ctx.close();
    }
  }, 60_000);

  it('in a process without the engine, says "feed silent" while the silent-feed alert is open', async () => {
    const t = await engineContext(database());
    try {
      const probe = healthProbe(t.ctx, { feed: 'kraken' });
      expect((await probe()).body).toMatchObject({ status: 'ok', feedState: null });
      await persistAlerts({
        db: t.ctx.db, slackChannel: null,
        batch: [{ at: new Date(), alert: { source: 'exchange', severity: 'warning', fingerprint: FEED_SILENT_FINGERPRINT, title: 'The kraken market feed has not answered for 45 s', details: {}, test: false } }],
      });
      const answer = await probe();
      expect(answer.status).toBe(200);
      expect(answer.body).toMatchObject({ status: 'feed silent', feedState: { state: 'silent', alert: expect.any(Number) } });
      // No engine runs (no lease): nothing said of its progress — `waiting: null` would say it trades.
      expect(answer.body.engine).toMatchObject({ state: 'none', thisProcess: false });
      expect(answer.body.engine).not.toHaveProperty('waiting');
    } finally {
      await t.ctx.close();
    }
  }, 60_000);
});
