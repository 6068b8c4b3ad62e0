import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execute, type Database } from '../../src/db/client.js';
import { botState, trades } from '../../src/db/schema/index.js';
import { createTestDb, type DbKind } from '../support/db.js';

describe.each<DbKind>(['postgres', 'pglite'])('database on %s', (kind) => {
  let database: Database;
  beforeAll(async () => {
    database = await createTestDb(kind);
  });
  afterAll(async () => {
    await database?.close();
  });

  it("is drizzle's without a schema: no table's relations are built when it opens", () => {
    const internals = (database.db as unknown as { _?: { schema?: unknown } })._;
    expect(internals && 'schema' in internals).toBe(true); // control: drizzle keeps it here
    expect(internals?.schema).toBeUndefined();
  });

  it('applies the migrations so every table exists', async () => {
    const rows = await execute<{ n: number }>(database.db, sql`select count(*)::int as n from ${botState}`);
    expect(rows[0]?.n).toBe(0);
  });

  it('refuses a closed trade without capital_buffer', async () => {
    const now = new Date();
    await expect(
      database.db.insert(trades).values({
        mode: 'paper', feed: 'replay', strategy: 's', symbol: 'BTC/USD', status: 'closed', quantity: '1',
        entryPrice: '100', entryFee: '0', entryAt: now, exitPrice: '110', exitFee: '0', exitAt: now,
        realizedPnl: '10', entryIntentId: 1,
      }),
    ).rejects.toThrow();
  });

  it('refuses a second bot_state row', async () => {
    await expect(database.db.insert(botState).values({ id: 2 })).rejects.toThrow();
  });
});
