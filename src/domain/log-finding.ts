// Owns what one unhandled error found in the logs is, and the line that names it (`ctb check-logs`,
// the go-live audit); and the same for what the log check could not judge (its warnings).
import type { UnhandledEvent } from '../services/logcheck/markers.js';

export interface LogFinding {
  file: string;
  line: number;
  /** null: the line has no time (not pino JSON); it was not shown to be older than the window. */
  time: string | null;
  level: number;
  kind: UnhandledEvent | 'fatal' | 'error';
  msg: string;
  /** The error's type and message when the line carries a serialized `err`. */
  error?: string;
}

export function describeFinding(f: LogFinding): string {
  const what = f.kind === 'uncaughtException' || f.kind === 'unhandledRejection' ? f.kind : `level ${f.level}`;
  return `${f.time ?? '(no time)'} ${f.file}:${f.line} [${what}] ${f.msg}${f.error && !f.msg.includes(f.error) ? ` (${f.error})` : ''}`;
}

/** Lines the check could not rule out: `unreadable` (not pino JSON with a time), `program_error` (TypeError… below error level). */
export interface LogWarning {
  kind: 'unreadable' | 'program_error';
  total: number;
  /** The first few, as file:line. */
  at: string[];
}

/** A warning as an operator reads it: how many, and where the first few are. */
export function describeLogWarning(w: LogWarning): string {
  const where = `${w.at.join(', ')}${w.total > w.at.length ? ` and ${w.total - w.at.length} more` : ''}`;
  return w.kind === 'unreadable'
    ? `${w.total} unreadable line${w.total === 1 ? '' : 's'} (not pino JSON with a time: searched only for an uncaught/unhandled marker) at ${where}`
    : `${w.total} line${w.total === 1 ? '' : 's'} below error level carr${w.total === 1 ? 'ies' : 'y'} a program error (TypeError, ReferenceError, SyntaxError or RangeError) at ${where}`;
}
