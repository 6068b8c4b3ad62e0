import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADVISORY_LOCKS, takeAdvisoryLock } from '../../src/db/advisory-lock.js';
import { connectPostgres, type Database } from '../../src/db/client.js';
import { withOrderLock } from '../../src/engine/order-lock.js';
import { createPostgresTestDb, type TestDatabase } from '../support/db.js';

describe('engine locks on PostgreSQL', () => {
  let database: TestDatabase;
  let second: Database;
  beforeAll(async () => {
    database = await createPostgresTestDb();
    second = connectPostgres(database.url, { max: 2 }); // another process's pool
  });
  afterAll(async () => {
    await second?.close();
    await database?.close();
  });

  it('makes an order-changing section in another process wait for the one in flight', async () => {
    const events: string[] = [];
    let releaseFirst!: () => void;
    const firstHeld = new Promise<void>((r) => (releaseFirst = r));
    let entered!: () => void;
    const inside = new Promise<void>((r) => (entered = r));
    const a = withOrderLock({ database }, async () => {
      events.push('engine order start');
      entered();
      await firstHeld;
      events.push('engine order end');
    });
    // The engine's section holds the lock (on a loaded machine taking it can take longer than any margin).
    await inside;
    // A kill from another process (its own pool): same advisory lock, different session.
    const held = takeAdvisoryLock(second, ADVISORY_LOCKS.orders, { wait: true }).then((lock) => {
      events.push('kill cancels');
      return lock;
    });
    await new Promise((r) => setTimeout(r, 200));
    expect(events).toEqual(['engine order start']);
    releaseFirst();
    await a;
    await (await held)!.release();
    expect(events).toEqual(['engine order start', 'engine order end', 'kill cancels']);
  });

  it('serialises order sections within one process', async () => {
    const order: number[] = [];
    await Promise.all([1, 2, 3].map((n) => withOrderLock({ database }, async () => {
      order.push(n);
      await new Promise((r) => setTimeout(r, 20));
      order.push(-n);
    }, { crossProcess: false })));
    expect(order).toEqual([1, -1, 2, -2, 3, -3]);
  });
});
