// A bot binds its port before its parts start. A request in that gap used to get 404 "not found" —
// a probe of /healthz during a start read as a wrong path. Until the last part has started, a path
// with no route yet is answered 503 "starting" with Retry-After; once the bot has started, an
// unknown path is a 404 again. Through startBot, as `ctb start` runs it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Feature } from '../../src/app/feature.js';
import { startBot, type RunningBot } from '../../src/app/runtime.js';
import { testConfig } from '../../src/config/env.js';
import { healthFeature } from '../../src/http/health.js';
import { silentLogger } from '../../src/logger.js';
import { createPostgresTestDb, type TestDatabase } from '../support/db.js';

let database: TestDatabase;
let bot: RunningBot | undefined;

beforeAll(async () => {
  database = await createPostgresTestDb();
});
afterAll(async () => {
  await bot?.stop();
  await database?.close();
});

describe('HTTP while the bot starts', () => {
  it('answers 503 starting (Retry-After) for a path not served yet, then serves it, and 404s an unknown path once started', async () => {
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let port: number | undefined;
    let reached!: () => void;
    const startedHeld = new Promise<void>((resolve) => (reached = resolve));
    // A part that takes its time starting, before the health part adds /healthz.
    const slowPart: Feature = {
      name: 'slow',
      roles: ['web', 'all'],
      async start(_ctx, http) {
        port = (http.server.address() as { port: number }).port;
        reached();
        await held;
      },
    };
    const starting = startBot({
      config: testConfig({ HOST: '127.0.0.1', DATABASE_URL: database.url }),
      role: 'web', feed: 'replay', port: 0, logger: silentLogger(), database, features: [slowPart, healthFeature],
    });
    await startedHeld;
    const during = await fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(10_000) });
    expect(during.status).toBe(503);
    expect(during.headers.get('retry-after')).toBe('1');
    expect(await during.json()).toMatchObject({ status: 'starting' });
    release();
    bot = await starting;
    const after = await fetch(`http://127.0.0.1:${bot.port}/healthz`, { signal: AbortSignal.timeout(10_000) });
    expect(after.status).toBe(200);
    const unknown = await fetch(`http://127.0.0.1:${bot.port}/no-such-path`, { signal: AbortSignal.timeout(10_000) });
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toEqual({ error: 'not found' });
  });
});
