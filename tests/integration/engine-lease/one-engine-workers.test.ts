// One engine per PostgreSQL database, with real processes (the shipped `ctb start`): two workers with
// their own connection pools never both trade — the second stands by and takes over (taken_over_from
// names the first) once the first is killed -9: at once, its pid being gone on this host.
import { mkdirSync, mkdtempSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { afterAll, describe, expect, it } from 'vitest';
import { execute } from '../../../src/db/client.js';
import { waitUntil } from '../../support/bot-process.js';
import { createPostgresTestDb, type TestDatabase } from '../../support/db.js';
import { baseEnv, bot, killBotsAfterEach, orders } from './one-engine-bots.js';

killBotsAfterEach();

describe('one engine per PostgreSQL database', () => {
  let database: TestDatabase | undefined;
  afterAll(async () => {
    await database?.close();
  });

  const holder = async () => (await execute<{ pid: number; holder_id: string; taken_over_from: string | null; heartbeat_at: Date | string }>(
    database!.db, sql`select pid, holder_id, taken_over_from, heartbeat_at from engine_lease`))[0] ?? null;
  const dbNow = async () => new Date((await execute<{ now: Date | string }>(database!.db, sql`select now() as now`))[0]!.now).getTime();

  it('lets only one of two workers trade; the standby takes over when the first is killed -9, naming it', async () => {
    database = await createPostgresTestDb();
    const dir = mkdtempSync(join(tmpdir(), 'ctb-two-workers-'));
    // A TTL long enough that a loaded machine's pauses do not make A's lease go stale while it runs.
    const ttlMs = 5_000;
    const shared = { DATABASE_URL: database.url, ENGINE_LEASE_TTL: `${ttlMs}ms`, LOG_LEVEL: 'debug' };
    // Separate data and log directories, as two containers would have.
    for (const d of ['a', 'b']) mkdirSync(join(dir, d));
    const envA = baseEnv(join(dir, 'a'), shared);
    const envB = baseEnv(join(dir, 'b'), shared);

    const a = bot(['start', '--role', 'worker'], envA, dir);
    await a.waitFor(/engine lease taken: this process runs the engine/, 120_000);
    await waitUntil(() => orders(a) > 0, 60_000, () => `for A's first order:\n${a.output().slice(-3000)}`);

    const b = bot(['start', '--role', 'worker'], envB, dir);
    await b.waitFor(new RegExp(`the engine runs in ${hostname()}:${a.pid} \\(worker\\); standing by`), 120_000);
    // Both run for more than a TTL — A's heartbeat (the database's clock) moves a whole TTL past the
    // moment B stood by, B asking for the lease every third of it meanwhile — and A trades on.
    const standbyAt = await dbNow();
    const aBefore = orders(a);
    await waitUntil(async () => {
      const lease = await holder();
      if (lease?.pid !== a.pid) throw new Error(`the lease left A while it ran: ${JSON.stringify(lease)}\n${b.output().slice(-3000)}`);
      return new Date(lease.heartbeat_at).getTime() > standbyAt + ttlMs && orders(a) > aBefore;
    }, 120_000, () => `for A to renew its lease past a TTL and trade on (orders ${aBefore} → ${orders(a)}):\n${a.output().slice(-3000)}`);
    expect(orders(b)).toBe(0); // B placed nothing…
    expect(b.output()).not.toMatch(/engine ready/); // …its engine never started

    a.kill('SIGKILL');
    await a.exited;
    await waitUntil(async () => (await holder())?.pid === b.pid, 60_000, () => `for B to take over:\n${b.output().slice(-3000)}`);
    const lease = (await holder())!;
    expect(lease.taken_over_from).toMatch(new RegExp(`^${hostname()}:${a.pid}:[0-9a-f]{8}$`));
    // On one host the standby sees A's pid gone and does not wait for its lease to go stale.
    await b.waitFor(/engine lease taken over from .*whose process is gone/);
    await waitUntil(() => orders(b) > 0, 60_000, () => `for B's first order after the takeover:\n${b.output().slice(-3000)}`);

    b.kill('SIGTERM');
    expect(await b.exited).toBe(0);
    expect(await holder()).toBeNull(); // a graceful stop releases the lease: the next start is clean
  }, 300_000);
});
