// Owns storing an alert with the transaction that decides it: a sink with an outbox stores it in that
// transaction (the row commits with the decision, and is counted only once committed); a sink without
// one (the log) is told after the commit, its failure logged, never undoing the decision.
import type { Db } from '../db/client.js';
import type { Logger } from '../logger.js';
import type { AlertInput, AlertSink } from './types.js';

/** Stores `alert` in `tx` when the sink can; returns what to run once `tx` has committed. */
export async function storeAlertWithin(sink: Pick<AlertSink, 'raise' | 'raiseWithin'>, logger: Logger, tx: Db, alert: AlertInput): Promise<() => Promise<void>> {
  if (sink.raiseWithin) {
    const stored = await sink.raiseWithin(tx, alert);
    return async () => stored();
  }
  return () => sink.raise(alert).then(() => undefined, (err: unknown) => logger.error({ err, alert: alert.fingerprint }, `could not raise the alert "${alert.title}"`));
}
