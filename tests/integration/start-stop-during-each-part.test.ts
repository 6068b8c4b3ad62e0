// A stop signal while the bot starts any of its parts (role all, the parts `ctb start` runs): the part
// whose start is under way is stopped once that start has ended, after the parts started before it
// are, and before the database is closed. It used to be left running: the start ended at once, and
// whatever the part's start went on to start (the engine's lease loop, the alerts part's jobs) ran on
// against the closed database. tests/integration/start-stop-during-engine-process.test.ts shows it
// from the outside, for the part "engine", with `ctb start` itself.
import { sql } from 'drizzle-orm';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type { AppContext } from '../../src/app/context.js';
import type { Feature, RunningFeature } from '../../src/app/feature.js';
import { features } from '../../src/app/features.js';
import { startBot } from '../../src/app/runtime.js';
import { StartStoppedError } from '../../src/app/wait-for-database.js';
import { testConfig } from '../../src/config/env.js';
import { execute } from '../../src/db/client.js';
import { usePostgresTestDb } from '../support/db.js';

const database = usePostgresTestDb({ truncate: ['engine_lease'] });
const parts = features.filter((f) => f.roles.includes('all'));

describe('a stop signal while the bot starts a part', () => {
  it.each(parts.map((f) => f.name))('during the part "%s": it and every part before it are stopped before the start ends', async (stoppedAt) => {
    const lines: Array<Record<string, unknown>> = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) });
    const stop = new AbortController();
    let context: AppContext | undefined;
    /** The parts whose start gave something to stop, and the parts stopped, in order. */
    const toStop: string[] = [];
    const stopped: string[] = [];
    /** Every part's start, to its end: one the stop left under way ends later, and is judged once it has. */
    const starts: Array<Promise<unknown>> = [];
    // Each part as it is, told when its start ends and when it is stopped; the stop comes as the part
    // `stoppedAt` has begun its start (its first await), so that start is under way when the bot is stopped.
    const watched = parts.map((f): Feature => ({
      ...f,
      async start(ctx, http, opts) {
        context = ctx;
        const starting = f.start(ctx, http, opts);
        starts.push(starting.catch(() => undefined));
        if (f.name === stoppedAt) stop.abort();
        const running = await starting;
        if (!running) return;
        toStop.push(f.name);
        return { stop: async () => { await running.stop(); stopped.push(f.name); } } satisfies RunningFeature;
      },
    }));

    const err = await startBot({
      config: testConfig({ HOST: '127.0.0.1' }), logger, database: database(), features: watched, role: 'all', feed: 'replay', port: 0, stop: stop.signal,
    }).then(() => null, (e: unknown) => e);
    await Promise.all(starts);

    expect(err).toBeInstanceOf(StartStoppedError);
    expect((err as Error).message).toBe(`stopped during the start, at the part "${stoppedAt}"`);
    // Every part that started something (the one stopped at too) was stopped, the last started first.
    expect(stopped).toEqual([...toStop].reverse());
    // No job is left scheduled, and the engine's loop never took the lease after the stop.
    expect(context!.jobs.names()).toEqual([]);
    expect(await execute(database().db, sql`select holder_id from engine_lease`)).toEqual([]);
    expect(lines.filter((l) => Number(l.level) >= 40).map((l) => l.msg)).toEqual([]);
  });
});
