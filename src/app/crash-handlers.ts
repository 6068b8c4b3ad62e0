// Owns what happens to an error nobody caught: it is logged at fatal level with a recognisable
// marker ({event: 'uncaughtException' | 'unhandledRejection', unhandled: true}) that the go-live log
// check looks for, then the bot stops (features, database) and the process exits 1 — as Node would,
// because after an unknown failure the engine's in-memory state cannot be trusted. A process manager
// restarts it; a halted engine stays halted across the restart.
import type { Logger } from '../logger.js';
import { UNHANDLED_MESSAGE, type UnhandledEvent } from '../services/logcheck/markers.js';

export interface CrashHandlerOptions {
  logger: Logger;
  /** Called once after the line is logged: stop the bot and exit. */
  onFatal: (event: UnhandledEvent) => void | Promise<void>;
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
  const handle = (event: UnhandledEvent, reason: unknown, origin?: string) => {
    const err = asError(reason);
    opts.logger.fatal({ event, unhandled: true, err, ...(origin ? { origin } : {}) }, `${UNHANDLED_MESSAGE[event]}: ${err.message}`);
    if (fatalStarted) return;
    fatalStarted = true;
    Promise.resolve()
      .then(() => opts.onFatal(event))
      .catch((stopErr: unknown) => opts.logger.error({ err: stopErr }, 'could not stop cleanly after an unhandled error'));
  };
  const onException = (err: unknown, origin?: string) => handle('uncaughtException', err, origin);
  const onRejection = (reason: unknown) => handle('unhandledRejection', reason);
  proc.on('uncaughtException', onException);
  proc.on('unhandledRejection', onRejection);
  return () => {
    proc.off('uncaughtException', onException);
    proc.off('unhandledRejection', onRejection);
  };
}
