// Owns what one unhandled error found in the logs is, and the line that names it (`ctb check-logs`,
// the go-live audit).
import type { UnhandledEvent } from '../services/logcheck/markers.js';

export interface LogFinding {
  file: string;
  line: number;
  time: string;
  level: number;
  kind: UnhandledEvent | 'fatal' | 'error';
  msg: string;
  /** The error's type and message when the line carries a serialized `err`. */
  error?: string;
}

export function describeFinding(f: LogFinding): string {
  const what = f.kind === 'uncaughtException' || f.kind === 'unhandledRejection' ? f.kind : `level ${f.level}`;
  return `${f.time} ${f.file}:${f.line} [${what}] ${f.msg}${f.error && !f.msg.includes(f.error) ? ` (${f.error})` : ''}`;
}
