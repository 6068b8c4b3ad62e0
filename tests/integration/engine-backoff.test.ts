// The engine's wait after a failed market poll: it starts again from one second once the feed has
// answered (a hiccup an hour later is not paid for with a minute's sleep), and it keeps the
// heartbeat while it waits — a backing-off engine is not a stuck one for self-heal or the watchdog.
import { ALONE_BY_CONSTRUCTION } from '../../src/engine/ledger/intent-lease.js';
import { performance } from 'node:perf_hooks';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { testConfig } from '../../src/config/env.js';
import { Engine } from '../../src/engine/engine.js';
import { createLogger } from '../../src/logger.js';
import { ExchangeError } from '../../src/exchange/errors.js';
import type { MarketFeed, MarketTick } from '../../src/market/types.js';
import { getBotState } from '../../src/services/bot-state.js';
import { ENGINE_TABLES, usePostgresTestDb } from '../support/db.js';
import { engineContext, maCross } from '../support/engine.js';

const hiccup = () => new ExchangeError('retryable', 'exchange_unavailable', "Kraken's public API did not answer OHLC for BTC/USD: 502");

/** A feed that answers each poll as `script` says (true: no new candle, false: a 502), and records when it was asked. */
function scriptedFeed(script: boolean[]): MarketFeed & { askedAt: number[] } {
  const askedAt: number[] = [];
  return {
    kind: 'kraken',
    askedAt,
    async next(signal): Promise<MarketTick[] | null> {
      askedAt.push(performance.now());
      const answers = script[askedAt.length - 1];
      if (answers === undefined) {
        await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
        return [];
      }
      if (!answers) throw hiccup();
      return [];
    },
  };
}

describe('engine backoff after a failed market poll', () => {
  const database = usePostgresTestDb({ truncate: ENGINE_TABLES });

  it('waits about a second after each hiccup that follows an answer, instead of doubling across answers', async () => {
    const t = await engineContext(database());
    const feed = scriptedFeed([false, true, false, true, false, true, false, true]);
    const engine = new Engine({ lease: ALONE_BY_CONSTRUCTION, ctx: t.ctx, feed, strategies: [maCross()], housekeepingMs: 50 });
    try {
      void engine.start();
      const started = performance.now();
      while (feed.askedAt.length < 9 && performance.now() - started < 40_000) await new Promise((r) => setTimeout(r, 50));
      expect(feed.askedAt.length, 'the feed was asked again after every hiccup').toBe(9);
      // Gaps after each 502 (polls 1, 3, 5, 7): one second each. Doubling would make them 1, 2, 4 and 8 s.
      const waits = [0, 2, 4, 6].map((i) => feed.askedAt[i + 1]! - feed.askedAt[i]!);
      for (const wait of waits) {
        expect(wait).toBeGreaterThanOrEqual(950);
        expect(wait, `waits after each hiccup: ${waits.map((w) => Math.round(w)).join(', ')} ms`).toBeLessThan(3_000);
      }
    } finally {
      await engine.stop();
      await t.ctx.close();
    }
  }, 60_000);

  it('keeps the heartbeat while it backs off', async () => {
    const t = await engineContext(database());
    // Three 502s in a row: it waits 1 s, 2 s, then 4 s before asking again.
    const feed = scriptedFeed([false, false, false]);
    const engine = new Engine({ lease: ALONE_BY_CONSTRUCTION, ctx: t.ctx, feed, strategies: [maCross()], housekeepingMs: 50 });
    try {
      void engine.start();
      const started = performance.now();
      while (feed.askedAt.length < 3 && performance.now() - started < 30_000) await new Promise((r) => setTimeout(r, 20));
      expect(feed.askedAt.length).toBe(3);
      // A beat written after the third ask: the heartbeat is the database's now() when written.
      const asked = (await getBotState(t.ctx.db)).engineHeartbeatAt!.getTime();
      const waiting = performance.now();
      while ((await getBotState(t.ctx.db)).engineHeartbeatAt!.getTime() <= asked + 200 && performance.now() - waiting < 3_000) {
        await new Promise((r) => setTimeout(r, 50));
      }
      expect((await getBotState(t.ctx.db)).engineHeartbeatAt!.getTime(), 'the heartbeat during the 4 s wait').toBeGreaterThan(asked + 200);
      expect(feed.askedAt.length, 'still backing off, not polling').toBe(3);
    } finally {
      await engine.stop();
      await t.ctx.close();
    }
  }, 60_000);

  it('says in one line what failed, how many times in a row, and when it tries next; the stack once per reason', async () => {
    const lines: Array<Record<string, unknown>> = [];
    let logged!: () => void;
    const backingOff = new Promise<void>((resolve) => (logged = resolve));
    const isBackoff = (l: Record<string, unknown>) => l.level === 40 && String(l.msg).startsWith('transient market/exchange trouble');
    const sink = new Writable({
      write(chunk, _enc, done) {
        for (const l of String(chunk).split('\n').filter(Boolean)) {
          const line = JSON.parse(l) as Record<string, unknown>;
          lines.push(line);
          if (lines.filter(isBackoff).length === 3) logged();
        }
        done();
      },
    });
    const logger = createLogger({ config: testConfig({ LOG_FORMAT: 'json', LOG_LEVEL: 'debug' }), stdout: false, files: false, destination: sink, destinationLevel: 'debug' });
    const t = await engineContext(database(), {}, { logger });
    const engine = new Engine({ lease: ALONE_BY_CONSTRUCTION, ctx: t.ctx, feed: scriptedFeed([false, false, false]), strategies: [maCross()], housekeepingMs: 50 });
    try {
      void engine.start();
      await backingOff;
      const [first, second, third] = lines.filter(isBackoff) as [Record<string, unknown>, Record<string, unknown>, Record<string, unknown>];
      expect(first.msg).toBe("transient market/exchange trouble (Kraken's public API did not answer OHLC for BTC/USD): failed; next try in 1 s");
      expect(first).toMatchObject({ failures: 1, delayMs: 1000, code: 'exchange_unavailable', err: { code: 'exchange_unavailable' } });
      expect(String((first.err as { stack: string }).stack)).toContain('ExchangeError');
      expect(second.msg).toBe("transient market/exchange trouble (Kraken's public API did not answer OHLC for BTC/USD): failed 2 times in a row; next try in 2 s");
      expect(third).toMatchObject({ failures: 3, delayMs: 4000, code: 'exchange_unavailable', reason: "Kraken's public API did not answer OHLC for BTC/USD: 502" });
      // The same reason again: no stack on the warn line (a terminal shows one line), the stack at debug.
      for (const line of [second, third]) {
        expect(line.err).toBeUndefined();
        const retryAt = Date.parse(String(line.retryAt));
        expect(Math.abs(retryAt - (Date.parse(String(line.time)) + Number(line.delayMs)))).toBeLessThan(1_000);
      }
      expect(lines.filter((l) => l.level === 20 && (l.err as { stack?: string } | undefined)?.stack).length).toBeGreaterThanOrEqual(2);
    } finally {
      await engine.stop();
      await t.ctx.close();
    }
  }, 60_000);
  it('shows each backoff after the first as one line on a terminal (the bot\'s own readable stdout)', async () => {
    let text = '';
    const stdoutStream = new Writable({
      write(chunk, _enc, done) {
        text += String(chunk);
        done();
      },
    });
    const logger = createLogger({ config: testConfig({ LOG_FORMAT: 'pretty', LOG_LEVEL: 'info' }), stdoutStream, files: false });
    const t = await engineContext(database(), {}, { logger });
    const engine = new Engine({ lease: ALONE_BY_CONSTRUCTION, ctx: t.ctx, feed: scriptedFeed([false, false, false]), strategies: [maCross()], housekeepingMs: 50 });
    try {
      void engine.start();
      const started = performance.now();
      while ((text.match(/transient market\/exchange trouble/g) ?? []).length < 3 && performance.now() - started < 30_000) await new Promise((r) => setTimeout(r, 50));
      const lines = text.replace(/\x1b\[[0-9;]*m/g, '').split('\n');
      const at = lines.map((l, i) => (l.includes('transient market/exchange trouble') ? i : -1)).filter((i) => i >= 0);
      expect(at.length).toBe(3);
      // The first carries the stack once; the next ones are a line each, the following line a new entry.
      expect(lines.slice(at[0]! + 1, at[1]!).join('\n')).toContain('ExchangeError');
      for (const i of at.slice(1)) {
        expect(lines[i]).toMatch(/^\[\d\d:\d\d:\d\d\] WARN: transient market\/exchange trouble .*; next try in \d+ s \{.*"failures":\d/);
        expect(lines[i + 1] ?? '', `the line after backoff: ${lines[i + 1]}`).toMatch(/^(\[\d\d:\d\d:\d\d\] |$)/);
      }
    } finally {
      await engine.stop();
      await t.ctx.close();
    }
  }, 60_000);
});
