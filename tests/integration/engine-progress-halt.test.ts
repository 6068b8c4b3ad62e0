// The engine's progress line, the one a person watches between trades, says when the bot is halted:
// after `ctb kill` it is not "N open, M orders" as if trading went on.
import { ALONE_BY_CONSTRUCTION } from '../../src/engine/ledger/intent-lease.js';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { Engine } from '../../src/engine/engine.js';
import { createLogger } from '../../src/logger.js';
import { PacedFeed } from '../../src/market/paced-feed.js';
import { updateBotState } from '../../src/services/bot-state.js';
import { testConfig } from '../../src/config/env.js';
import { usePostgresTestDb } from '../support/db.js';
import { candlesFrom, engineContext, maCross, roundTripCloses } from '../support/engine.js';

const database = usePostgresTestDb();

async function progressLines(): Promise<Array<Record<string, unknown>>> {
  const lines: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      for (const l of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(l));
      done();
    },
  });
  const logger = createLogger({ config: testConfig({ LOG_LEVEL: 'info' }), stdout: false, files: false, destination: sink, destinationLevel: 'info' });
  const t = await engineContext(database(), {}, { logger });
  const start = '2026-01-05T00:00:00Z';
  // Every batch may print its line: the test is about what the line says, not how often.
  const engine = new Engine({ lease: ALONE_BY_CONSTRUCTION,
    ctx: t.ctx, feed: new PacedFeed('replay', candlesFrom(roundTripCloses().slice(0, 6), { start }), 0), strategies: [maCross()],
    marketClock: t.clock, stopWhenFeedEnds: true, progressEveryMs: Number.MIN_VALUE,
  });
  await engine.start();
  await t.ctx.close();
  return lines.filter((l) => l.event === 'progress');
}

describe('the engine progress line', () => {
  it('adds the halt, its reason and who halted, while the bot is halted', async () => {
    const t = await engineContext(database());
    await updateBotState(t.ctx.db, t.clock, { halted: true, haltedReason: 'kill switch', haltedBy: 'cli:ops', haltedAt: t.clock.now() });
    await t.ctx.close();
    const lines = await progressLines();
    expect(lines.length).toBeGreaterThanOrEqual(1);
    for (const l of lines) {
      expect(l.msg).toMatch(/^replay at 2026-01-05 \d\d:\d\d UTC: \d+ candles, equity [\d,.]+ USD.*, 0 open, 0 orders; HALTED: kill switch \(by cli:ops\), no orders until `ctb resume`$/);
      expect(l.halted).toBe(true);
    }
  });

  it('says nothing of a halt while trading', async () => {
    const t = await engineContext(database());
    await updateBotState(t.ctx.db, t.clock, { halted: false, haltedReason: null, haltedBy: null, haltedAt: null });
    await t.ctx.close();
    const lines = await progressLines();
    expect(lines.length).toBeGreaterThanOrEqual(1);
    for (const l of lines) {
      expect(l.msg).not.toContain('HALTED');
      expect(l).not.toHaveProperty('halted');
    }
  });
});
