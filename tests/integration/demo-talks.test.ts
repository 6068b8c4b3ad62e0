// The running bot on a replay says what it does: a start banner, and one info line per order, fill
// and close (with the realised PnL); and its equity snapshots follow market time, one per candle,
// so a replay played in seconds still has a point per candle on the chart.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBot, type RunningBot } from '../../src/app/runtime.js';
import { testConfig } from '../../src/config/env.js';
import { equitySnapshots, trades } from '../../src/db/schema/index.js';
import { engineFeature } from '../../src/app/features/engine.js';
import { createLogger } from '../../src/logger.js';
import { renderEquityChart } from '../../src/services/stats/equity-chart.js';
import { waitUntil } from '../support/bot-process.js';
import { createPostgresTestDb, type TestDatabase } from '../support/db.js';
import { candlesFrom, maCross, roundTripCloses } from '../support/engine.js';

let database: TestDatabase;
let bot: RunningBot | undefined;
const lines: Array<Record<string, unknown>> = [];
const candles = candlesFrom([...roundTripCloses(), ...roundTripCloses(60_100)]);

beforeAll(async () => {
  database = await createPostgresTestDb();
  const dir = mkdtempSync(join(tmpdir(), 'ctb-demo-talks-'));
  const replay = join(dir, 'replay.csv');
  writeFileSync(replay, ['time,symbol,open,high,low,close,volume', ...candles.map((c) => [c.openTime.toISOString(), c.symbol, c.open, c.high, c.low, c.close, c.volume].join(','))].join('\n'));
  const strategiesFile = join(dir, 'strategies.json');
  writeFileSync(strategiesFile, JSON.stringify({ strategies: [maCross({ limits: { minVolume24hQuote: 1 } })] }));
  // The shipped default interval (15 minutes): the replay must not need a shorter one to draw its curve.
  const config = testConfig({ DATABASE_URL: database.url, STRATEGIES_FILE: strategiesFile, REPLAY_FILE: replay, REPLAY_INTERVAL: '20ms', TRADING_PAIRS: 'BTC/USD', DATA_DIR: join(dir, 'data'), LOG_DIR: join(dir, 'logs'), LOG_LEVEL: 'info' });
  expect(config.EQUITY_SNAPSHOT_INTERVAL).toBe(15 * 60_000);
  const sink = new Writable({
    write(chunk, _enc, done) {
      for (const l of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(l));
      done();
    },
  });
  // Info and above only: a trade line at debug would not reach this sink.
  const logger = createLogger({ config, stdout: false, files: false, destination: sink, destinationLevel: 'info' });
  bot = await startBot({ config, role: 'all', feed: 'replay', port: 0, logger, database, features: [engineFeature({ standbyPollMs: 50, progressEveryMs: 300 })] });
  await waitUntil(() => lines.some((l) => l.msg === 'market feed finished; the engine keeps its heartbeat'), 120_000, () => 'the end of the replay');
}, 180_000);
afterAll(async () => {
  await bot?.stop();
  await database?.close();
});

describe('a replay run that talks', () => {
  it('starts with a banner naming mode, database, feed, URLs and three commands to try', () => {
    const banner = lines.find((l) => typeof l.msg === 'string' && l.msg.startsWith('ctb running on port'));
    expect(banner).toBeDefined();
    const msg = banner!.msg as string;
    expect(msg).toMatch(/^ctb running on port \d+ \(paper only, postgres, feed replay\)\n/);
    expect(msg).toMatch(/mode\s+paper .*trading active/);
    expect(msg).toMatch(/database\s+PostgreSQL 127\.0\.0\.1:5432\//);
    expect(msg).toMatch(/feed\s+replay of .*replay\.csv, one 1-minute candle every 20ms/);
    expect(msg).toMatch(/http:\/\/localhost:\d+\/healthz/);
    expect(msg).toMatch(/http:\/\/localhost:\d+\/metrics/);
    expect((banner!.banner as { next: string[] }).next).toHaveLength(3);
    expect(msg).toContain('ctb stats --chart equity.png');
  });

  it('says how far it got between trades, and when the database is ready', () => {
    const progress = lines.filter((l) => l.event === 'progress');
    expect(progress.length).toBeGreaterThanOrEqual(1);
    for (const l of progress) {
      expect(l.level).toBe(30);
      expect(l.msg).toMatch(/^replay at 2026-01-05 \d\d:\d\d UTC: \d+ candles, equity [\d,]+\.\d\d USD( \(peak [\d,]+\.\d\d\))?, \d+ open, \d+ orders$/);
    }
    expect(lines.find((l) => typeof l.msg === 'string' && /^database ready in \d+\.\d s \(postgres, migrations applied\)/.test(l.msg))).toBeDefined();
  });

  it('logs one info line per order, per fill and per close, the close with its realised PnL', async () => {
    // In the order opened, which is the order closed (one position at a time), as the close lines are
    // logged: a closed trade is an updated row, which a read without ORDER BY may return anywhere.
    const closed = await database.db.select().from(trades).orderBy(trades.id);
    expect(closed.length).toBeGreaterThanOrEqual(2);
    expect(closed.every((t) => t.status === 'closed')).toBe(true);
    const events = (kind: string) => lines.filter((l) => l.event === kind);
    for (const l of [...events('order'), ...events('fill'), ...events('close')]) expect(l.level).toBe(30);
    expect(events('order')).toHaveLength(closed.length * 2);
    expect(events('fill')).toHaveLength(closed.length * 2);
    expect(events('close').map((l) => [l.tradeId, l.realizedPnl])).toEqual(closed.map((t) => [t.id, t.realizedPnl]));
    for (const l of events('close')) expect(l.msg).toMatch(/^paper close: trade #\d+ BTC\/USD test-ma [\d,.]+ → [\d,.]+, PnL [+-]?[\d,.]+ USD \([+-]?\d+\.\d\d %\) after \d+/);
    expect(events('fill')[0]!.msg).toMatch(/^paper fill: buy [\d.]+ BTC @ [\d,]+\.\d\d USD, fee \d+\.\d\d USD → trade #\d+ open$/);
  });

  it('writes one equity snapshot per candle of market time, not one per 15 minutes of wall time', async () => {
    const rows = await database.db.select().from(equitySnapshots);
    expect(rows.every((r) => r.feed === 'replay' && r.mode === 'paper')).toBe(true);
    // Every candle is a minute of market time: each gets its snapshot (a trade's forced one may add to them).
    expect(rows.length).toBeGreaterThanOrEqual(candles.length);
    expect(rows.length).toBeLessThanOrEqual(candles.length + 4);
    // Stamped with the clock, like the trades beside them: within the run, in order.
    const ats = rows.map((r) => r.at.getTime());
    expect(Math.max(...ats) - Math.min(...ats)).toBeLessThan(5 * 60_000);
  });

  it('charts the run over the last 24h: a point per snapshot, every entry and exit marked', async () => {
    const to = new Date();
    const chart = await renderEquityChart(database.db, { window: { from: new Date(to.getTime() - 86_400_000), to }, title: 't', currency: 'USD' });
    const closed = await database.db.select().from(trades);
    expect(chart).not.toBeNull();
    expect(chart!.points).toBeGreaterThanOrEqual(Math.floor(candles.length * 0.9));
    expect(chart!.markers).toBe(closed.length * 2);
  });
});
