import { Writable } from 'node:stream';
import { sql } from 'drizzle-orm';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import type { Db } from '../../src/db/client.js';
import { silentLogger } from '../../src/logger.js';
import { startRequestRunner } from '../../src/services/engine-requests/runner.js';
import { enqueueEngineRequest, getEngineRequest, requeueStaleEngineRequests, waitForEngineRequest } from '../../src/services/engine-requests/store.js';
import { createPgliteTestDb, usePostgresTestDb } from '../support/db.js';
import { handlerEntered } from '../support/hung-handler.js';

const database = usePostgresTestDb({ truncate: ['engine_requests'] });
const clock = new ManualClock(new Date('2026-12-03T10:00:00Z'));
const deps = () => ({ db: database().db, clock, logger: silentLogger() });
/** Time passes for the claims: claimed_at is the database's clock, which the manual clock does not move. */
const ageClaims = (db: Db, ms: number) => db.execute(sql`update engine_requests set claimed_at = claimed_at - ${ms} * interval '1 millisecond' where claimed_at is not null`);

describe('engine requests', () => {
  it('runs each request once even when two runners poll at the same moment', async () => {
    const { db } = database();
    const ids = [];
    for (let i = 0; i < 6; i++) ids.push((await enqueueEngineRequest(db, clock, { kind: 'cancel_all', requestedBy: 'cli:alice' })).id);
    const ranBy: Record<number, string[]> = {};
    const runner = (holder: string) => startRequestRunner(deps(), {
      holder, timer: false,
      handlers: { cancel_all: async (r) => { (ranBy[r.id] ??= []).push(holder); await new Promise((res) => setTimeout(res, 5)); return { ok: true, summary: 'done' }; } },
    });
    const a = runner('a');
    const b = runner('b');
    await Promise.all([a.drain(), b.drain()]);
    for (const id of ids) {
      expect(ranBy[id]).toHaveLength(1);
      const row = await getEngineRequest(db, id);
      expect(row?.status).toBe('done');
      expect(row?.claimedBy).toBe(ranBy[id]![0]);
    }
  });

  it('records a failed handler as failed with its reason, and a throwing one too', async () => {
    const { db } = database();
    const failed = await enqueueEngineRequest(db, clock, { kind: 'flatten', requestedBy: 'U1' });
    const threw = await enqueueEngineRequest(db, clock, { kind: 'reconcile', requestedBy: 'U1' });
    const runner = startRequestRunner(deps(), {
      holder: 'w', timer: false,
      handlers: {
        flatten: async () => ({ ok: false, summary: 'Kraken refused the sale' }),
        reconcile: async () => { throw new Error('TradesHistory timed out'); },
      },
    });
    await runner.drain();
    expect(await getEngineRequest(db, failed.id)).toMatchObject({ status: 'failed', error: 'Kraken refused the sale' });
    expect((await getEngineRequest(db, threw.id))?.error).toContain('TradesHistory timed out');
  });

  it('leaves kinds it has no handler for pending, for a process that has one', async () => {
    const { db } = database();
    const other = await enqueueEngineRequest(db, clock, { kind: 'adopt_order', requestedBy: 'U1', params: { txid: 'O1' } });
    const runner = startRequestRunner(deps(), { holder: 'web', timer: false, handlers: { cancel_all: async () => ({ ok: true, summary: 'x' }) } });
    expect(await runner.drain()).toBe(0);
    expect((await getEngineRequest(db, other.id))?.status).toBe('pending');
  });

  it('claims nothing while the process is not active (not the lease holder)', async () => {
    const { db } = database();
    const r = await enqueueEngineRequest(db, clock, { kind: 'cancel_all', requestedBy: 'U1' });
    const runner = startRequestRunner(deps(), { holder: 'standby', timer: false, active: () => false, handlers: { cancel_all: async () => ({ ok: true, summary: 'x' }) } });
    await runner.drain();
    expect((await getEngineRequest(db, r.id))?.status).toBe('pending');
  });

  it('logs a program error (TypeError) while polling as an error, and a database away as a warning', async () => {
    const lines: Array<{ level: number; msg: string }> = [];
    const sink = new Writable({
      write(chunk, _enc, cb) {
        for (const line of String(chunk).split('\n')) if (line.trim()) lines.push(JSON.parse(line) as { level: number; msg: string });
        cb();
      },
    });
    const logger = pino({ level: 'info' }, sink);
    const handlers = { cancel_all: async () => ({ ok: true, summary: 'x' }) };
    const buggy = startRequestRunner({ ...deps(), logger }, { holder: 'w', timer: false, active: () => { throw new TypeError("Cannot read properties of null (reading 'holder')"); }, handlers });
    await buggy.drain();
    const away = startRequestRunner({ ...deps(), logger }, { holder: 'w', timer: false, active: () => { throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }); }, handlers });
    await away.drain();
    await Promise.all([buggy.stop(), away.stop()]);
    expect(lines.map((l) => [l.level, l.msg])).toEqual([
      [50, 'could not poll engine requests: a program error; still polling'],
      [40, 'could not poll engine requests'],
    ]);
  });

  it('puts a request claimed by a runner that died back to pending after the stale time', async () => {
    const { db } = database();
    const r = await enqueueEngineRequest(db, clock, { kind: 'cancel_all', requestedBy: 'U1' });
    const claimed = handlerEntered();
    const hung = startRequestRunner(deps(), { holder: 'dead', timer: false, handlers: { cancel_all: claimed.hang } });
    void hung.drain();
    await claimed.entered;
    expect((await getEngineRequest(db, r.id))?.status).toBe('running');
    expect(await requeueStaleEngineRequests(db, 60_000)).toBe(0);
    await ageClaims(db, 61_000);
    expect(await requeueStaleEngineRequests(db, 60_000)).toBe(1);
    expect((await getEngineRequest(db, r.id))?.status).toBe('pending');
  });

  it("a runner whose clock runs 3 minutes ahead neither puts back nor runs again a request another runner claimed a moment ago", async () => {
    const { db } = database();
    const r = await enqueueEngineRequest(db, clock, { kind: 'cancel_all', requestedBy: 'U1' });
    const claimed = handlerEntered();
    const busy = startRequestRunner({ ...deps(), clock: new ManualClock(new Date()) }, { holder: 'busy', timer: false, handlers: { cancel_all: claimed.hang } });
    void busy.drain();
    await claimed.entered;
    expect((await getEngineRequest(db, r.id))?.status).toBe('running');
    let ranAhead = 0;
    const ahead = startRequestRunner({ ...deps(), clock: new ManualClock(new Date(Date.now() + 3 * 60_000)) }, {
      holder: 'ahead', timer: false, staleClaimMs: 120_000, handlers: { cancel_all: async () => { ranAhead += 1; return { ok: true, summary: 'done' }; } },
    });
    expect(await ahead.drain()).toBe(0);
    expect(ranAhead).toBe(0);
    expect(await getEngineRequest(db, r.id)).toMatchObject({ status: 'running', claimedBy: 'busy' });
  });

  it('a runner that lost its claim while it ran says nothing of putting the request back', async () => {
    const { db } = database();
    const r = await enqueueEngineRequest(db, clock, { kind: 'cancel_all', requestedBy: 'U1' });
    const retried: number[] = [];
    let runs = 0;
    const runner = startRequestRunner(deps(), {
      holder: 'slow', timer: false,
      onRetry: async (request) => { retried.push(request.id); },
      handlers: {
        cancel_all: async () => {
          runs += 1;
          if (runs > 1) return { ok: true, summary: 'none left open' };
          // Meanwhile it was requeued as stale (it ran past the stale time) and is pending again.
          await ageClaims(db, 61_000);
          await requeueStaleEngineRequests(db, 60_000);
          return { ok: false, summary: 'Cancel pending: tried again later', retryAt: new Date(clock.now().getTime() + 5_000) };
        },
      },
    });
    await runner.drain();
    // The second claim (the requeued request, run again) finished it; the first run put nothing back.
    expect(retried).toEqual([]);
    expect(runs).toBe(2);
    expect(await getEngineRequest(db, r.id)).toMatchObject({ status: 'done' });
  });

  it('waits for the answer, and returns the request still pending when the wait runs out', async () => {
    const { db } = database();
    const r = await enqueueEngineRequest(db, clock, { kind: 'cancel_all', requestedBy: 'U1' });
    const waited = await waitForEngineRequest(db, r.id, { timeoutMs: 150, pollMs: 20 });
    expect(waited?.status).toBe('pending');
    const runner = startRequestRunner(deps(), { holder: 'w', timer: true, pollMs: 20, handlers: { cancel_all: async () => ({ ok: true, summary: 'none left open', details: { canceled: 2 } }) } });
    const done = await waitForEngineRequest(db, r.id, { timeoutMs: 5_000, pollMs: 20 });
    await runner.stop();
    expect(done).toMatchObject({ status: 'done', result: { summary: 'none left open', canceled: 2 } });
  });

  it('works the same on the embedded database', async () => {
    const pglite = await createPgliteTestDb();
    try {
      const r = await enqueueEngineRequest(pglite.db, clock, { kind: 'reconcile', requestedBy: 'U1' });
      const runner = startRequestRunner({ db: pglite.db, clock, logger: silentLogger() }, { holder: 'w', timer: false, handlers: { reconcile: async () => ({ ok: true, summary: 'no differences' }) } });
      expect(await runner.drain()).toBe(1);
      expect((await getEngineRequest(pglite.db, r.id))?.status).toBe('done');
    } finally {
      await pglite.close();
    }
  });
});
