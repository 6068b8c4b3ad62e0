// Owns what happens to an error nobody caught. Both kinds are logged with a recognisable marker
// ({event: 'uncaughtException' | 'unhandledRejection', unhandled: true}) that the go-live log check
// looks for; what follows differs:
// - An unhandled rejection is a promise nobody awaited that failed: its async function unwound
//   normally, no synchronous step was cut in half, and the event loop is intact. The process keeps
//   serving (a kill must still be answered), and an alert is raised so a person looks at the bug.
// - An uncaught exception unwound a synchronous stack at an unknown point — a lock may be held, an
//   in-memory structure half-updated — so the process cannot be trusted: the bot is stopped
//   (features, database) and the process exits 1 for its manager to restart it; a halted engine
//   stays halted across the restart and orders in flight are resolved at start.
import { ALERTED } from '../alerts/log-source.js';
import type { AlertSink } from '../alerts/types.js';
import type { Logger } from '../logger.js';
import { UNHANDLED_MESSAGE, type UnhandledEvent } from '../services/logcheck/markers.js';

export interface CrashHandlerOptions {
  logger: Logger;
  /** Called once after an uncaught exception is logged: stop the bot and exit. */
  onFatal: (event: UnhandledEvent) => void | Promise<void>;
  /** Where an unhandled rejection is raised as an alert (the running bot's sink, once it has one). */
  alerts?: () => AlertSink | undefined;
  /** The process to listen on (tests pass an EventEmitter). */
  proc?: Pick<NodeJS.Process, 'on' | 'off'>;
}

function asError(reason: unknown): Error {
  if (reason instanceof Error) return reason;
  const err = new Error(typeof reason === 'string' ? reason : `non-Error rejection: ${safeString(reason)}`);
  err.name = 'NonErrorRejection';
  return err;
}

function safeString(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

/** Installs the handlers; returns a function that removes them. */
export function installCrashHandlers(opts: CrashHandlerOptions): () => void {
  const proc = opts.proc ?? process;
  let fatalStarted = false;
  const onException = (reason: unknown, origin?: string) => {
    const err = asError(reason);
    opts.logger.fatal({ event: 'uncaughtException', unhandled: true, err, ...(origin ? { origin } : {}) }, `${UNHANDLED_MESSAGE.uncaughtException}: ${err.message}`);
    if (fatalStarted) return;
    fatalStarted = true;
    Promise.resolve()
      .then(() => opts.onFatal('uncaughtException'))
      .catch((stopErr: unknown) => opts.logger.error({ err: stopErr }, 'could not stop cleanly after an uncaught exception'));
  };
  const onRejection = (reason: unknown) => {
    const err = asError(reason);
    const sink = opts.alerts?.();
    // With a sink the alert below is this event's one alert (the log-line source lets the line be).
    opts.logger.error({ event: 'unhandledRejection', unhandled: true, err, ...(sink ? ALERTED : {}) }, `${UNHANDLED_MESSAGE.unhandledRejection}: ${err.message} (the process keeps running)`);
    if (!sink) return;
    sink.raise({
      source: 'system',
      severity: 'warning',
      title: `Unhandled rejection (a bug; the bot kept running): ${err.message.split('\n')[0]!.slice(0, 200)}`,
      fingerprint: `unhandled-rejection:${err.name}:${err.message.split('\n')[0]!.replace(/\d+/g, '#').slice(0, 120)}`,
      details: { error: err, stack: err.stack?.split('\n').slice(0, 8).join('\n') },
    }).catch((alertErr: unknown) => opts.logger.warn({ err: alertErr }, 'could not raise the unhandled-rejection alert'));
  };
  proc.on('uncaughtException', onException);
  proc.on('unhandledRejection', onRejection);
  return () => {
    proc.off('uncaughtException', onException);
    proc.off('unhandledRejection', onRejection);
  };
}
