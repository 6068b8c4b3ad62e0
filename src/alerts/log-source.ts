// Owns the "log lines at error level or above" alert source: every error/fatal line (already
// redacted and scrubbed by the logger) becomes an alert, grouped by its message with numbers
// masked, so "order 123 failed" and "order 456 failed" share a thread. Loop guards: lines logged
// by the alert pipeline itself carry alertPipeline=true and are skipped (a broken pipeline logs
// errors — those must not become alerts about themselves, forever); lines logged while this source
// is raising are skipped; and at most MAX_IN_FLIGHT raises run at once — beyond that, repeats are
// counted per fingerprint and raised once with the count when there is room.
// One alert per event: code that raises its own alert for an event and also logs it at error level
// marks that line with ALERTED, and this source lets it be (else one risk breach posted a critical
// alert and a second, warning alert from its own log line).
import { errorLineTap, type Logger } from '../logger.js';
import type { AlertSink } from './types.js';

const MAX_IN_FLIGHT = 50;

/** Log fields for an error line whose event already has its own alert: `logger.error({ ...ALERTED, … }, msg)`. */
export const ALERTED = { alerted: true } as const;

interface LogLine {
  level?: number;
  msg?: string;
  alertPipeline?: boolean;
  alerted?: boolean;
  component?: string;
  module?: string;
  job?: string;
  err?: { type?: string; message?: string; code?: string };
}

export function logLineFingerprint(msg: string): string {
  return `log:${msg.replace(/\d+(\.\d+)?/g, '#').replace(/\s+/g, ' ').trim().slice(0, 160)}`;
}

/** Starts turning the logger's error lines into alerts. Returns a function that stops it. */
export function attachLogAlerts(logger: Logger, sink: AlertSink): () => void {
  const tap = errorLineTap(logger);
  if (!tap) return () => {};
  let inFlight = 0;
  let raising = false;
  const backlog = new Map<string, { line: LogLine; count: number }>();

  const raise = (line: LogLine, repeats: number) => {
    const msg = line.msg || line.err?.message || 'error logged';
    inFlight += 1;
    raising = true;
    const pending = sink.raise({
      source: 'log',
      severity: (line.level ?? 50) >= 60 ? 'critical' : 'warning',
      title: `log: ${msg}`,
      fingerprint: logLineFingerprint(msg),
      details: {
        level: (line.level ?? 50) >= 60 ? 'fatal' : 'error',
        ...(line.component ? { component: line.component } : {}),
        ...(line.module ? { module: line.module } : {}),
        ...(line.job ? { job: line.job } : {}),
        ...(line.err ? { error: `${line.err.type ?? 'Error'}: ${line.err.message ?? ''}`.slice(0, 500) } : {}),
        ...(repeats > 1 ? { coalescedLines: repeats } : {}),
      },
    });
    raising = false;
    void pending.catch(() => {}).finally(() => {
      inFlight -= 1;
      const next = backlog.entries().next();
      if (!next.done) {
        backlog.delete(next.value[0]);
        raise(next.value[1].line, next.value[1].count);
      }
    });
  };

  return tap.attach((text) => {
    if (raising) return;
    let line: LogLine;
    try {
      line = JSON.parse(text) as LogLine;
    } catch {
      return;
    }
    if (line.alertPipeline || line.alerted) return;
    if (inFlight >= MAX_IN_FLIGHT) {
      const key = logLineFingerprint(line.msg ?? '');
      const entry = backlog.get(key);
      if (entry) entry.count += 1;
      else backlog.set(key, { line, count: 1 });
      return;
    }
    raise(line, 1);
  });
}
