// Owns the engine's write of the go-live gate policy when it takes the engine lease: retried until
// it is written, and the engine does not start before it is — an engine running with a policy the
// gate does not know would let audits be judged by another engine's thresholds and limits. The first
// failure raises an alert so the operator sees why the engine is not trading; the retry goes on
// (doubling up to a minute) until the write lands or the engine is stopped.
import type { AlertSink } from '../../alerts/types.js';
import type { Clock } from '../../clock.js';
import type { Config } from '../../config/env.js';
import type { Db } from '../../db/client.js';
import type { Logger } from '../../logger.js';
import type { ReleaseInfo } from '../release/version.js';
import { recordGatePolicy, type GatePolicy } from './gate-policy.js';

export interface RecordUntilWrittenDeps {
  db: Db;
  config: Config;
  clock: Clock;
  logger: Logger;
  alerts: Pick<AlertSink, 'raise' | 'resolve'>;
}

export interface RecordUntilWrittenOptions {
  by: string;
  strategies: { file: string; sha256: string };
  /** The release the engine runs (read from its own build when not given). */
  release?: ReleaseInfo;
  /** Stops the retry (the engine is stopping): resolves null. */
  signal: AbortSignal;
  /** The first wait between attempts (default 1 s), doubled up to `maxRetryMs` (default 60 s). */
  retryMs?: number;
  maxRetryMs?: number;
  /** The write (tests replace it). */
  record?: typeof recordGatePolicy;
}

export const GATE_POLICY_UNRECORDED = 'gate-policy-unrecorded';

/** Resolves after `ms`, or at once when the engine stops, including if it stopped before the wait began. */
function wait(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

export async function recordGatePolicyUntilWritten(ctx: RecordUntilWrittenDeps, opts: RecordUntilWrittenOptions): Promise<GatePolicy | null> {
  const record = opts.record ?? recordGatePolicy;
  let delay = opts.retryMs ?? 1_000;
  for (let attempt = 1; !opts.signal.aborted; attempt += 1) {
    try {
      const policy = await record(ctx.db, { config: ctx.config, strategies: opts.strategies, ...(opts.release ? { release: opts.release } : {}), by: opts.by, at: ctx.clock.now() });
      if (attempt > 1) {
        await ctx.alerts.resolve?.({ fingerprint: GATE_POLICY_UNRECORDED, by: 'system:engine', note: `the go-live gate policy was recorded at attempt ${attempt}` })
          .catch((err: unknown) => ctx.logger.error({ err }, 'could not resolve the gate-policy alert'));
      }
      return policy;
    } catch (err) {
      ctx.logger.error({ err, attempt }, `could not record the go-live gate policy (attempt ${attempt}): the engine waits and retries; until it is written it does not trade`);
      if (attempt === 1) {
        await ctx.alerts.raise({
          source: 'engine', severity: 'critical', fingerprint: GATE_POLICY_UNRECORDED,
          title: `The engine (${opts.by}) could not record its go-live gate policy: it does not trade until the write succeeds (retrying)`,
          details: { by: opts.by, error: err instanceof Error ? err.message : String(err), fix: 'Check the database the engine writes to (DATABASE_URL, its disk, its permissions); the engine retries on its own.' },
        }).catch((alertErr: unknown) => ctx.logger.error({ err: alertErr }, 'could not raise the gate-policy alert'));
      }
      await wait(delay, opts.signal);
      delay = Math.min(delay * 2, opts.maxRetryMs ?? 60_000);
    }
  }
  return null;
}
