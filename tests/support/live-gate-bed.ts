// The set-up of the tests that open a live request against the go-live gate policy: one PostgreSQL
// database for the file; before each test the mode tables, the policy, the alerts and the trades
// emptied, one closed paper trade, and a fake Slack; after it the request handler and the fake closed.
import { sql } from 'drizzle-orm';
import type { ManualClock } from '../../src/clock.js';
import { afterAll, afterEach, beforeAll, beforeEach } from 'vitest';
import type { AuditCheck } from '../../src/services/audit/types.js';
import { createPostgresTestDb, emptyTablesSql, type TestDatabase } from './db.js';
import { startFakeSlack, type FakeSlack } from './fake-slack.js';
import { modeHarness, resetModeTables, type ModeHarness } from './mode-harness.js';
import { insertTrade } from './trade-rows.js';

export interface LiveGateBed {
  /** Set once beforeAll has run. */
  database: TestDatabase;
  /** A new one for each test. */
  slack: FakeSlack;
  /**
   * The process that handles /mode live, with its own environment and audit checks; closed after the test.
   * `clock`: the handler's (default the harness's fixed March morning); a test beside a real engine
   * process gives the real time, or that engine's request sweeper finds the new request long expired.
   */
  handler(env: Record<string, string>, checks: AuditCheck[], clock?: ManualClock): Promise<ModeHarness>;
}

export function useLiveGateBed(): LiveGateBed {
  let open: ModeHarness | undefined;
  const bed: LiveGateBed = {
    database: undefined as unknown as TestDatabase,
    slack: undefined as unknown as FakeSlack,
    async handler(env, checks, clock) {
      open = await modeHarness({ database: bed.database, slack: bed.slack, env, checks, ...(clock ? { clock } : {}) });
      return open;
    },
  };
  beforeAll(async () => {
    bed.database = await createPostgresTestDb();
  });
  afterAll(async () => {
    await bed.database.close();
  });
  beforeEach(async () => {
    await resetModeTables(bed.database.db);
    await bed.database.db.execute(sql.raw(emptyTablesSql(['golive_policy', 'alert_events', 'alert_groups', 'trades'])));
    await insertTrade(bed.database.db, { status: 'closed' });
    bed.slack = await startFakeSlack();
  });
  afterEach(async () => {
    await open?.ctx.close();
    open = undefined;
    await bed.slack.close();
  });
  return bed;
}
