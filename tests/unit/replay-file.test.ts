import { describe, expect, it } from 'vitest';
import { createReplayFeed, SAMPLE_REPLAY_FILE } from '../../src/market/create-feed.js';
import { parseReplayCsv, readReplayFile } from '../../src/market/replay-file.js';
import { testConfig } from '../../src/config/env.js';

const HEADER = 'time,symbol,open,high,low,close,volume';

describe('replay file', () => {
  it('reads the bundled sample: realistic 1-minute BTC/USD candles in time order', () => {
    const candles = readReplayFile(SAMPLE_REPLAY_FILE);
    expect(candles.length).toBeGreaterThanOrEqual(1000);
    expect(candles.every((c) => c.symbol === 'BTC/USD' && c.low <= Math.min(c.open, c.close) && c.high >= Math.max(c.open, c.close) && c.volume >= 0)).toBe(true);
    expect(candles.every((c, i) => i === 0 || c.openTime.getTime() - candles[i - 1]!.openTime.getTime() === 60_000)).toBe(true);
  });

  it('names each bad line with its number, the column and what is expected', () => {
    const text = [HEADER, '2026-01-05T00:00:00Z,BTC/USD,100,101,99,100,5', 'yesterday,BTC/USD,100,101,99,100,5', '2026-01-05T00:02:00Z,BTC/USD,100,99,101,100,5', '2026-01-05T00:03:00Z,BTCUSD,100,101,99,-1,5', '1,2'].join('\n');
    expect(() => parseReplayCsv(text, 'x.csv')).toThrow(/x\.csv: line 3: time: expected an ISO date or epoch milliseconds, got "yesterday"/);
    try {
      parseReplayCsv(text, 'x.csv');
    } catch (err) {
      const message = (err as Error).message;
      expect(message).toMatch(/line 4: expected low ≤ open, close ≤ high/);
      expect(message).toMatch(/line 5: symbol: expected a pair such as BTC\/USD, got "BTCUSD"/);
      expect(message).toMatch(/line 5: close: expected a positive number, got "-1"/);
      expect(message).toMatch(/line 6: expected 7 comma-separated values, got 2/);
      expect((err as { kind?: string }).kind).toBe('config');
    }
  });

  it('refuses a file with the wrong header or without candles', () => {
    expect(() => parseReplayCsv('date,price\n', 'y.csv')).toThrow(/y\.csv: line 1: expected the header "time,symbol,open,high,low,close,volume"/);
    expect(() => parseReplayCsv(`${HEADER}\n`, 'z.csv')).toThrow(/no candles/);
  });

  it('refuses to replay pairs the file does not contain', () => {
    expect(() => createReplayFeed(testConfig({ TRADING_PAIRS: 'ETH/USD' }))).toThrow(/has no candles for ETH\/USD \(it has BTC\/USD\)/);
  });
});
