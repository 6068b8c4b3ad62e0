// Owns the engine's side of the go-live log checks: the process holding the engine lease scans its
// own LOG_DIR (unhandled errors in the last LOG_CHECK_WINDOW, and the rotation facts) and publishes
// what it found, with when and by whom, to the database — at once, then every
// ENGINE_LOG_SCAN_EVERY_MS. An audit in any process judges that record (checks/logs.ts,
// checks/logging.ts) rather than whatever directory its own LOG_DIR names on its own host.
import { resolve } from 'node:path';
import type { Clock } from '../../clock.js';
import type { Config } from '../../config/env.js';
import type { Db } from '../../db/client.js';
import { setEngineLogScan } from '../../db/queries/golive-policy.js';
import { ENGINE_LOG_SCAN_EVERY_MS, type EngineLogScan } from '../../domain/engine-log-scan.js';
import type { Logger } from '../../logger.js';
import { readRotationFacts } from './rotation-facts.js';
import { scanLogs } from './scan-logs.js';

/** The findings named in a published scan (the audit names at most this many). */
const FINDINGS_NAMED = 3;

export async function scanOwnLogs(config: Pick<Config, 'LOG_DIR' | 'LOG_CHECK_WINDOW' | 'LOG_MAX_BYTES'>, at: Date, by: string): Promise<EngineLogScan> {
  const logDir = resolve(config.LOG_DIR);
  const [scan, rotation] = await Promise.all([
    scanLogs({ logDir, now: at, windowMs: config.LOG_CHECK_WINDOW, limit: FINDINGS_NAMED }),
    readRotationFacts(logDir, config.LOG_MAX_BYTES),
  ]);
  return { by, at: at.toISOString(), logDir, windowMs: config.LOG_CHECK_WINDOW, scan, rotation };
}

export interface LogScanPublisher {
  stop(): Promise<void>;
}

/** Publishes now and every `everyMs` until stopped; a failed publish is logged, and the audit then sees the record age. */
export function startLogScanPublisher(
  ctx: { db: Db; config: Config; clock: Clock; logger: Logger }, by: string, everyMs = ENGINE_LOG_SCAN_EVERY_MS,
): LogScanPublisher {
  let running: Promise<void> = Promise.resolve();
  let stopped = false;
  const publish = async () => {
    try {
      const facts = await scanOwnLogs(ctx.config, ctx.clock.now(), by);
      if (stopped) return;
      if (await setEngineLogScan(ctx.db, facts)) ctx.logger.info({ logDir: facts.logDir, total: facts.scan.total }, `engine log scan published: ${facts.scan.summary}`);
      else ctx.logger.error('could not publish the engine log scan: no go-live gate policy row to hold it (the audit reports the log checks not judged)');
    } catch (err) {
      ctx.logger.error({ err }, 'could not publish the engine log scan: the go-live audit reports the log checks not judged once the last one is too old');
    }
  };
  const tick = () => {
    running = running.then(publish);
  };
  tick();
  const timer = setInterval(tick, everyMs);
  timer.unref();
  return {
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running;
    },
  };
}
