// Equity snapshot rows as a batch statement takes them (db/queries/ledger-snapshots.ts): a batch is
// of one book, sent with its mode and feed once and its times as milliseconds after the first row's,
// so a replay's row per candle costs about 60 bytes to encode and send, not 105.
import { describe, expect, it } from 'vitest';
import type { SQL } from 'drizzle-orm';
import type { Db } from '../../src/db/client.js';
import { plainQuery } from '../../src/db/prepared.js';
import { insertSnapshots, SnapshotColumns, type SnapshotRow } from '../../src/db/queries/ledger-snapshots.js';

const start = Date.parse('2025-03-01T00:00:00Z');
const row = (i: number, book: Partial<SnapshotRow> = {}): SnapshotRow => ({
  mode: 'paper', feed: 'replay', at: new Date(start + i * 60_000), equity: (10_000 + i / 7).toFixed(8), cash: '9876.54321',
  peakEquity: '10500.12345678', drawdownPct: '1.234567', ...book,
});

/** The parameters insertSnapshots sends for `rows`, caught from a database that only renders the statement. */
async function sent(rows: SnapshotColumns): Promise<unknown[]> {
  let params: unknown[] = [];
  const db = { execute: async (query: SQL) => {
    params = plainQuery(query)!.params;
    return [];
  } } as unknown as Db;
  await insertSnapshots(db, rows, true);
  return params;
}

describe('a batch of equity snapshots', () => {
  it('takes the rows of the first row\'s book only, up to the first of another mode or feed', () => {
    const rows = new SnapshotColumns();
    for (let i = 0; i < 3; i++) rows.push(row(i));
    rows.push(row(3, { feed: 'kraken' }));
    rows.push(row(4));
    const first = rows.take(2000);
    expect(first.length).toBe(3);
    expect(new Set(first.feed)).toEqual(new Set(['replay']));
    expect(rows.length).toBe(2);
    expect(rows.take(2000).feed).toEqual(['kraken']);
    expect(rows.take(2000).at).toEqual([start + 4 * 60_000]);
  });

  it('sends its mode, feed and first time once, and each row in under 65 bytes', async () => {
    const rows = new SnapshotColumns();
    for (let i = 0; i < 2000; i++) rows.push(row(i));
    const params = await sent(rows);
    expect(params).toContain('paper');
    expect(params).toContain('replay');
    expect(params).toContain('2025-03-01T00:00:00.000Z');
    const bytes = params.reduce<number>((sum, p) => sum + Buffer.byteLength(String(p)), 0);
    expect(bytes / 2000).toBeLessThan(65);
  });

  it('sends each time as whole milliseconds after the first row\'s, backwards too', async () => {
    const rows = new SnapshotColumns();
    for (const ms of [start, start + 1, start + 86_400_000, start - 59_999]) rows.push({ ...row(0), at: new Date(ms) });
    expect(await sent(rows)).toContain('0,1,86400000,-59999');
  });
});
