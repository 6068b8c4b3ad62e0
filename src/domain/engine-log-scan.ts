// What the engine's process found in its own LOG_DIR, as it publishes it to the database for the
// go-live audit's log checks (logs.unhandled_errors, logging.rotation): the audit runs in any process,
// on any host, and only the engine can read the engine's logs.
import type { LogFinding, LogWarning } from './log-finding.js';

export interface LogRotationFacts {
  rotateAtBytes: number;
  /** Current system.log / anomalies.log sizes in bytes; null: absent. */
  sizes: Record<string, number | null>;
  archives: number;
  newestArchive: string | null;
  /** A `<base>.history` marker is left: the logs have rotated at least once. */
  rotated: boolean;
}

export interface EngineLogScan {
  /** The engine's process: host:pid (role). */
  by: string;
  /** When it scanned (ISO). */
  at: string;
  /** The LOG_DIR it scanned (absolute). */
  logDir: string;
  /** How far back from `at` it looked (its LOG_CHECK_WINDOW). */
  windowMs: number;
  scan: {
    ok: boolean; from: string; to: string; window: string; summary: string; total: number;
    files: Array<{ file: string; lines: number; inWindow: number; malformed: number }>;
    findings: LogFinding[];
    warnings: LogWarning[];
  };
  rotation: LogRotationFacts;
}

/** How often the engine's process scans its LOG_DIR and publishes what it found. */
export const ENGINE_LOG_SCAN_EVERY_MS = 5 * 60_000;
/** A published scan older than this is not judged: the engine has stopped publishing (stopped, or failing). */
export const ENGINE_LOG_SCAN_MAX_AGE_MS = 3 * ENGINE_LOG_SCAN_EVERY_MS;
