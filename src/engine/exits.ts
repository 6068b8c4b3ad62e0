// Owns when an open position is closed: the strategy says sell, or the price reached the strategy's
// stop-loss or take-profit (checked against the candle's close).
import type { Candle } from '../exchange/types.js';
import type { StrategyDefinition } from './strategies/config.js';
import type { Signal } from './strategies/types.js';

export function decideExit(def: Pick<StrategyDefinition, 'exits'>, signal: Signal, entryPrice: number, candle: Candle): string | null {
  if (signal.action === 'sell') return signal.reason;
  const { stopLossPct, takeProfitPct } = def.exits;
  if (stopLossPct !== undefined && candle.close <= entryPrice * (1 - stopLossPct / 100)) return `stop-loss ${stopLossPct}% hit`;
  if (takeProfitPct !== undefined && candle.close >= entryPrice * (1 + takeProfitPct / 100)) return `take-profit ${takeProfitPct}% hit`;
  return null;
}
