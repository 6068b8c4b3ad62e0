// Owns the "still working" line on the terminal: a spinner with the elapsed seconds on stderr while
// something slow runs (`ctb audit`, `ctb stats`). Only when stderr is a terminal and --json is off;
// it appears after a short delay so quick answers do not flicker, and erases itself before the
// result is printed. Nothing is written to stdout.
import type { CliIo } from './io.js';

const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

export interface SpinnerOptions {
  /** ms before the first frame (default 300). */
  delayMs?: number;
  /** ms between frames (default 100). */
  intervalMs?: number;
  now?: () => number;
}

export interface Spinner {
  /** Changes the text after the spinner ("check 12 of 40: credentials.leak_scan"). */
  update(text: string): void;
  stop(): void;
}

export function startSpinner(io: CliIo, text: string, opts: SpinnerOptions = {}): Spinner {
  const stream = io.stderr;
  if (!stream.isTTY || io.env.TERM === 'dumb') return { update() {}, stop() {} };
  const now = opts.now ?? Date.now;
  const started = now();
  let label = text;
  let frame = 0;
  let shown = false;
  const draw = () => {
    shown = true;
    const seconds = ((now() - started) / 1000).toFixed(1);
    raw(`\r\x1b[2K${FRAMES[frame++ % FRAMES.length]} ${label} ${seconds}s`);
  };
  // Anything else written to the stream while the spinner shows (a log line, a rate-limit note)
  // first erases the spinner's line, so it lands on a line of its own; the next frame draws below.
  const own = Object.prototype.hasOwnProperty.call(stream, 'write');
  const write = stream.write;
  const raw = (text: string) => write.call(stream, text);
  stream.write = (...args: Parameters<typeof write>) => {
    if (shown) raw('\r\x1b[2K');
    shown = false;
    return write.apply(stream, args);
  };
  let timer: NodeJS.Timeout | undefined;
  const delay = setTimeout(() => {
    draw();
    timer = setInterval(draw, opts.intervalMs ?? 100);
    timer.unref();
  }, opts.delayMs ?? 300);
  delay.unref();
  return {
    update(next) {
      label = next;
    },
    stop() {
      clearTimeout(delay);
      if (timer) clearInterval(timer);
      if (shown) raw('\r\x1b[2K');
      shown = false;
      if (own) stream.write = write;
      else delete (stream as { write?: unknown }).write;
    },
  };
}

/** Runs `fn` with a spinner (when the terminal allows one), stopping it however `fn` ends. */
export async function withSpinner<T>(io: CliIo, text: string, json: boolean, fn: (spinner: Spinner) => Promise<T>): Promise<T> {
  const spinner = json ? { update() {}, stop() {} } : startSpinner(io, text);
  try {
    return await fn(spinner);
  } finally {
    spinner.stop();
  }
}
