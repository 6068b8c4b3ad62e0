// A replay file written plainly (no quotes, comments, carriage returns or spaces) is split by hand
// instead of by csv-parse, which took ~100 ms of CPU of every replay start for the bundled sample.
// The rows must be exactly csv-parse's, and every other file still goes to csv-parse.
import { readFileSync } from 'node:fs';
import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import { SAMPLE_REPLAY_FILE } from '../../src/market/create-feed.js';
import { AppError } from '../../src/errors.js';
import { parseReplayCsv, plainCsvRows, REPLAY_CSV_OPTIONS } from '../../src/market/replay-file.js';

const HEADER = 'time,symbol,open,high,low,close,volume';
const ROW = '2026-01-05T00:00:00Z,BTC/USD,100,101,99,100,5';
const ROW2 = '2026-01-05T00:01:00Z,BTC/USD,100,102,98,101,6';

const byCsvParse = (text: string) =>
  (parse(text, REPLAY_CSV_OPTIONS) as unknown as Array<{ record: string[]; info: { lines: number }; raw: string }>).map((r) => ({ record: r.record, info: { lines: r.info.lines }, raw: r.raw }));

describe('a plain replay file', () => {
  it('the bundled sample is plain: it is split by hand, into exactly the rows csv-parse reads', () => {
    const text = readFileSync(SAMPLE_REPLAY_FILE, 'utf8');
    const rows = plainCsvRows(text);
    expect(rows).not.toBeNull();
    expect(rows!.length).toBeGreaterThan(1000);
    expect(rows).toEqual(byCsvParse(text));
  });

  it('reads blank lines, empty records, short and long lines and a missing last newline as csv-parse does', () => {
    const texts = [
      '',
      '\n\n',
      `${HEADER}\n`,
      `${HEADER}\n${ROW}`,
      `${HEADER}\n\n${ROW}\n\n\n${ROW2}\n`,
      `${HEADER}\n,,,,,,\n${ROW}\n,\n${ROW2}`,
      `${HEADER}\n1,2\n${ROW},8,9\n,x,\n`,
      `\n${HEADER}\n${ROW}\n`,
      `${HEADER}\n\n,,\n\n${ROW}`,
      `${HEADER}\n\n\n,,\n${ROW}\n`,
      'date,price\n',
    ];
    for (const text of texts) expect(plainCsvRows(text), JSON.stringify(text)).toEqual(byCsvParse(text));
  });

  it('leaves every file with quotes, comments, carriage returns or spaces to csv-parse, which reads them as before', () => {
    const others = [
      `${HEADER}\r\n${ROW}\r\n${ROW2}\r\n`,
      `# a comment\n${HEADER}\n${ROW}\n# another\n${ROW2}\n`,
      `${HEADER}\n"2026-01-05T00:00:00Z","BTC/USD",100,101,99,100,5\n${ROW2}\n`,
      `${HEADER}\n ${ROW.replaceAll(',', ' , ')} \n\t${ROW2}\n`,
    ];
    for (const text of others) {
      expect(plainCsvRows(text), JSON.stringify(text)).toBeNull();
      const candles = parseReplayCsv(text, 'x.csv');
      expect(candles.map((c) => [c.openTime.toISOString(), c.symbol, c.close]), JSON.stringify(text)).toEqual([
        ['2026-01-05T00:00:00.000Z', 'BTC/USD', 100],
        ['2026-01-05T00:01:00.000Z', 'BTC/USD', 101],
      ]);
    }
  });

  it('names the line of a bad record in a plain file as csv-parse counted it (blank lines included)', () => {
    const text = `${HEADER}\n\n${ROW}\n\nyesterday,BTC/USD,100,101,99,100,5\n`;
    expect(plainCsvRows(text)).not.toBeNull();
    expect(() => parseReplayCsv(text, 'x.csv')).toThrow(/x\.csv: line 5: time: expected an ISO date or epoch milliseconds, got "yesterday"/);
  });

  it('says csv-parse could not be loaded when it cannot, not that the file is bad; a plain file never loads it', () => {
    let loads = 0;
    const missing = () => {
      loads += 1;
      throw Object.assign(new Error("Cannot find module 'csv-parse/sync'\nRequire stack:\n- /srv/ctb/dist/cli.js"), { code: 'MODULE_NOT_FOUND' });
    };
    const commented = `# a comment\n${HEADER}\n${ROW}\n`;
    let thrown: unknown;
    try {
      parseReplayCsv(commented, 'candles.csv', { loadParser: missing });
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(AppError);
    expect(thrown).toMatchObject({ kind: 'internal', code: 'csv_parse_unavailable' });
    expect((thrown as AppError).userMessage).toBe("candles.csv needs csv-parse to be read, and csv-parse could not be loaded: Cannot find module 'csv-parse/sync' "
      + 'Install the dependencies again where ctb runs (npm ci).');
    expect(loads).toBe(1);
    expect(parseReplayCsv(`${HEADER}\n${ROW}\n`, 'candles.csv', { loadParser: missing })).toHaveLength(1);
    expect(loads).toBe(1);
    // What csv-parse itself refuses is still the file's fault, with its line.
    expect(() => parseReplayCsv(`${HEADER}\n"2026-01-05T00:00:00Z,BTC/USD\n`, 'candles.csv')).toThrow(/^candles\.csv: .*; expected comma-separated values, one candle a line$/);
  });
});
