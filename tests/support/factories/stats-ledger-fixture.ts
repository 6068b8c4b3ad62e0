// A small hand-computed ledger for the stats tests (see the expected figures beside each trade).
// Clock: 2026-01-10T12:00:00Z. Realised PnL = (exit − entry) × qty − entry fee − exit fee.
import type { Db } from '../../../src/db/client.js';
import { closedTrade, insertSnapshots, insertTrades, openTrade } from './ledger.js';

export const FIXTURE_NOW = '2026-01-10T12:00:00Z';

export async function seedHandComputedLedger(db: Db): Promise<void> {
  await insertTrades(db, [
    // paper / kraken
    closedTrade({ strategy: 'ma-cross', quantity: '0.5', entryPrice: '100', exitPrice: '120', entryFee: '0.1', exitFee: '0.12', at: '2026-01-10T11:30:00Z' }), // +9.78
    closedTrade({ strategy: 'ma-cross', quantity: '1', entryPrice: '200', exitPrice: '190', entryFee: '0.2', exitFee: '0.19', at: '2026-01-08T09:15:00Z' }), // −10.39
    closedTrade({ strategy: 'momentum', symbol: 'ETH/USD', quantity: '2', entryPrice: '50', exitPrice: '55', entryFee: '0.05', exitFee: '0.055', at: '2025-12-01T00:00:00Z' }), // +9.895
    closedTrade({ strategy: 'momentum', quantity: '1', entryPrice: '10', exitPrice: '10', at: '2026-01-10T10:59:59.999Z' }), // 0 (breakeven)
    openTrade({ strategy: 'ma-cross', quantity: '0.1', entryPrice: '130', entryFee: '0.013', at: '2026-01-10T11:00:00Z' }),
    // live / kraken
    closedTrade({ mode: 'live', strategy: 'ma-cross', quantity: '1', entryPrice: '1000', exitPrice: '1010', entryFee: '1', exitFee: '1.01', at: '2026-01-09T12:00:01Z' }), // +7.99
    // replay feed (practice: never counts toward go-live)
    closedTrade({ feed: 'replay', strategy: 'ma-cross', quantity: '1', entryPrice: '100', exitPrice: '105', at: '2026-01-10T11:59:00Z' }), // +5
    closedTrade({ feed: 'replay', strategy: 'ma-cross', quantity: '1', entryPrice: '100', exitPrice: '97', at: '2026-01-10T11:59:30Z' }), // −3
  ]);
  await insertSnapshots(db, [
    { at: '2026-01-01T00:00:00Z', equity: '10000' },
    { at: '2026-01-03T00:00:00Z', equity: '10500' }, // peak
    { at: '2026-01-05T00:00:00Z', equity: '9450' }, // −10% from 10500
    { at: '2026-01-07T00:00:00Z', equity: '11000' }, // new peak
    { at: '2026-01-09T00:00:00Z', equity: '10450' }, // −5% from the new peak
    { at: '2026-01-10T11:30:00Z', equity: '10780', cash: '10766' }, // positions worth 14 at the marks
  ]);
}
