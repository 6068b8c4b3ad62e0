// A bug in the engine's follower of orders in flight — the pass that books their fills — is an error
// that pages (critical alert, error-level log), not a warning repeated every pass while nothing is
// booked; trouble outside the program (Kraken, the database) stays a warning that is retried.
// Either page, when it cannot be raised, is logged again unmarked, so the log-line source pages it.
import { ALONE_BY_CONSTRUCTION } from '../../src/engine/ledger/intent-lease.js';
import { Writable } from 'node:stream';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type { AlertInput } from '../../src/alerts/types.js';
import { Engine } from '../../src/engine/engine.js';
import { ExchangeError } from '../../src/exchange/errors.js';
import { PacedFeed } from '../../src/market/paced-feed.js';
import { ENGINE_TABLES, usePostgresTestDb } from '../support/db.js';
import { candlesFrom, engineContext, maCross } from '../support/engine.js';

function captureLogs() {
  const lines: Array<{ level: number; msg: string; alerted?: boolean; alertError?: string }> = [];
  const sink = new Writable({
    write(chunk, _enc, cb) {
      for (const line of String(chunk).split('\n')) if (line.trim()) lines.push(JSON.parse(line) as { level: number; msg: string; alerted?: boolean; alertError?: string });
      cb();
    },
  });
  return { logger: pino({ level: 'info' }, sink), lines };
}

describe("the engine's follower of orders in flight", () => {
  const database = usePostgresTestDb({ truncate: ENGINE_TABLES });

  /** Runs the engine until the follower has failed `passes` times with `failure`; returns its alerts and log lines. */
  async function followerFailing(failure: () => Error, passes: number, opts: { alertsDown?: boolean } = {}) {
    const logs = captureLogs();
    const down = { raise: () => Promise.reject(new Error('the alert pipeline is unreachable')) };
    const t = await engineContext(database(), {}, { logger: logs.logger, ...(opts.alertsDown ? { alerts: () => down } : {}) });
    const engine = new Engine({ lease: ALONE_BY_CONSTRUCTION, ctx: t.ctx, feed: new PacedFeed('replay', candlesFrom([100, 101, 102]), 0), strategies: [maCross()], fillFollowMs: 1, housekeepingMs: 50 });
    let failed = 0;
    const done = new Promise<void>((resolve) => {
      engine.followFills = async () => {
        if (++failed === passes) resolve();
        throw failure();
      };
    });
    const running = engine.start();
    await done;
    await engine.stop();
    await running;
    await t.ctx.close();
    return { alerts: t.alerts.raised as AlertInput[], lines: logs.lines.filter((l) => l.msg.includes('following orders in flight')) };
  }

  it('pages once on a program error (TypeError) and logs it as an error, not a warning', async () => {
    const { alerts, lines } = await followerFailing(() => new TypeError("Cannot read properties of undefined (reading 'quantity')"), 3);
    expect(alerts.filter((a) => a.fingerprint === 'engine_error:following orders in flight')).toEqual([
      expect.objectContaining({ source: 'engine', severity: 'critical', title: "Engine error while following orders in flight: Cannot read properties of undefined (reading 'quantity')" }),
    ]);
    expect(lines.map((l) => l.level)).toEqual([50]);
  });

  it('when its page cannot be raised, logs the error again without the alerted mark, so the log-line source pages it', async () => {
    const { lines } = await followerFailing(() => new TypeError("Cannot read properties of undefined (reading 'quantity')"), 3, { alertsDown: true });
    expect(lines.map((l) => [l.level, l.alerted ?? false, l.alertError ?? null])).toEqual([
      [50, true, null],
      [50, false, 'the alert pipeline is unreachable'],
    ]);
    expect(lines[1]!.msg).toBe('following orders in flight failed: a program error, not a passing one; still trying (its alert could not be raised)');
  });

  it('keeps a passing failure (Kraken unavailable) a warning, retried every pass, without paging', async () => {
    const { alerts, lines } = await followerFailing(() => new ExchangeError('retryable', 'exchange_unavailable', 'Kraken is unavailable'), 3);
    expect(alerts.filter((a) => a.source === 'engine')).toEqual([]);
    expect(lines.map((l) => l.level)).toEqual([40, 40, 40]);
  });
});

describe("the engine loop's own program error", () => {
  const database = usePostgresTestDb({ truncate: ENGINE_TABLES });

  it('when its page cannot be raised, logs it again without the alerted mark, so the log-line source pages it', async () => {
    const logs = captureLogs();
    const down = { raise: () => Promise.reject(new Error('the alert pipeline is unreachable')) };
    const t = await engineContext(database(), {}, { logger: logs.logger, alerts: () => down });
    const feed = { kind: 'replay' as const, next: () => Promise.reject(new TypeError('feed bug')) };
    const engine = new Engine({ lease: ALONE_BY_CONSTRUCTION, ctx: t.ctx, feed, strategies: [maCross()], housekeepingMs: 50 });
    const running = engine.start();
    const loopLines = () => logs.lines.filter((l) => l.msg.startsWith('engine loop error'));
    for (let i = 0; i < 500 && loopLines().length < 2; i++) await new Promise((r) => setTimeout(r, 10));
    await engine.stop();
    await running;
    await t.ctx.close();
    expect(loopLines().map((l) => [l.level, l.alerted ?? false, l.alertError ?? null])).toEqual([
      [50, true, null],
      [50, false, 'the alert pipeline is unreachable'],
    ]);
  });
});
