// Slack delivery claims and command-trail rows issued in the same turn of the event loop go in one
// statement (src/db/coalesce.ts): each caller still gets its own row's outcome — a claim is taken by
// its first caller only, a key already stored is refused — every trail row is stored as given (text cleaned as one row's is), and a
// row the database refuses fails only its own caller. On PostgreSQL and on PGlite.
import { asc, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/client.js';
import { insertCommandLog, writeCommandLogRows } from '../../src/db/queries/command-log.js';
import { claimSlackDelivery, writeClaims } from '../../src/db/queries/slack-deliveries.js';
import { commandLog } from '../../src/db/schema/index.js';
import { createTestDb, type DbKind } from '../support/db.js';

describe.each<DbKind>(['postgres', 'pglite'])('coalesced writes on %s', (kind) => {
  let database: Database;
  beforeAll(async () => {
    database = await createTestDb(kind);
  });
  afterAll(async () => {
    await database?.close();
  });

  const at = new Date('2026-03-01T10:00:00Z');
  const claim = (key: string, retryNum?: number) => claimSlackDelivery({ db: database.db, key, surface: 'command', receivedAt: at, retryNum });

  // The multi-row statements themselves (a failure would be hidden by the row-by-row retry).
  it('writes several claims and several trail rows in one statement each', async () => {
    const claims = ['command:m1', 'command:m2', 'command:m1'].map((key, i) => ({ key, surface: 'command', receivedAt: at, retryNum: i === 1 ? 1 : undefined }));
    expect(await writeClaims(database.db, claims)).toEqual([true, true, false]);
    const rows = [7, 8].map((n) => ({ at: new Date(at.getTime() - n * 1000).toISOString(), source: 'cli', actor: `cli:u${n}`, command: 'stats', args: '', allowed: true, result: 'ok', details: JSON.stringify({ n }) }));
    await writeCommandLogRows(database.db, rows);
    const stored = await database.db.select().from(commandLog).where(eq(commandLog.source, 'cli')).orderBy(asc(commandLog.at));
    expect(stored.map((r) => ({ at: r.at.toISOString(), actor: r.actor, details: r.details }))).toEqual([
      { at: rows[1]!.at, actor: 'cli:u8', details: { n: 8 } },
      { at: rows[0]!.at, actor: 'cli:u7', details: { n: 7 } },
    ]);
  });

  it('gives each claim of a batch its own answer: the first of a key takes it, a repeat or a stored key does not', async () => {
    expect(await claim('command:stored')).toBe(true);
    const answers = await Promise.all([claim('command:a'), claim('command:b', 1), claim('command:a'), claim('command:stored'), claim('command:c')]);
    expect(answers).toEqual([true, true, false, false, true]);
    expect(await claim('command:b', 2)).toBe(false);
  });

  type Row = Parameters<typeof insertCommandLog>[1];
  const row = (n: number, over: Partial<Row> = {}): Row => ({
    at: new Date(at.getTime() + n * 1000), source: 'slack', actor: `U${n}`, command: 'golive-status', args: `{"n":${n}}`,
    allowed: n % 2 === 0, result: 'ok', details: { slash: '/golive', n, quote: 'a "b" {c}', nul: 'x\u0000y' }, ...over,
  });

  it('stores every trail row of a batch as given', async () => {
    await Promise.all([1, 2, 3].map((n) => insertCommandLog(database.db, row(n))));
    const rows = await database.db.select().from(commandLog).where(eq(commandLog.source, 'slack')).orderBy(asc(commandLog.at));
    expect(rows.map((r) => ({ at: r.at.toISOString(), actor: r.actor, allowed: r.allowed, args: r.args, details: r.details }))).toEqual(
      [1, 2, 3].map((n) => ({ at: row(n).at.toISOString(), actor: `U${n}`, allowed: n % 2 === 0, args: `{"n":${n}}`, details: { slash: '/golive', n, quote: 'a "b" {c}', nul: 'x\uFFFDy' } })),
    );
  });

  it('fails only the row the database refuses; the others of its batch are stored', async () => {
    const results = await Promise.allSettled([insertCommandLog(database.db, row(4)), insertCommandLog(database.db, row(5, { at: new Date('-010000-01-01T00:00:00Z') })), insertCommandLog(database.db, row(6))]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    const actors = (await database.db.select().from(commandLog).where(eq(commandLog.source, 'slack')).orderBy(asc(commandLog.at))).map((r) => r.actor);
    expect(actors).toEqual(['U1', 'U2', 'U3', 'U4', 'U6']);
  });
});
