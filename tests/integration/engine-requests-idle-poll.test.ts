// A running bot's request runners poll four times a second. A poll with nothing to do is one read
// (src/db/queries/engine-requests.ts, engineRequestWork), not the stale claims' update and the claim's
// transaction; a poll with something to do puts back and claims as before.
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import type { Database, Db } from '../../src/db/client.js';
import { silentLogger } from '../../src/logger.js';
import { startRequestRunner } from '../../src/services/engine-requests/runner.js';
import { enqueueEngineRequest, getEngineRequest } from '../../src/services/engine-requests/store.js';
import { createPgliteTestDb, usePostgresTestDb } from '../support/db.js';
import { handlerEntered } from '../support/hung-handler.js';
import { countPgliteStatements } from '../support/pglite-statements.js';

const postgres = usePostgresTestDb({ truncate: ['engine_requests'] });
const clock = new ManualClock(new Date('2026-12-03T10:00:00Z'));
/** claimed_at is the database's clock, which the manual clock does not move. */
const ageClaims = (db: Db, ms: number) => db.execute(sql`update engine_requests set claimed_at = claimed_at - ${ms} * interval '1 millisecond' where claimed_at is not null`);

let pglite: Database;
beforeAll(async () => {
  pglite = await createPgliteTestDb();
});
afterAll(async () => pglite?.close());

describe('an idle request runner', () => {
  it('polls with one statement when nothing is pending or stale, and claims nothing', async () => {
    await pglite.db.execute(sql`delete from engine_requests`);
    // A request of a kind this runner has no handler for is not its work either.
    const other = await enqueueEngineRequest(pglite.db, clock, { kind: 'reconcile', requestedBy: 'U1' });
    const runner = startRequestRunner({ db: pglite.db, clock, logger: silentLogger() }, { holder: 'w', timer: false, handlers: { cancel_all: async () => ({ ok: true, summary: 'x' }) } });
    await runner.drain(); // the statement is prepared on its first poll
    const statements = countPgliteStatements(pglite.db);
    try {
      for (let i = 0; i < 3; i++) expect(await runner.drain()).toBe(0);
      // Control: the count sees a statement the runner did not send.
      const before = statements.count;
      await pglite.db.execute(sql`select 1`);
      expect(statements.count - before).toBe(1);
      expect(before).toBe(3);
    } finally {
      statements.stop();
      await runner.stop();
    }
    expect((await getEngineRequest(pglite.db, other.id))?.status).toBe('pending');
  });

  it('claims and runs a pending request at its next poll (PostgreSQL and the embedded database)', async () => {
    for (const db of [postgres().db, pglite.db]) {
      await db.execute(sql`delete from engine_requests`);
      const runner = startRequestRunner({ db, clock, logger: silentLogger() }, { holder: 'w', timer: false, handlers: { cancel_all: async () => ({ ok: true, summary: 'done' }) } });
      expect(await runner.drain()).toBe(0);
      const r = await enqueueEngineRequest(db, clock, { kind: 'cancel_all', requestedBy: 'U1' });
      expect(await runner.drain()).toBe(1);
      expect((await getEngineRequest(db, r.id))?.status).toBe('done');
      await runner.stop();
    }
  });

  it("puts back a dead runner's claim once it is stale, and runs it, at its own poll (PostgreSQL and the embedded database)", async () => {
    for (const db of [postgres().db, pglite.db]) {
      await db.execute(sql`delete from engine_requests`);
      const r = await enqueueEngineRequest(db, clock, { kind: 'cancel_all', requestedBy: 'U1' });
      const claimed = handlerEntered();
      const hung = startRequestRunner({ db, clock, logger: silentLogger() }, { holder: 'dead', timer: false, handlers: { cancel_all: claimed.hang } });
      void hung.drain();
      await claimed.entered;
      expect((await getEngineRequest(db, r.id))?.status).toBe('running');
      let ran = 0;
      const alive = startRequestRunner({ db, clock, logger: silentLogger() }, {
        holder: 'alive', timer: false, staleClaimMs: 60_000, handlers: { cancel_all: async () => { ran += 1; return { ok: true, summary: 'done' }; } },
      });
      expect(await alive.drain()).toBe(0);
      expect(await getEngineRequest(db, r.id)).toMatchObject({ status: 'running', claimedBy: 'dead' });
      await ageClaims(db, 61_000);
      expect(await alive.drain()).toBe(1);
      expect(ran).toBe(1);
      expect(await getEngineRequest(db, r.id)).toMatchObject({ status: 'done', claimedBy: 'alive' });
      await alive.stop();
    }
  });
});
