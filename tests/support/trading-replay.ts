// Files for a bot that trades at once on the replay feed: a replay CSV of repeated round trips (a
// moving-average cross up, then down, every 38 candles) and a strategies file with the fast test
// strategy — so a `ctb start` child places paper orders within a second or two at REPLAY_INTERVAL=20ms.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { candlesFrom, maCross, roundTripCloses } from './engine.js';

export function writeTradingReplay(dir: string, opts: { roundTrips?: number } = {}): { replayFile: string; strategiesFile: string } {
  const closes: number[] = [];
  for (let i = 0; i < (opts.roundTrips ?? 200); i++) closes.push(...roundTripCloses());
  const candles = candlesFrom(closes, { start: '2026-01-05T00:00:00Z', volume: 50 });
  const replayFile = join(dir, 'replay.csv');
  writeFileSync(replayFile, ['time,symbol,open,high,low,close,volume',
    ...candles.map((c) => `${c.openTime.toISOString()},${c.symbol},${c.open},${c.high},${c.low},${c.close},${c.volume}`)].join('\n') + '\n');
  const strategiesFile = join(dir, 'strategies.json');
  writeFileSync(strategiesFile, JSON.stringify({ strategies: [maCross({ limits: { minVolume24hQuote: 1 } })] }, null, 2));
  return { replayFile, strategiesFile };
}
