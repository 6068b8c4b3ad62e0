// Owns the one line that says what a manual exit did to a trade (closed at what price and PnL, or
// why not), in the engine's answer, `ctb exit` and Slack alike.
import type { ManualExitOutcome } from '../engine/manual-exit.js';

export function describeExit(r: ManualExitOutcome): string {
  if (r.status === 'closed') return `#${r.tradeId} closed: ${r.message}${r.exitPrice ? ` at ${r.exitPrice}` : ''}${r.realizedPnl ? `, realised ${r.realizedPnl}` : ''}`;
  return `#${r.tradeId} not closed: ${r.message}`;
}
