// The paper/LIVE badge on Slack replies says the mode the running engine trades in, as `ctb mode
// status` says it (bot_state and the engine lease), not the answering process's own arming: in the
// Procfile layout the web process answers Slack unarmed while the worker runs the engine armed.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/client.js';
import { testConfig } from '../../src/config/env.js';
import { silentLogger } from '../../src/logger.js';
import { updateBotState } from '../../src/services/bot-state.js';
import { createLeaseKeeper, type LeaseKeeper } from '../../src/services/engine-lease/keeper.js';
import { createPostgresTestDb, type TestDatabase } from '../support/db.js';
import { TEST_API_KEY, TEST_API_SECRET } from '../support/kraken-test-keys.js';
import { startSlackHarness, USERS, type SlackHarness } from '../support/slack-harness.js';
import { hookedDatabase } from '../support/statement-hooks.js';

// `failLeaseRead` makes the engine lease unreadable (bot_state still reads): the badge cannot know the
// engine's mode. The harness's database fails readLease's statement while it is set, as a dropped
// connection would.
const lease = { failLeaseRead: false };
const LEASE_READ = /^select now\(\) as db_now, l\.\* from \(select 1\) as one left join engine_lease l on l\.id = 1$/;

describe('the reply badge of a web process that is not armed', () => {
  let h: SlackHarness;
  let database: TestDatabase;
  let hooked: Database;
  let engine: LeaseKeeper | undefined;
  const clock = { now: () => new Date() };

  beforeAll(async () => {
    database = await createPostgresTestDb();
    hooked = hookedDatabase(database.url, [{
      match: LEASE_READ,
      before: () => {
        if (lease.failLeaseRead) throw new Error('connection terminated');
      },
    }]);
    h = await startSlackHarness({ database: hooked });
    expect(h.ctx.config.IS_LIVE).toBe(false);
  });
  afterEach(async () => {
    await engine?.release();
    engine = undefined;
    lease.failLeaseRead = false;
    await updateBotState(h.ctx.db, clock as never, { mode: 'paper' });
  });
  afterAll(async () => {
    await h?.close();
    await hooked?.close();
    await database?.close();
  });

  /** The worker: its own configuration (IS_LIVE as given) holding the engine lease on the same database. */
  async function runEngine(armed: boolean): Promise<void> {
    const config = testConfig(armed ? { IS_LIVE: 'true', KRAKEN_API_KEY: TEST_API_KEY, KRAKEN_API_SECRET: TEST_API_SECRET } : {});
    engine = createLeaseKeeper({ db: h.ctx.db, config, logger: silentLogger() }, { role: 'worker', feed: 'kraken' });
    expect(await engine.acquire(new AbortController().signal)).not.toBeNull();
  }

  async function replyTo(command: string, text: string): Promise<string> {
    const before = h.responses().length;
    expect((await h.slash(command, text, { user: USERS.reader })).status).toBe(200);
    await h.idle();
    const replies = h.responses().slice(before);
    expect(replies).toHaveLength(1);
    return String(replies[0]?.text);
  }

  it('says LIVE while the engine it does not run trades live (armed, the database saying live)', async () => {
    await runEngine(true);
    await updateBotState(h.ctx.db, clock as never, { mode: 'live' });
    expect(await replyTo('/trades', '')).toMatch(/^\[LIVE\] /);
    expect(await replyTo('/mode', 'status')).toMatch(/^\[LIVE\] Mode: live/);
  });

  it('says PAPER while the database says live but the running engine is not armed', async () => {
    await runEngine(false);
    await updateBotState(h.ctx.db, clock as never, { mode: 'live' });
    expect(await replyTo('/trades', '')).toMatch(/^\[PAPER\] /);
    expect(await replyTo('/mode', 'status')).toMatch(/^\[PAPER\] Mode: paper/);
  });

  it('says MODE UNKNOWN, not PAPER, when the engine lease cannot be read', async () => {
    await runEngine(true);
    await updateBotState(h.ctx.db, clock as never, { mode: 'live' });
    lease.failLeaseRead = true;
    expect(await replyTo('/trades', '')).toMatch(/^\[MODE UNKNOWN\] /);
  });
});
