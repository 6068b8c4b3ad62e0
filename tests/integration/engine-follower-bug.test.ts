// A bug in the engine's follower of orders in flight — the pass that books their fills — is an error
// that pages (critical alert, error-level log), not a warning repeated every pass while nothing is
// booked; trouble outside the program (Kraken, the database) stays a warning that is retried.
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
  const lines: Array<{ level: number; msg: string }> = [];
  const sink = new Writable({
    write(chunk, _enc, cb) {
      for (const line of String(chunk).split('\n')) if (line.trim()) lines.push(JSON.parse(line) as { level: number; msg: string });
      cb();
    },
  });
  return { logger: pino({ level: 'info' }, sink), lines };
}

describe("the engine's follower of orders in flight", () => {
  const database = usePostgresTestDb({ truncate: ENGINE_TABLES });

  /** Runs the engine until the follower has failed `passes` times with `failure`; returns its alerts and log lines. */
  async function followerFailing(failure: () => Error, passes: number) {
    const logs = captureLogs();
    const t = await engineContext(database(), {}, { logger: logs.logger });
    const engine = new Engine({ ctx: t.ctx, feed: new PacedFeed('replay', candlesFrom([100, 101, 102]), 0), strategies: [maCross()], fillFollowMs: 1, housekeepingMs: 50 });
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

  it('keeps a passing failure (Kraken unavailable) a warning, retried every pass, without paging', async () => {
    const { alerts, lines } = await followerFailing(() => new ExchangeError('retryable', 'exchange_unavailable', 'Kraken is unavailable'), 3);
    expect(alerts.filter((a) => a.source === 'engine')).toEqual([]);
    expect(lines.map((l) => l.level)).toEqual([40, 40, 40]);
  });
});
