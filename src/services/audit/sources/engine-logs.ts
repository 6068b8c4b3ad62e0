// Owns what the audit's log checks (logs.unhandled_errors, logging.rotation) judge: the scan the
// engine's process published of its own LOG_DIR (services/logcheck/publish-log-scan.ts), saying
// whose it is and how old — never this process's LOG_DIR, which on a web replica or an operator's
// laptop is not the engine's even when the path is the same. Once an engine has recorded the gate
// policy, a missing, too old or too short scan is not judged: the check fails saying why and how to
// fix it. Before any engine recorded a policy (one process, or no engine yet), this process scans its own.
import { formatDuration } from '../../../config/duration.js';
import { golivePolicyRow } from '../../../db/queries/golive-policy.js';
import { ENGINE_LOG_SCAN_EVERY_MS, ENGINE_LOG_SCAN_MAX_AGE_MS, type EngineLogScan } from '../../../domain/engine-log-scan.js';
import { scanOwnLogs } from '../../logcheck/publish-log-scan.js';
import type { AuditContext } from '../types.js';

type Ctx = Pick<AuditContext, 'config' | 'db' | 'clock' | 'memo'> & { engineLimits?: AuditContext['engineLimits'] };

/** The scan both log checks judge, read once per audit: this process's own, or the engine's published one (null: none). */
const scanToJudge = (ctx: Ctx, now: Date): Promise<EngineLogScan | null> => ctx.memo('logs.scan', async () =>
  ctx.engineLimits ? (await golivePolicyRow(ctx.db))?.logScan ?? null : scanOwnLogs(ctx.config, now, 'this process'));

export type LogFacts =
  | { judged: true; facts: EngineLogScan; source: 'engine' | 'process'; from: string }
  | { judged: false; outcome: { status: 'fail'; value: string; fix: string; details: Record<string, unknown> } };

function age(ms: number): string {
  return ms < 60_000 ? 'under a minute' : formatDuration(Math.floor(ms / 60_000) * 60_000);
}

const notJudged = (value: string, fix: string, details: Record<string, unknown>): LogFacts => ({ judged: false, outcome: { status: 'fail', value: `not judged: ${value}`, fix, details } });

/**
 * The log facts a check judges. `windowMs`: the window the audit holds the logs to (LOG_CHECK_WINDOW
 * of the policy, or stricter); a published scan that looked back less is not judged.
 */
export async function logFactsToJudge(ctx: Ctx, opts: { windowMs?: number } = {}): Promise<LogFacts> {
  const now = ctx.clock.now();
  const facts = await scanToJudge(ctx, now);
  if (!ctx.engineLimits) {
    return { judged: true, facts: facts!, source: 'process', from: "this process's LOG_DIR (no engine has recorded a policy in this database yet)" };
  }
  const engine = `the engine's process ${ctx.engineLimits.recordedBy}`;
  const restart = `Start the engine (ctb start) on this version and leave it running: it scans its own LOG_DIR at start and every ${formatDuration(ENGINE_LOG_SCAN_EVERY_MS)} and publishes what it found; then run ctb audit again.`;
  if (!facts) {
    return notJudged(`${engine} has published no scan of its logs to the database (engines publish one since this version), and this process cannot read the engine's LOG_DIR`, restart, { engine: ctx.engineLimits.recordedBy });
  }
  const ageMs = now.getTime() - Date.parse(facts.at);
  const from = `the engine's process ${facts.by}, scanned ${facts.logDir} at ${facts.at}, ${age(Math.max(0, ageMs))} ago`;
  const details = { logDir: facts.logDir, scannedBy: facts.by, scannedAt: facts.at, ageMs };
  if (ageMs > ENGINE_LOG_SCAN_MAX_AGE_MS) {
    return notJudged(
      `the newest scan of the engine's logs is ${age(ageMs)} old (${from}); engines publish one every ${formatDuration(ENGINE_LOG_SCAN_EVERY_MS)}, so the engine is stopped or cannot publish`,
      `Check that the engine is running (ctb mode shows its process) and that its log says "engine log scan published"; restart it if not (ctb start). ${restart}`,
      details,
    );
  }
  if (opts.windowMs !== undefined && facts.windowMs < opts.windowMs) {
    return notJudged(
      `the engine's scan looked back ${formatDuration(facts.windowMs)} (its LOG_CHECK_WINDOW), the audit asks for ${formatDuration(opts.windowMs)} (${from})`,
      `Set LOG_CHECK_WINDOW=${formatDuration(opts.windowMs)} in the engine's environment and restart it (ctb start), or run the audit without a longer LOG_CHECK_WINDOW in this shell.`,
      details,
    );
  }
  return { judged: true, facts, source: 'engine', from };
}
