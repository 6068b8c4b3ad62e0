// Owns the head start of a kill in a fresh process (`ctb kill`): Kraken's CancelAll is sent before
// the database is even opened, and the kill's own first cancel-all is that very call — so the
// kill reports what Kraken answered to it instead of sending a second one and losing the count.
import type { Exchange } from '../../exchange/types.js';
import { urgently } from '../../exchange/urgency.js';

export function withEarlyCancel(inner: Exchange): Exchange {
  let early: Promise<{ canceled: number }> | null = urgently(() => inner.cancelAllOrders());
  // Consumed by the kill's first cancel; a failure is reported there (and retried by its next round).
  early.catch(() => {});
  return new Proxy(inner, {
    get(target, prop, receiver) {
      if (prop === 'cancelAllOrders') {
        return () => {
          const first = early;
          early = null;
          return first ?? target.cancelAllOrders();
        };
      }
      const value = Reflect.get(target, prop, receiver) as unknown;
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}
