// Owns how /trades and `ctb trades` write the size of a position with an order in flight that has
// partly filled: an entry by what it filled of what it asked, a trade whose exit is on its way by
// what it still holds and what the exit sold (services/trades/in-flight.ts decides the figures).
import { trimmed } from './amount-text.js';

export interface SizedRow {
  quantity: string;
  inFlight: { purpose: 'entry' | 'exit'; ordered: string; filled: string } | null;
}

export function inFlightSize(t: SizedRow): string {
  if (!t.inFlight) return trimmed(t.quantity);
  if (t.inFlight.purpose === 'entry') return `${trimmed(t.quantity)} of ${trimmed(t.inFlight.ordered)}`;
  return `${trimmed(t.quantity)} (${trimmed(t.inFlight.filled)} of ${trimmed(t.inFlight.ordered)} sold)`;
}
