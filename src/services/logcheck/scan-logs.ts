// Owns the go-live look at the logs: reads LOG_DIR/system.log and anomalies.log (pino JSON lines,
// plus rotated archives that may hold recent lines) and finds unhandled errors within a recent
// window — lines at error level or above, and the uncaughtException / unhandledRejection markers.
// Lines in both files (anomalies.log repeats warn+) are counted once.
import { createReadStream, existsSync } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { formatDuration } from '../../config/duration.js';
import { describeFinding, type LogFinding } from '../../domain/log-finding.js';
import { ERROR_LEVEL, UNHANDLED_EVENTS, UNHANDLED_TEXT, type UnhandledEvent } from './markers.js';

export type { LogFinding };

export const LOG_FILES = ['system.log', 'anomalies.log'] as const;

export interface LogScanResult {
  ok: boolean;
  from: string;
  to: string;
  window: string;
  files: Array<{ file: string; lines: number; inWindow: number; malformed: number }>;
  /** The first findings in time order (at most `limit`). */
  findings: LogFinding[];
  total: number;
  summary: string;
}

export interface ScanOptions {
  logDir: string;
  now: Date;
  windowMs: number;
  /** How many findings to name (default 5). */
  limit?: number;
}

interface PinoLine {
  level?: unknown;
  time?: unknown;
  msg?: unknown;
  event?: unknown;
  unhandled?: unknown;
  alerted?: unknown;
  err?: { type?: unknown; message?: unknown };
  pid?: unknown;
}

function timeOf(value: unknown): Date | null {
  const d = typeof value === 'number' || typeof value === 'string' ? new Date(value) : null;
  return d && !Number.isNaN(d.getTime()) ? d : null;
}

function classify(entry: PinoLine): LogFinding['kind'] | null {
  if (typeof entry.event === 'string' && (UNHANDLED_EVENTS as readonly string[]).includes(entry.event)) return entry.event as UnhandledEvent;
  const msg = typeof entry.msg === 'string' ? entry.msg : '';
  const marker = UNHANDLED_TEXT.exec(msg)?.[0]?.toLowerCase().replace(/\s/g, '');
  if (marker) return marker.startsWith('uncaught') ? 'uncaughtException' : 'unhandledRejection';
  // An error the code handled and raised its own alert for (ALERTED, src/alerts/log-source.ts) is
  // not unhandled: its alert group carries it. Unhandled events stay findings even when alerted.
  if (entry.alerted === true) return null;
  const level = typeof entry.level === 'number' ? entry.level : 0;
  if (level >= 60) return 'fatal';
  if (level >= ERROR_LEVEL) return 'error';
  return null;
}

async function candidateFiles(logDir: string, from: Date): Promise<string[]> {
  const files: string[] = LOG_FILES.filter((f) => existsSync(join(logDir, f)));
  const archive = join(logDir, 'archive');
  if (existsSync(archive)) {
    for (const name of (await readdir(archive)).sort()) {
      if (!name.endsWith('.log')) continue;
      // An archive last written before the window cannot hold a line inside it.
      if ((await stat(join(archive, name))).mtimeMs >= from.getTime()) files.push(`archive/${name}`);
    }
  }
  return files;
}

export async function scanLogs(opts: ScanOptions): Promise<LogScanResult> {
  const limit = opts.limit ?? 5;
  const from = new Date(opts.now.getTime() - opts.windowMs);
  const seen = new Set<string>();
  const found: LogFinding[] = [];
  const files: LogScanResult['files'] = [];
  for (const file of await candidateFiles(opts.logDir, from)) {
    const stats = { file, lines: 0, inWindow: 0, malformed: 0 };
    const lines = createInterface({ input: createReadStream(join(opts.logDir, file), 'utf8'), crlfDelay: Infinity });
    for await (const text of lines) {
      stats.lines += 1;
      if (text.trim() === '') continue;
      let entry: PinoLine;
      try {
        entry = JSON.parse(text) as PinoLine;
      } catch {
        stats.malformed += 1;
        continue;
      }
      const at = timeOf(entry?.time);
      if (!at) {
        stats.malformed += 1;
        continue;
      }
      if (at < from || at > opts.now) continue;
      stats.inWindow += 1;
      const kind = classify(entry);
      if (!kind) continue;
      const msg = typeof entry.msg === 'string' ? entry.msg : '(no message)';
      const key = `${at.toISOString()}|${String(entry.pid)}|${msg}`;
      if (seen.has(key)) continue;
      seen.add(key);
      const error = entry.err && typeof entry.err.message === 'string' ? `${String(entry.err.type ?? 'Error')}: ${entry.err.message}` : undefined;
      found.push({ file, line: stats.lines, time: at.toISOString(), level: typeof entry.level === 'number' ? entry.level : 0, kind, msg, ...(error ? { error } : {}) });
    }
    files.push(stats);
  }
  found.sort((a, b) => a.time.localeCompare(b.time));
  const window = formatDuration(opts.windowMs);
  const findings = found.slice(0, limit);
  return {
    ok: found.length === 0,
    from: from.toISOString(),
    to: opts.now.toISOString(),
    window,
    files,
    findings,
    total: found.length,
    summary: summarize(found, findings, window, files.length),
  };
}

function summarize(all: LogFinding[], named: LogFinding[], window: string, fileCount: number): string {
  if (fileCount === 0) return `no log files found to read (LOG_DIR holds no system.log or anomalies.log)`;
  if (all.length === 0) return `no unhandled errors in the last ${window} (${fileCount} log file${fileCount === 1 ? '' : 's'} read)`;
  const more = all.length > named.length ? `; and ${all.length - named.length} more` : '';
  return `${all.length} unhandled error${all.length === 1 ? '' : 's'} in the last ${window}: ${named.map(describeFinding).join('; ')}${more}`;
}
