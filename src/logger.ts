// Owns logging: stdout (readable lines on a terminal, JSON otherwise: LOG_FORMAT), a command's
// stderr (readable lines for the person who ran it, unless LOG_FORMAT=json), LOG_DIR/system.log
// (rotated below LOG_MAX_BYTES into timestamped archives, by the running bot only: src/log-file.ts)
// and LOG_DIR/anomalies.log (warn and above). Secrets never reach a line:
// known secret fields are redacted by path, Secret objects print [redacted], and every line is
// scrubbed of the configured secret values, token-shaped strings and URL passwords before it is
// written (src/secret-scrub.ts).
import { errSerializer } from './log-error.js';
import { briefStream } from './log-brief-line.js';
import { LogFile } from './log-file.js';
import type pino from 'pino';
import type { Logger, StreamEntry } from 'pino';
import { createRequire } from 'node:module';
import type { Config } from './config/env.js';
import { REDACTED } from './config/secret.js';
import { scrubberFor } from './secret-scrub.js';

export type { Logger } from 'pino';

let pinoModule: typeof pino | undefined;

/**
 * pino, required when a logger is first made. It is a CommonJS package of ~20 files that also loads
 * Node's worker_threads and assert (~10 ms of a cold start): a deferred logger (below) that never
 * writes never reads it.
 */
function loadPino(): typeof pino {
  pinoModule ??= createRequire(import.meta.url)('pino') as typeof pino;
  return pinoModule;
}

export const REDACT_PATHS = [
  'apiKey', 'secret', 'password', 'token', 'authorization',
  '*.apiKey', '*.secret', '*.password', '*.token', '*.authorization', '*.signature',
  '*.KRAKEN_API_KEY', '*.KRAKEN_API_SECRET', '*.SLACK_BOT_TOKEN', '*.SLACK_SIGNING_SECRET', '*.SLACK_APP_TOKEN', '*.SMTP_URL',
  'headers["api-key"]', 'headers["api-sign"]', 'headers.authorization', 'headers["x-slack-signature"]',
  '*.headers["api-key"]', '*.headers["api-sign"]', '*.headers.authorization', '*.headers["x-slack-signature"]',
];

export { configSecrets, makeScrubber } from './secret-scrub.js';

/**
 * Receives every line at error level or above, already redacted and scrubbed. The alert pipeline
 * attaches to it after the context exists (src/alerts/log-source.ts); until then lines pass by.
 */
export class ErrorLineTap {
  #listener: ((line: string) => void) | null = null;
  attach(listener: (line: string) => void): () => void {
    this.#listener = listener;
    return () => {
      if (this.#listener === listener) this.#listener = null;
    };
  }
  write(line: string): boolean {
    try {
      this.#listener?.(line);
    } catch {
      // A listener must never break logging.
    }
    return true;
  }
}

const errorTaps = new WeakMap<Logger, ErrorLineTap>();

/** The error-line tap of a logger made by createLogger (undefined for others, e.g. silentLogger). */
export function errorLineTap(logger: Logger): ErrorLineTap | undefined {
  return errorTaps.get(logger);
}

/** The longest line written; files rotate this far below LOG_MAX_BYTES, so none ever passes it. */
export function lineCapFor(maxBytes: number): number {
  return Math.min(16 * 1024, Math.floor(maxBytes / 4));
}

/** Replaces an over-long line (a huge object logged by mistake) with a short, valid JSON note. */
export function capLine(line: string, cap: number): string {
  if (line.length < cap / 4 || Buffer.byteLength(line) < cap) return line;
  const head = line.slice(0, Math.floor(cap / 8));
  return `${JSON.stringify({ level: 40, time: new Date().toISOString(), service: 'ctb', msg: 'log line truncated', bytes: Buffer.byteLength(line), head })}\n`;
}

/** Fields every line carries, that only the alert pipeline reads, or that the message says already (the start banner). */
const PRETTY_IGNORE = 'pid,hostname,service,alerted,alertPipeline,banner';

/**
 * How standard output is written: JSON for machines (a pipe, a process manager, a log shipper),
 * readable lines for a person at a terminal. LOG_FORMAT=pretty|json overrides the guess.
 */
export function stdoutFormat(format: Config['LOG_FORMAT'], stream: { isTTY?: boolean }): 'pretty' | 'json' {
  if (format !== 'auto') return format;
  return stream.isTTY === true ? 'pretty' : 'json';
}

/**
 * How a one-shot command's warnings are written on its stderr: for the person who ran it, wherever
 * they send it (`ctb … 2>err.txt` is read by a person too) — readable lines (log-brief-line.ts). On a
 * terminal always: LOG_FORMAT=json is for the bot's output and piped stderr, and a person at a terminal
 * never reads JSON (LOG_DIR's files keep it). Piped, JSON only when LOG_FORMAT=json asks for it.
 */
export function commandStderrFormat(format: Config['LOG_FORMAT'], stream: { isTTY?: boolean } = {}): 'pretty' | 'json' {
  if (stream.isTTY === true) return 'pretty';
  return format === 'json' ? 'json' : 'pretty';
}

let pinoPretty: typeof import('pino-pretty') | undefined;

/** pino-pretty and its ~50 files, loaded when a pretty stream is made: a command logging JSON never reads them. */
function loadPinoPretty(): typeof import('pino-pretty') {
  pinoPretty ??= createRequire(import.meta.url)('pino-pretty') as typeof import('pino-pretty');
  return pinoPretty;
}

/**
 * A stream that turns each (already redacted and scrubbed) JSON line into one readable line on
 * `target`: time, level, message, then the line's fields. Synchronous, so nothing is lost at exit.
 */
export function prettyStream(target: NodeJS.WritableStream, colorize?: boolean): NodeJS.WritableStream {
  const { isColorSupported, prettyFactory } = loadPinoPretty();
  colorize ??= isColorSupported && (target as { isTTY?: boolean }).isTTY === true;
  const options = {
    colorize, translateTime: 'SYS:HH:MM:ss', ignore: PRETTY_IGNORE, singleLine: true,
  };
  const withFields = prettyFactory(options);
  // A line with an `event` (order, fill, close, starting) says everything in its message: its
  // fields are for machines (JSON, LOG_DIR), so the terminal shows the sentence alone.
  const sentenceOnly = prettyFactory({ ...options, hideObject: true });
  return {
    write(line: string) {
      let out: string;
      try {
        out = (line.includes('"event":"') ? sentenceOnly : withFields)(line);
      } catch {
        out = line;
      }
      // pino-pretty leaves the end of line off when it hides the fields.
      return target.write(out.endsWith('\n') ? out : `${out}\n`);
    },
  } as unknown as NodeJS.WritableStream;
}

/** A command's stderr: briefStream, colours only on a terminal that takes them (NO_COLOR, FORCE_COLOR). */
function commandStderrStream(target: NodeJS.WritableStream & { isTTY?: boolean }): NodeJS.WritableStream {
  // picocolors read when a line is first written: a command that logs nothing never loads it.
  let brief: NodeJS.WritableStream | undefined;
  const colour = () => target.isTTY === true && (createRequire(import.meta.url)('picocolors') as { isColorSupported: boolean }).isColorSupported;
  return { write: (line: string) => (brief ??= briefStream(target, colour())).write(line) } as unknown as NodeJS.WritableStream;
}

export interface LoggerOptions {
  config: Config;
  /**
   * Extra destination (tests capture output here; the CLI uses stderr): short readable lines on a
   * terminal, JSON otherwise (LOG_FORMAT overrides the guess, as for stdout).
   */
  destination?: NodeJS.WritableStream & { isTTY?: boolean };
  destinationLevel?: pino.Level;
  /** The destination is a command's stderr, read by a person: written as commandStderrFormat says. */
  destinationIsCommandStderr?: boolean;
  /** Write to stdout (default true). */
  stdout?: boolean;
  /** Where "stdout" goes (tests); its isTTY decides the format when LOG_FORMAT=auto. */
  stdoutStream?: NodeJS.WritableStream & { isTTY?: boolean };
  /** Write LOG_DIR files (default true). */
  files?: boolean;
  /**
   * Rotate the LOG_DIR files at LOG_MAX_BYTES (default false): only the running bot does, so a
   * command never moves the bot's log away. Every writer follows a rotation made elsewhere.
   */
  rotate?: boolean;
  /**
   * Make pino's logger when a line is first written or the logger first read (a one-shot command
   * that logs nothing never loads pino). The files are opened at once either way, and what is
   * written is the same.
   */
  deferred?: boolean;
}

export function createLogger(opts: LoggerOptions): Logger {
  const { config } = opts;
  const streams: StreamEntry[] = [];
  if (opts.stdout !== false) {
    const out = opts.stdoutStream ?? process.stdout;
    streams.push({ level: config.LOG_LEVEL, stream: stdoutFormat(config.LOG_FORMAT, out) === 'pretty' ? prettyStream(out) : out });
  }
  if (opts.destination) {
    const dest = opts.destination;
    if (opts.destinationIsCommandStderr) {
      const pretty = commandStderrFormat(config.LOG_FORMAT, dest) === 'pretty';
      streams.push({ level: opts.destinationLevel ?? 'trace', stream: pretty ? commandStderrStream(dest) : dest });
    } else {
      const pretty = stdoutFormat(config.LOG_FORMAT, dest) === 'pretty';
      streams.push({ level: opts.destinationLevel ?? 'trace', stream: pretty ? prettyStream(dest) : dest });
    }
  }
  const cap = lineCapFor(config.LOG_MAX_BYTES);
  if (opts.files !== false) {
    const file = (base: string) =>
      new LogFile({
        dir: config.LOG_DIR, base, rotate: opts.rotate === true, archives: config.LOG_ARCHIVES,
        // Rotated after the write that reaches this: leave room for one (capped) line.
        rotateAtBytes: config.LOG_MAX_BYTES - cap,
      }) as unknown as NodeJS.WritableStream;
    // A LOG_DIR that cannot be made or opened (read-only, a file in its path) costs the log files, never
    // the command: `ctb kill` run from a directory it cannot write must still cancel. Said once, on stderr.
    try {
      const system = file('system');
      const anomalies = file('anomalies');
      streams.push({ level: config.LOG_LEVEL, stream: system });
      streams.push({ level: 'warn', stream: anomalies });
    } catch (err) {
      process.stderr.write(`ctb: cannot write log files in LOG_DIR ${config.LOG_DIR} (${(err as Error).message}): logging to the console only; set LOG_DIR to a writable directory\n`);
    }
  }
  const tap = new ErrorLineTap();
  streams.push({ level: 'error', stream: tap as unknown as NodeJS.WritableStream });
  const scrub = scrubberFor(config);
  const make = (): Logger => {
    const pino = loadPino();
    const lowest = streams.reduce((min, s) => Math.min(min, pino.levels.values[s.level as string] ?? 30), 60);
    return pino(
      {
        level: pino.levels.labels[lowest] ?? 'info',
        base: { service: 'ctb' },
        redact: { paths: REDACT_PATHS, censor: REDACTED },
        timestamp: pino.stdTimeFunctions.isoTime,
        serializers: { err: errSerializer(pino.stdSerializers.err) },
        hooks: { streamWrite: (line) => capLine(scrub(line), cap) },
      },
      pino.multistream(streams, { dedupe: false }),
    );
  };
  const logger = opts.deferred ? deferredLogger(make) : make();
  errorTaps.set(logger, tap);
  return logger;
}

/**
 * A logger that is `make()` from its first use on: any property read, write or call makes it (and
 * is then answered by it), except `child()` before that, which gives a child deferred the same way
 * — contexts make their children at start, most one-shot commands never write a line.
 */
function deferredLogger(make: () => Logger): Logger {
  // `real ??= make()` written out, not a named arrow: one is made per Slack request (childOnFirstUse),
  // and the build keeps function names (esbuild keepNames), which redefines `name` on each named
  // arrow as it is made — a runtime call, and a dictionary-mode function, ~0.6 µs a time here.
  let real: Logger | undefined;
  return new Proxy(Object.create(null) as Logger, {
    get(_target, prop) {
      if (prop === 'child' && real === undefined) {
        return (bindings: pino.Bindings, options?: pino.ChildLoggerOptions<never>) => deferredLogger(() => (real ??= make()).child<never>(bindings, options));
      }
      const logger = (real ??= make());
      const value: unknown = Reflect.get(logger, prop, logger);
      // pino's methods read their logger as `this` (and a level change replaces them: bind each read).
      return typeof value === 'function' ? value.bind(logger) : value;
    },
    set(_target, prop, value) {
      const logger = (real ??= make());
      return Reflect.set(logger, prop, value, logger);
    },
    has(_target, prop) {
      return Reflect.has((real ??= make()), prop);
    },
  });
}

/**
 * A child of `parent` made on its first use, as a deferred logger makes itself: the logger of one
 * Slack request, whose bindings pino would otherwise serialize (and run through redaction) for every
 * request, though most requests never write a line. What it writes is what `parent.child` writes.
 */
export function childOnFirstUse(parent: Logger, bindings: pino.Bindings): Logger {
  return deferredLogger(() => parent.child(bindings));
}

/** A logger that writes nowhere: for commands run inside tests that don't assert on logs. */
export function silentLogger(): Logger {
  return loadPino()({ level: 'silent' });
}
