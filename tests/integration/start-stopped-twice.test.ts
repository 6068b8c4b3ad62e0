// A running bot asked to stop twice: `ctb start` stops it on each of SIGTERM, SIGINT and SIGHUP, and
// an operator (or a supervisor) may send two back to back. The second stop used to find the list of
// parts already emptied by the first and close the HTTP server and the database at once, under the
// first stop still stopping the engine: its lease release then failed ("could not release the engine
// lease"), and the lease was left held until it went stale. The second stop waits for the first.
import { sql } from 'drizzle-orm';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type { Feature } from '../../src/app/feature.js';
import { features } from '../../src/app/features.js';
import { startBot } from '../../src/app/runtime.js';
import { testConfig } from '../../src/config/env.js';
import { execute } from '../../src/db/client.js';
import { usePostgresTestDb } from '../support/db.js';

const database = usePostgresTestDb({ truncate: ['engine_lease'] });

/** A logger that keeps its lines, and tells `onLine` of each. */
function keptLogs(onLine: (msg: string) => void = () => {}) {
  const lines: Array<Record<string, unknown>> = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => {
    const entry = JSON.parse(line) as Record<string, unknown>;
    lines.push(entry);
    onLine(String(entry.msg));
  } });
  const warned = () => lines.filter((l) => Number(l.level) >= 40).map((l) => l.msg);
  return { logger, warned };
}

describe('a running bot stopped twice (SIGTERM, then SIGINT)', () => {
  it('the second stop waits for the first: the database is not closed under a part still stopping', async () => {
    const { logger, warned } = keptLogs();
    const events: string[] = [];
    let partStopping!: () => void;
    const stopping = new Promise<void>((resolve) => (partStopping = resolve));
    let finishStop!: () => void;
    const finish = new Promise<void>((resolve) => (finishStop = resolve));
    // A part whose stop writes to the database at its end, as the engine's releases its lease.
    const slowStop: Feature = { name: 'slow-stop', roles: ['all'], async start(ctx) {
      return { stop: async () => {
        events.push('part stopping');
        partStopping();
        await finish;
        await execute(ctx.db, sql`select 1`).then(() => events.push('part: database answered'), (e: Error) => events.push(`part: database failed: ${e.message}`));
      } };
    } };
    // The bot opens (and owns, so closes) its database, as `ctb start` does.
    const bot = await startBot({ config: testConfig({ HOST: '127.0.0.1', DATABASE_URL: database().url }), logger, features: [slowStop], role: 'all', feed: 'replay', port: 0 });

    const first = bot.stop().then(() => events.push('first stop done'));
    await stopping;
    const second = bot.stop().then(() => events.push('second stop done'), (e: Error) => events.push(`second stop failed: ${e.message}`));
    // The second stop has had every chance to run ahead (a macrotask turn) before the part's stop goes on.
    await new Promise((resolve) => setImmediate(resolve));
    finishStop();
    await Promise.all([first, second]);

    expect(events.slice(0, 2)).toEqual(['part stopping', 'part: database answered']);
    expect(events.filter((e) => e === 'part stopping')).toHaveLength(1);
    expect(events.slice(2).sort()).toEqual(['first stop done', 'second stop done']);
    expect(warned()).toEqual([]);
  });

  it('with its real parts (role all), the second stop sent as the engine stops: the engine lease is released', { timeout: 60_000 }, async () => {
    const { logger, warned } = keptLogs();
    let engineStopping!: () => void;
    const stopping = new Promise<void>((resolve) => (engineStopping = resolve));
    let sendSecond!: (stop: Promise<unknown>) => void;
    const second = new Promise<Promise<unknown>>((resolve) => (sendSecond = resolve)).then((stop) => stop);
    let secondEndedFirst = false;
    // Each part as it is; the engine's stop begins once the second stop has been sent, and has had its
    // chance to end first: one that does not wait for the first ends in a few ms (it closed the database),
    // else the engine's stop goes on after a second.
    const parts = features.map((f): Feature => f.name !== 'engine' ? f : {
      ...f,
      async start(ctx, http, opts) {
        const running = await f.start(ctx, http, opts);
        return running && { stop: async () => {
          engineStopping();
          let timer: NodeJS.Timeout | undefined;
          secondEndedFirst = await Promise.race([
            second.then(() => true, () => true),
            new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), 1_000))),
          ]);
          clearTimeout(timer);
          await running.stop();
        } };
      },
    });
    const bot = await startBot({ config: testConfig({ HOST: '127.0.0.1', DATABASE_URL: database().url }), logger, features: parts, role: 'all', feed: 'replay', port: 0 });
    expect(await execute(database().db, sql`select holder_id from engine_lease`)).toHaveLength(1);

    const first = bot.stop();
    await stopping;
    sendSecond(bot.stop());
    const results = await Promise.allSettled([first, second]);

    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled']);
    expect(await execute(database().db, sql`select holder_id from engine_lease`)).toEqual([]);
    expect(warned()).toEqual([]);
    expect(secondEndedFirst).toBe(false);
  });
});
