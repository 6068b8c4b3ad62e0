// command_log is the operators' audit trail: the database itself refuses to change or remove rows.
import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/client.js';
import { commandLog } from '../../src/db/schema/index.js';
import { createTestDb, type DbKind } from '../support/db.js';

describe.each<DbKind>(['postgres', 'pglite'])('command_log on %s', (kind) => {
  let database: Database;
  beforeAll(async () => {
    database = await createTestDb(kind);
    await database.db.insert(commandLog).values({
      at: new Date('2026-01-05T12:00:00Z'), source: 'slack', actor: 'UREADER1', command: 'kill', args: 'now', allowed: false, result: 'refused',
    });
  });
  afterAll(async () => {
    await database?.close();
  });

  const causeOf = async (p: Promise<unknown>) => {
    try {
      await p;
    } catch (err) {
      return String((err as { cause?: unknown }).cause ?? err);
    }
    return 'no error';
  };

  it('refuses to rewrite a recorded command', async () => {
    expect(await causeOf(database.db.update(commandLog).set({ allowed: true, result: 'ok' }))).toMatch(/append-only: UPDATE/);
  });

  it('refuses to delete a recorded command', async () => {
    expect(await causeOf(database.db.delete(commandLog).where(eq(commandLog.actor, 'UREADER1')))).toMatch(/append-only: DELETE/);
  });

  it('refuses to truncate the trail', async () => {
    expect(await causeOf(database.db.execute(sql`truncate command_log`))).toMatch(/append-only: TRUNCATE/);
  });

  it('still accepts new rows, and the refused attempt is unchanged', async () => {
    await database.db.insert(commandLog).values({
      at: new Date('2026-01-05T12:01:00Z'), source: 'cli', actor: 'cli:ops', command: 'kill', args: '{}', allowed: true, result: 'ok',
    });
    const rows = await database.db.select().from(commandLog).orderBy(commandLog.id);
    expect(rows.map((r) => [r.actor, r.allowed, r.result])).toEqual([['UREADER1', false, 'refused'], ['cli:ops', true, 'ok']]);
  });
});
