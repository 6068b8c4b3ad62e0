// A pending exit closed as expired (src/services/exits/request-exit.ts) is judged on the database's
// clock — written longer than EXIT_REQUEST_TTL ago by its now() — and is finished at that clock's
// now too, not at the asking process's: a process whose clock runs hours off would otherwise stamp
// finished_at before the exit was even written, or hours after the engine's own rows.
import { describe, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import { ManualClock } from '../../../src/clock.js';
import { execute } from '../../../src/db/client.js';
import { engineRequests } from '../../../src/db/schema/index.js';
import { silentLogger } from '../../../src/logger.js';
import { awaitExit, requestExit, type RequestExitDeps } from '../../../src/services/exits/request-exit.js';
import { usePostgresTestDb } from '../../support/db.js';

const database = usePostgresTestDb();

/** Request `id` as if it had been written `ago` earlier, on the database's clock (its TTL runs from there). */
async function writtenAgo(id: number, ago: string): Promise<void> {
  await execute(database().db, sql`update engine_requests set params = params || jsonb_build_object('writtenAt', to_char((now() - ${ago}::interval) at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')) where id = ${id}`);
}

/** How far request `id`'s finished_at lies from the database's now, in ms. */
async function finishedFromDbNowMs(id: number): Promise<number> {
  const [row] = await execute<{ off: number }>(database().db, sql`select abs(extract(epoch from (finished_at - now())) * 1000)::float8 as off from engine_requests where id = ${id}`);
  return Number(row!.off);
}

describe('an exit closed as expired', () => {
  it('is finished at the database clock, not at the clock of a process that runs years off', async () => {
    const ctx: RequestExitDeps = {
      db: database().db, clock: new ManualClock('2020-01-01T00:00:00Z'), logger: silentLogger(),
      config: { EXIT_REQUEST_TTL: 10 * 60_000 }, alerts: { raise: async () => {} },
    };
    const actor = { id: 'cli:ops', source: 'cli' as const };
    const shown = { mode: 'paper' as const, tradeIds: [1] };
    // Closed by the next request for the same exit.
    const first = await requestExit(ctx, actor, 'all', undefined, shown, 0);
    await writtenAgo(first.requestId, '11 minutes');
    const second = await requestExit(ctx, actor, 'all', undefined, shown, 0);
    expect(second.requestId).not.toBe(first.requestId);
    // Closed by its requester's last wait.
    await writtenAgo(second.requestId, '11 minutes');
    expect((await awaitExit(ctx, second, 0, { last: true })).status).toBe('failed');

    const rows = await database().db.select().from(engineRequests).orderBy(engineRequests.id);
    expect(rows.map((r) => [r.id, r.status, r.result?.['expired']])).toEqual([[first.requestId, 'failed', true], [second.requestId, 'failed', true]]);
    for (const r of rows) expect(await finishedFromDbNowMs(r.id)).toBeLessThan(60_000);
  }, 60_000);
});
