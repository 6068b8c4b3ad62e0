// Owns the one line that says what a manual exit did to a trade (closed at what price and PnL, or
// why not), in the engine's answer, `ctb exit` and Slack alike. The price and PnL read as `ctb trades`
// shows them (the trade row keeps every digit).
import type { ManualExitOutcome } from '../engine/manual-exit.js';
import { price, signedMoney } from './amount-text.js';

export function describeExit(r: ManualExitOutcome): string {
  if (r.status === 'closed') return `#${r.tradeId} closed: ${r.message}${r.exitPrice ? ` at ${price(r.exitPrice)}` : ''}${r.realizedPnl ? `, realised ${signedMoney(r.realizedPnl)}` : ''}`;
  return `#${r.tradeId} not closed: ${r.message}`;
}
