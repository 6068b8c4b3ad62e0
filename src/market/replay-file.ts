// Owns reading a replay file: CSV (parsed by csv-parse, or split by hand when plain) with a header
// `time,symbol,open,high,low,close,volume` (time as ISO 8601 or epoch milliseconds; 1-minute
// candles). Every bad line is reported with its number and what was expected; nothing is half-loaded.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { AppError } from '../errors.js';
import type { Candle } from '../exchange/types.js';

export const REPLAY_COLUMNS = ['time', 'symbol', 'open', 'high', 'low', 'close', 'volume'] as const;

function parseTime(text: string): Date | undefined {
  const asNumber = /^\d{10,13}$/.test(text) ? Number(text) : NaN;
  const d = Number.isFinite(asNumber) ? new Date(text.length === 10 ? asNumber * 1000 : asNumber) : new Date(text);
  return Number.isNaN(d.getTime()) ? undefined : d;
}

export interface CsvRow {
  record: string[];
  info: { lines: number };
  raw: string;
}

/**
 * The rows csv-parse gives (with REPLAY_CSV_OPTIONS) for a file it reads line by line: no quote, no
 * comment mark, no carriage return and no whitespace but the newlines, so nothing to unquote, trim or
 * skip as a comment; null for any other file, which csv-parse reads. The bundled sample and files
 * written like it take this path: csv-parse spent ~100 ms of CPU on the sample's 4,000 lines at
 * every replay start, a split takes a few.
 */
export function plainCsvRows(text: string): CsvRow[] | null {
  if (/["#\r]|[^\S\n]/.test(text)) return null;
  const lines = text.split('\n');
  const rows: CsvRow[] = [];
  // csv-parse's raw text of a record begins with the blank lines just before it.
  let blanks = '';
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line === '') {
      blanks += '\n'; // skip_empty_lines
      continue;
    }
    const record = line.split(',');
    const raw = `${blanks}${line}${i < lines.length - 1 ? '\n' : ''}`;
    blanks = '';
    if (record.every((cell) => cell === '')) continue; // skip_records_with_empty_values
    rows.push({ record, info: { lines: i + 1 }, raw });
  }
  return rows;
}

// A line that is blank or starts with # is skipped; cells are trimmed; a short or long line is
// read as it is (and reported below with what was expected) rather than failing the whole file.
export const REPLAY_CSV_OPTIONS = {
  trim: true, skip_empty_lines: true, skip_records_with_empty_values: true, comment: '#', comment_no_infix: true,
  relax_column_count: true, info: true, raw: true,
} as const;

/** csv-parse's parser, as parseReplayCsv calls it. */
export type CsvParse = (text: string, options: typeof REPLAY_CSV_OPTIONS) => CsvRow[];

/** Required only for a file that is not plain: importing csv-parse cost every replay start ~10 ms. */
function requireCsvParse(): CsvParse {
  const { parse } = createRequire(import.meta.url)('csv-parse/sync') as typeof import('csv-parse/sync');
  return (text, options) => parse(text, options) as unknown as CsvRow[];
}

function parseRows(text: string, file: string, loadParser: () => CsvParse): CsvRow[] {
  const plain = plainCsvRows(text);
  if (plain) return plain;
  // Outside the file's try: a csv-parse that cannot be loaded is a broken installation, not a bad file.
  let parse: CsvParse;
  try {
    parse = loadParser();
  } catch (err) {
    const reason = (err instanceof Error ? err.message : String(err)).split('\n')[0];
    throw new AppError('internal', 'csv_parse_unavailable', `${file} needs csv-parse to be read, and csv-parse could not be loaded: ${reason}`, {
      hint: 'Install the dependencies again where ctb runs (npm ci).', cause: err,
    });
  }
  try {
    return parse(text, REPLAY_CSV_OPTIONS);
  } catch (err) {
    const line = (err as { lines?: number }).lines;
    throw new AppError('config', 'bad_replay_file', `${file}${line ? `: line ${line}` : ''}: ${(err as Error).message}; expected comma-separated values, one candle a line`);
  }
}

/** The candles of a replay file's `text`; `loadParser` gives csv-parse's parser when the file is not plain (tests give their own). */
export function parseReplayCsv(text: string, file: string, opts: { loadParser?: () => CsvParse } = {}): Candle[] {
  const rows = parseRows(text, file, opts.loadParser ?? requireCsvParse);
  const first = rows[0];
  const header = (first?.record ?? []).map((h) => h.toLowerCase());
  if (REPLAY_COLUMNS.some((c, i) => header[i] !== c)) {
    const got = first ? first.raw.replace(/\r?\n$/, '') : '';
    throw new AppError('config', 'bad_replay_file', `${file}: line ${first?.info.lines ?? 1}: expected the header "${REPLAY_COLUMNS.join(',')}", got "${got}"`);
  }
  const problems: string[] = [];
  const candles: Candle[] = [];
  for (const { record: cells, info } of rows.slice(1)) {
    const where = `${file}: line ${info.lines}`;
    if (cells.length !== REPLAY_COLUMNS.length) {
      problems.push(`${where}: expected ${REPLAY_COLUMNS.length} comma-separated values, got ${cells.length}`);
      continue;
    }
    const openTime = parseTime(cells[0]!);
    const symbol = cells[1]!.toUpperCase();
    const [open, high, low, close, volume] = cells.slice(2).map(Number) as [number, number, number, number, number];
    if (!openTime) problems.push(`${where}: time: expected an ISO date or epoch milliseconds, got "${cells[0]}"`);
    if (!/^[A-Z0-9]{2,10}\/[A-Z0-9]{2,10}$/.test(symbol)) problems.push(`${where}: symbol: expected a pair such as BTC/USD, got "${cells[1]}"`);
    const prices = { open, high, low, close };
    for (const [name, v] of Object.entries(prices)) if (!(v > 0)) problems.push(`${where}: ${name}: expected a positive number, got "${cells[REPLAY_COLUMNS.indexOf(name as never)]}"`);
    if (!(volume >= 0)) problems.push(`${where}: volume: expected a number ≥ 0, got "${cells[6]}"`);
    if (high < Math.max(open, close, low) || low > Math.min(open, close)) problems.push(`${where}: expected low ≤ open, close ≤ high`);
    if (problems.length > 20) break;
    if (openTime) candles.push({ symbol, openTime, open, high, low, close, volume });
  }
  if (problems.length > 0) {
    throw new AppError('config', 'bad_replay_file', `Invalid replay file:\n  - ${problems.slice(0, 20).join('\n  - ')}`);
  }
  if (candles.length === 0) throw new AppError('config', 'bad_replay_file', `${file}: no candles; expected at least one data line`);
  candles.sort((a, b) => a.openTime.getTime() - b.openTime.getTime());
  return candles;
}

export function readReplayFile(file: string): Candle[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new AppError('config', 'replay_file_unreadable', `Cannot read the replay file ${file} (${(err as NodeJS.ErrnoException).code ?? 'error'}).`, {
      hint: 'Set REPLAY_FILE to a CSV of 1-minute candles, or unset it to use the bundled sample.',
    });
  }
  return parseReplayCsv(text, file);
}
