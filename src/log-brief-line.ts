// Owns how a one-shot command's log line reads on its stderr: one line for the person who ran it —
// time, level, message, then its key fields as key=value (nested ones by their dotted path, a long list
// by its length, an error as its type and message), never pino's JSON. The whole line, with every
// field, is in LOG_DIR/system.log.

const LEVELS: Record<number, { name: string; colour: string }> = {
  10: { name: 'TRACE', colour: '\x1b[90m' },
  20: { name: 'DEBUG', colour: '\x1b[34m' },
  30: { name: 'INFO', colour: '\x1b[32m' },
  40: { name: 'WARN', colour: '\x1b[33m' },
  50: { name: 'ERROR', colour: '\x1b[31m' },
  60: { name: 'FATAL', colour: '\x1b[41m' },
};
const RESET = '\x1b[39m\x1b[49m';

/** Fields every line carries, that only the alert pipeline reads, or that the message says already. */
const SKIP = new Set(['level', 'time', 'msg', 'pid', 'hostname', 'service', 'alerted', 'alertPipeline', 'banner']);
const MAX_VALUE = 120;
const MAX_LIST = 4;
const MAX_DEPTH = 3;

/** C0 and C1 control characters and DEL: a terminal acts on them (ESC sequences, a title, a bell), so none goes out raw. */
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/g;

/** The text with every control character written as its \u escape (JSON.stringify leaves DEL and C1 raw). */
function escapeControls(text: string): string {
  return text.replace(CONTROL, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

function quoted(text: string): string {
  const short = text.length > MAX_VALUE ? `${text.slice(0, MAX_VALUE - 1)}…` : text;
  return /^[^\s="\u0000-\u001f\u007f-\u009f]+$/.test(short) ? short : escapeControls(JSON.stringify(short));
}

function scalar(value: unknown): string | null {
  if (typeof value === 'string') return quoted(value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return null;
}

function errorText(err: Record<string, unknown>): string {
  const type = typeof err.type === 'string' ? err.type : typeof err.name === 'string' ? err.name : 'Error';
  return quoted(`${type}: ${typeof err.message === 'string' ? err.message : ''}`.trim());
}

/** `key=value` pairs for `value` under `key`: nulls and empty lists say nothing, nested objects by path. */
function fields(key: string, value: unknown, depth: number, out: string[]): void {
  if (value === null || value === undefined) return;
  const one = scalar(value);
  if (one !== null) {
    out.push(`${key}=${one}`);
    return;
  }
  if (Array.isArray(value)) {
    if (value.length === 0) return;
    const items = value.map(scalar);
    if (value.length <= MAX_LIST && items.every((i) => i !== null)) out.push(`${key}=[${items.join(',')}]`);
    else out.push(`${key}=(${value.length} ${value.length === 1 ? 'item' : 'items'})`);
    return;
  }
  if (typeof value !== 'object') return;
  const record = value as Record<string, unknown>;
  if ((key === 'err' || key === 'error' || key.endsWith('.err')) && 'message' in record) {
    out.push(`${key}=${errorText(record)}`);
    return;
  }
  if (depth >= MAX_DEPTH) {
    out.push(`${key}={…}`);
    return;
  }
  for (const [k, v] of Object.entries(record)) fields(`${key}.${escapeControls(k)}`, v, depth + 1, out);
}

function clock(time: unknown): string {
  const at = typeof time === 'string' || typeof time === 'number' ? new Date(time) : new Date();
  const pad = (n: number) => String(n).padStart(2, '0');
  return Number.isNaN(at.getTime()) ? '' : `[${pad(at.getHours())}:${pad(at.getMinutes())}:${pad(at.getSeconds())}] `;
}

/**
 * The readable line (ending in a newline) for one JSON log line, or the line itself when it is not
 * JSON. A line with an `event` (order, fill, close) says everything in its message: the sentence alone.
 */
export function briefLine(json: string, colour: boolean): string {
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return json.endsWith('\n') ? json : `${json}\n`;
  }
  const level = LEVELS[Number(entry.level)] ?? { name: String(entry.level ?? 'LOG').toUpperCase(), colour: '' };
  const name = colour && level.colour ? `${level.colour}${level.name}${RESET}` : level.name;
  const out: string[] = [];
  if (typeof entry.event !== 'string') {
    // A key is data too (a record's own keys): its control characters are escaped like a value's.
    for (const [key, value] of Object.entries(entry)) if (!SKIP.has(key)) fields(escapeControls(key), value, 1, out);
  }
  const message = typeof entry.msg === 'string' ? entry.msg : '';
  return `${clock(entry.time)}${name}: ${[message, ...out].filter(Boolean).join(' ')}\n`;
}

/** A stream that writes each JSON line `briefLine` makes of it on `target`, synchronously. */
export function briefStream(target: NodeJS.WritableStream & { isTTY?: boolean }, colour: boolean): NodeJS.WritableStream {
  return { write: (line: string) => target.write(briefLine(line, colour)) } as unknown as NodeJS.WritableStream;
}
