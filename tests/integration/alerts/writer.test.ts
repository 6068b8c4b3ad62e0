// The outbox writer under a storm: several batches in flight at once, each alert answered only
// after the commit that holds it; overlapping fingerprints neither deadlock nor lose a count.
import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { AlertWriter, persistAlerts, WRITER_BATCHES, type PersistResult, type TimedAlert, type WriterBatchTiming } from '../../../src/alerts/store.js';
import { execute } from '../../../src/db/client.js';
import { usePostgresTestDb } from '../../support/db.js';

const alert = (i: number, fingerprints: number): TimedAlert => ({
  at: new Date(Date.UTC(2026, 0, 5, 12, 0, 0, i)),
  alert: { source: 'engine', severity: i % fingerprints === 0 ? 'critical' : 'warning', title: `condition ${i % fingerprints}`, fingerprint: `f-${i % fingerprints}`, details: { i }, test: false },
});

describe('AlertWriter', () => {
  it('keeps up to maxInFlight batches in flight and answers each alert when its own batch is written', async () => {
    const pending: Array<{ batch: TimedAlert[]; done(): void }> = [];
    let peak = 0;
    let inFlight = 0;
    const writer = new AlertWriter(async (batch) => {
      inFlight += 1;
      peak = Math.max(peak, inFlight);
      await new Promise<void>((resolve) => pending.push({ batch, done: resolve }));
      inFlight -= 1;
      return batch.map((b, i): PersistResult => ({ groupId: 1, eventId: Number(b.alert.details.i), newGroup: i === 0, severity: 'warning' }));
    }, { maxInFlight: 2 });
    const settled: number[] = [];
    const raise = (i: number) => void writer.persist(alert(i, 3)).then((r) => settled.push(r.eventId));
    raise(0); raise(1); // same turn of the event loop: one batch
    await Promise.resolve();
    raise(2);
    await Promise.resolve();
    raise(3); // both slots busy: waits
    await new Promise((r) => setImmediate(r));
    expect(pending.map((p) => p.batch.length)).toEqual([2, 1]);
    pending[1]!.done(); // the second batch commits first: its alert is answered, the first's are not
    await new Promise((r) => setImmediate(r));
    expect(settled).toEqual([2]);
    expect(pending.map((p) => p.batch.length)).toEqual([2, 1, 1]); // the waiting alert took the free slot
    pending[0]!.done();
    pending[2]!.done();
    await new Promise((r) => setImmediate(r));
    expect(settled.sort()).toEqual([0, 1, 2, 3]);
    expect(peak).toBe(2);
  });

  it('publishes each batch\'s timing to a subscriber (what a persist time is made of): its size, overlap, waits and write', async () => {
    const timings: WriterBatchTiming[] = [];
    const listen = (t: unknown) => void timings.push(t as WriterBatchTiming);
    WRITER_BATCHES.subscribe(listen);
    try {
      const pending: Array<() => void> = [];
      const writer = new AlertWriter(async (batch) => {
        await new Promise<void>((resolve) => pending.push(resolve));
        return batch.map((): PersistResult => ({ groupId: 1, eventId: 1, newGroup: false, severity: 'info' }));
      }, { maxInFlight: 2 });
      const all = [writer.persist(alert(0, 1)), writer.persist(alert(1, 1))];
      await Promise.resolve();
      all.push(writer.persist(alert(2, 1)));
      await new Promise((r) => setImmediate(r));
      await new Promise((r) => setTimeout(r, 5));
      pending.forEach((done) => done());
      await Promise.all(all);
      expect(timings.map((t) => [t.size, t.overlapping, t.waitedMs.length])).toEqual([[2, 0, 2], [1, 1, 1]]);
      for (const t of timings) expect(t.writeMs).toBeGreaterThanOrEqual(4);
    } finally {
      WRITER_BATCHES.unsubscribe(listen);
    }
  });

  it('rejects only the alerts of a batch whose write failed', async () => {
    let calls = 0;
    const writer = new AlertWriter(async (batch) => {
      calls += 1;
      if (calls === 1) throw new Error('database refused');
      return batch.map((): PersistResult => ({ groupId: 1, eventId: 1, newGroup: false, severity: 'info' }));
    });
    const first = writer.persist(alert(0, 1));
    await Promise.resolve();
    const second = writer.persist(alert(1, 1));
    await expect(first).rejects.toThrow('database refused');
    await expect(second).resolves.toMatchObject({ groupId: 1 });
  });
});

describe('persistAlerts on PostgreSQL with batches in flight together', () => {
  const database = usePostgresTestDb();

  it('stores every alert and counts each group exactly, without deadlocks, over overlapping fingerprints', async () => {
    const writer = new AlertWriter((batch) => persistAlerts({ db: database().db, batch, slackChannel: 'C0ALERTS' }), { maxInFlight: 4, maxBatch: 7 });
    const results = await Promise.all(Array.from({ length: 600 }, (_, i) => writer.persist(alert(i, 5))));
    expect(new Set(results.map((r) => r.eventId)).size).toBe(600);
    const [row] = await execute<{ events: number; counted: number; groups: number; pending: number; timers: number }>(database().db, sql`
      select (select count(*)::int from alert_events) as events, (select sum(count)::int from alert_groups) as counted,
             (select count(*)::int from alert_groups) as groups,
             (select count(*)::int from alert_deliveries where kind = 'slack_sync' and status = 'pending') as pending,
             (select count(*)::int from alert_escalations) as timers`);
    expect(row).toEqual({ events: 600, counted: 600, groups: 5, pending: 5, timers: 1 });
    const groupOf = new Map(results.map((r, i) => [i % 5, r.groupId]));
    results.forEach((r, i) => expect(r.groupId).toBe(groupOf.get(i % 5)));
  });
});
