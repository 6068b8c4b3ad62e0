// Slack delivery claims and command-trail rows issued in the same turn of the event loop go in one
// statement, both kinds together (src/db/queries/shared-writes.ts, src/db/coalesce.ts): each caller still gets its own row's outcome — a claim is taken by
// its first caller only, a key already stored is refused — every trail row is stored as given (text cleaned as one row's is), and a
// row the database refuses fails only its own caller. A status command's claim reads the status rows
// in the same statement, whether alone or in a batch with other claims. On PostgreSQL and on PGlite.
import { asc, eq, sql, type SQL } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execute, type Database } from '../../src/db/client.js';
import { insertCommandLog } from '../../src/db/queries/command-log.js';
import { readStatusRows } from '../../src/db/queries/mode-status.js';
import { claimSlackDelivery, claimSlackDeliveryReadingStatus } from '../../src/db/queries/slack-deliveries.js';
import { writeClaims, writeClaimsAndRows, writeClaimsReadingStatus, writeCommandLogRows } from '../../src/db/queries/shared-writes.js';
import { botState, commandLog, slackDeliveries } from '../../src/db/schema/index.js';
import { getBotState } from '../../src/services/bot-state.js';
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

  it('claims with the status read in one statement: each key taken once, and the status as readStatusRows reads it', async () => {
    const claims = ['command:s1', 'command:s2', 'command:s1'].map((key, i) => ({ key, surface: 'command', receivedAt: at, retryNum: i === 1 ? 3 : undefined }));
    const { taken, status } = await writeClaimsReadingStatus(database.db, claims);
    expect(taken).toEqual([true, true, false]);
    const stored = await database.db.select().from(slackDeliveries).where(eq(slackDeliveries.key, 'command:s2'));
    expect(stored).toMatchObject([{ surface: 'command', retryNum: 3, receivedAt: at }]);
    const { dbNow, ...rest } = status;
    const { dbNow: readNow, ...read } = await readStatusRows(database.db);
    expect(rest).toEqual(read);
    expect(dbNow).toBeInstanceOf(Date);
    expect(readNow.getTime()).toBeGreaterThanOrEqual(dbNow.getTime());
  });

  it('reads, with a status command\'s claim, what was committed before it: a halt just written shows', async () => {
    await getBotState(database.db);
    await database.db.update(botState).set({ halted: true, haltedReason: 'drill', haltedBy: 'U1', haltedAt: at }).where(eq(botState.id, 1));
    const [plain, status, repeat] = await Promise.all([
      claim('command:t1'),
      claimSlackDeliveryReadingStatus({ db: database.db, key: 'command:t2', surface: 'command', receivedAt: at }),
      claimSlackDeliveryReadingStatus({ db: database.db, key: 'command:t1', surface: 'command', receivedAt: at }),
    ]);
    expect(plain).toBe(true);
    expect(status.taken).toBe(true);
    expect(status.status?.state).toMatchObject({ halted: true, haltedReason: 'drill', haltedBy: 'U1' });
    expect(repeat.taken).toBe(false);
    await database.db.update(botState).set({ halted: false, haltedReason: null, haltedBy: null, haltedAt: null }).where(eq(botState.id, 1));
    expect((await claimSlackDeliveryReadingStatus({ db: database.db, key: 'command:t3', surface: 'command', receivedAt: at })).status?.state?.halted).toBe(false);
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

  /** The transaction that wrote a row: rows written by one statement share it. */
  const xminOf = async (table: 'slack_deliveries' | 'command_log', where: SQL) =>
    (await execute<{ xmin: string }>(database.db, sql`select xmin::text as xmin from ${sql.raw(table)} where ${where}`)).map((r) => r.xmin);

  it('writes claims, the status read and trail rows in one statement, each claim with its own answer', async () => {
    const claims = ['command:x1', 'command:x2', 'command:x1'].map((key, i) => ({ key, surface: 'command', receivedAt: at, readStatus: i === 1 }));
    const rows = [11, 12].map((n) => ({ at: new Date(at.getTime() + n * 1000).toISOString(), source: 'cli', actor: `cli:x${n}`, command: 'stats', args: '', allowed: true, result: 'ok', details: JSON.stringify({ n }) }));
    const { outcomes } = await writeClaimsAndRows(database.db, claims, rows);
    expect(outcomes.map((o) => o.taken)).toEqual([true, true, false]);
    expect(outcomes[0]!.status).toBeUndefined();
    const { dbNow: _, ...read } = await readStatusRows(database.db);
    const { dbNow, ...status } = outcomes[1]!.status!;
    expect(status).toEqual(read);
    expect(dbNow).toBeInstanceOf(Date);
    const claimed = await xminOf('slack_deliveries', sql`key in ('command:x1', 'command:x2')`);
    const logged = await xminOf('command_log', sql`actor in ('cli:x11', 'cli:x12')`);
    expect(new Set([...claimed, ...logged]).size).toBe(1);
    expect(claimed).toHaveLength(2);
    expect(logged).toHaveLength(2);
  });

  it('puts a command\'s claim and another command\'s trail row, issued together, in one statement', async () => {
    const [taken] = await Promise.all([claim('command:y1'), insertCommandLog(database.db, row(21, { actor: 'U-y21' }))]);
    expect(taken).toBe(true);
    const claimed = await xminOf('slack_deliveries', sql`key = 'command:y1'`);
    const logged = await xminOf('command_log', sql`actor = 'U-y21'`);
    expect(claimed).toHaveLength(1);
    expect(logged).toEqual(claimed);
  });

  it('fails only a refused trail row of a mixed batch: the claims beside it are taken, the other rows stored', async () => {
    const results = await Promise.allSettled([
      claim('command:z1'), insertCommandLog(database.db, row(31, { actor: 'U-z31' })), insertCommandLog(database.db, row(32, { actor: 'U-z32', at: new Date('-010000-01-01T00:00:00Z') })), claim('command:z1'),
    ]);
    expect(results.map((r) => (r.status === 'fulfilled' ? r.value ?? 'stored' : 'rejected'))).toEqual([true, 'stored', 'rejected', false]);
    expect(await xminOf('command_log', sql`actor in ('U-z31', 'U-z32')`)).toHaveLength(1);
    expect(await xminOf('slack_deliveries', sql`key = 'command:z1'`)).toHaveLength(1);
  });
});
