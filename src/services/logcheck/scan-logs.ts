// Owns the go-live look at the logs: reads LOG_DIR/system.log and anomalies.log (pino JSON lines,
// plus rotated archives that may hold recent lines) and finds unhandled errors within a recent
// window — lines at error level or above, and the uncaughtException / unhandledRejection markers
// anywhere in a line, readable or not. Lines in both files (anomalies.log repeats warn+) are counted
// once. What it cannot judge it says: lines that are not pino JSON with a time (Node's own crash
// output, say) and program errors (TypeError…) logged below error level are warnings, with where.
// A line without a time is placed by the next line that has one: before the window if that line is.
import { createReadStream, existsSync } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { formatDuration } from '../../config/duration.js';
import { describeFinding, type LogFinding, type LogWarning } from '../../domain/log-finding.js';
import { ERROR_LEVEL, PROGRAM_ERROR_TYPES, UNHANDLED_EVENTS, UNHANDLED_TEXT, type UnhandledEvent } from './markers.js';

export type { LogFinding, LogWarning };

export const LOG_FILES = ['system.log', 'anomalies.log'] as const;

export interface LogScanResult {
  ok: boolean;
  from: string;
  to: string;
  window: string;
  files: Array<{ file: string; lines: number; inWindow: number; malformed: number }>;
  /** The first findings in time order (at most `limit`); those without a time last. */
  findings: LogFinding[];
  total: number;
  /** What could not be judged or is worth reading though not a failure; empty when nothing. */
  warnings: LogWarning[];
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

/** The unhandled-error marker in a line's text (any field of a JSON line), if any. */
function markerIn(text: string): UnhandledEvent | null {
  const marker = UNHANDLED_TEXT.exec(text)?.[0];
  if (!marker) return null;
  return marker.toLowerCase().startsWith('uncaught') ? 'uncaughtException' : 'unhandledRejection';
}

function classify(entry: PinoLine, text: string): LogFinding['kind'] | null {
  if (typeof entry.event === 'string' && (UNHANDLED_EVENTS as readonly string[]).includes(entry.event)) return entry.event as UnhandledEvent;
  const marker = markerIn(text);
  if (marker) return marker;
  // An error the code handled and raised its own alert for (ALERTED, src/alerts/log-source.ts) is
  // not unhandled: its alert group carries it. Unhandled events stay findings even when alerted.
  if (entry.alerted === true) return null;
  const level = typeof entry.level === 'number' ? entry.level : 0;
  if (level >= 60) return 'fatal';
  if (level >= ERROR_LEVEL) return 'error';
  return null;
}

/** A bug's error type logged below error level. Node's fetch reports a network failure as "TypeError: fetch failed": not a bug. */
function isProgramError(entry: PinoLine): boolean {
  const type = entry.err?.type;
  return typeof type === 'string' && (PROGRAM_ERROR_TYPES as readonly string[]).includes(type) && entry.err?.message !== 'fetch failed';
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
  const unreadable: string[] = [];
  const programErrors: string[] = [];
  for (const file of await candidateFiles(opts.logDir, from)) {
    const stats = { file, lines: 0, inWindow: 0, malformed: 0 };
    // Lines without a time, until a line with one says whether they were written before the window.
    let pending: Array<{ line: number; text: string }> = [];
    const settle = (before: boolean) => {
      if (!before) {
        for (const p of pending) {
          const kind = markerIn(p.text);
          if (kind) found.push({ file, line: p.line, time: null, level: 0, kind, msg: p.text.trim().slice(0, 200) });
          else unreadable.push(`${file}:${p.line}`);
        }
      }
      pending = [];
    };
    const lines = createInterface({ input: createReadStream(join(opts.logDir, file), 'utf8'), crlfDelay: Infinity });
    for await (const text of lines) {
      stats.lines += 1;
      if (text.trim() === '') continue;
      let entry: PinoLine | undefined;
      try {
        entry = JSON.parse(text) as PinoLine;
      } catch {
        entry = undefined;
      }
      const at = entry && typeof entry === 'object' ? timeOf(entry.time) : null;
      if (!entry || !at) {
        stats.malformed += 1;
        pending.push({ line: stats.lines, text });
        continue;
      }
      settle(at < from);
      if (at < from || at > opts.now) continue;
      stats.inWindow += 1;
      const kind = classify(entry, text);
      if (!kind) {
        if (isProgramError(entry)) programErrors.push(`${file}:${stats.lines}`);
        continue;
      }
      const msg = typeof entry.msg === 'string' ? entry.msg : '(no message)';
      const key = `${at.toISOString()}|${String(entry.pid)}|${msg}`;
      if (seen.has(key)) continue;
      seen.add(key);
      const error = entry.err && typeof entry.err.message === 'string' ? `${String(entry.err.type ?? 'Error')}: ${entry.err.message}` : undefined;
      found.push({ file, line: stats.lines, time: at.toISOString(), level: typeof entry.level === 'number' ? entry.level : 0, kind, msg, ...(error ? { error } : {}) });
    }
    settle(false); // nothing after them: they may be inside the window
    files.push(stats);
  }
  found.sort((a, b) => (a.time ?? '~').localeCompare(b.time ?? '~'));
  const window = formatDuration(opts.windowMs);
  const findings = found.slice(0, limit);
  const warnings: LogWarning[] = [
    ...(unreadable.length > 0 ? [{ kind: 'unreadable' as const, total: unreadable.length, at: unreadable.slice(0, limit) }] : []),
    ...(programErrors.length > 0 ? [{ kind: 'program_error' as const, total: programErrors.length, at: programErrors.slice(0, limit) }] : []),
  ];
  return {
    ok: found.length === 0,
    from: from.toISOString(),
    to: opts.now.toISOString(),
    window,
    files,
    findings,
    total: found.length,
    warnings,
    summary: summarize(found, findings, window, files.length),
  };
}


function summarize(all: LogFinding[], named: LogFinding[], window: string, fileCount: number): string {
  if (fileCount === 0) return `no log files found to read (LOG_DIR holds no system.log or anomalies.log)`;
  if (all.length === 0) return `no unhandled errors in the last ${window} (${fileCount} log file${fileCount === 1 ? '' : 's'} read)`;
  const more = all.length > named.length ? `; and ${all.length - named.length} more` : '';
  return `${all.length} unhandled error${all.length === 1 ? '' : 's'} in the last ${window}: ${named.map(describeFinding).join('; ')}${more}`;
}
