// `/golive status` and `ctb mode status` say of the latest audit what the gate (resume, /mode live)
// would say: a run that passed by looser go-live thresholds than the policy stored now, or that
// recorded none, is shown as not accepted, with each looser threshold — never as plainly "passed".
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from '../../../src/cli/program.js';
import { testConfig } from '../../../src/config/env.js';
import { execute } from '../../../src/db/client.js';
import { auditRuns, type GateThresholds } from '../../../src/db/schema/index.js';
import { recordGatePolicy } from '../../../src/services/audit/gate-policy.js';
import { readGoLiveStatus } from '../../../src/services/mode-status.js';
import { renderGoLiveStatus } from '../../../src/slack/views/mode-status.js';
import { recordingIo } from '../../support/cli-io.js';
import { createPostgresTestDb, emptyTablesSql, type TestDatabase } from '../../support/db.js';
import { DEFAULT_AUDIT_SETTINGS } from '../../support/gate-thresholds.js';

const DAY = 86_400_000;
const POLICY_ENV = { GOLIVE_MIN_PAPER_TRADES: '20', GOLIVE_MIN_ROI_PCT: '0.5', GOLIVE_ALERT_WINDOW: '7d' };
const AT_POLICY: GateThresholds = { minPaperTrades: 20, minRoiPct: '0.5', alertWindowMs: 7 * DAY, ...DEFAULT_AUDIT_SETTINGS };
const NOT_ACCEPTED = 'not accepted for going live / resume — re-run the audit';

let database: TestDatabase;
beforeAll(async () => {
  database = await createPostgresTestDb();
});
afterAll(async () => {
  await database?.close();
});
beforeEach(async () => {
  await execute(database.db, sql.raw(emptyTablesSql(['audit_runs', 'golive_policy', 'bot_state'])));
  await recordGatePolicy(database.db, { config: testConfig(POLICY_ENV), by: 'worker-host:4242 (worker)', at: new Date('2026-01-05T08:00:00Z') });
});

async function passedRun(thresholds: GateThresholds | null): Promise<number> {
  const [row] = await database.db.insert(auditRuns).values({
    at: new Date('2026-01-05T09:00:00Z'), actor: 'cli:laptop', mode: 'paper', dryRun: true, passed: true,
    summary: 'AUDIT PASSED — 19 pass, 0 warn, 0 fail (dry run, paper mode)', results: [], thresholds,
  }).returning({ id: auditRuns.id });
  return row!.id;
}

/** /golive status as Slack shows it: its notification text and its blocks. */
async function goliveStatus(): Promise<{ text: string; blocks: string }> {
  const { status, latestAudit } = await readGoLiveStatus({ db: database.db, config: testConfig() });
  const m = renderGoLiveStatus({ ok: true, ...status, latestAudit });
  return { text: m.text, blocks: JSON.stringify(m.blocks) };
}

async function modeStatus(): Promise<string> {
  const io = recordingIo({ DATABASE_URL: database.url });
  expect(await runCli(['mode', 'status'], io)).toBe(0);
  return io.out();
}

describe('the latest audit in the status views, as the gate would judge it', () => {
  it('shows a pass by a looser alert window than the policy as not accepted, naming the threshold', async () => {
    const id = await passedRun({ ...AT_POLICY, alertWindowMs: 60_000 });
    const words = `passed under looser thresholds than the policy (GOLIVE_ALERT_WINDOW 1m where the policy has 7d): ${NOT_ACCEPTED}`;
    const slack = await goliveStatus();
    expect(slack.text).toContain(`latest audit ${words} (run at 2026-01-05T09:00:00.000Z)`);
    expect(slack.blocks).toContain(`:warning: *${words}* (dry run)`);
    expect(slack.blocks).not.toContain(':white_check_mark:');
    expect(await modeStatus()).toContain(`latest audit: run #${id} ${words} — dry run at 2026-01-05T09:00:00.000Z by cli:laptop`);
  });

  it('shows a pass that recorded no thresholds as not accepted', async () => {
    const id = await passedRun(null);
    const words = `passed, but recorded no go-live thresholds: ${NOT_ACCEPTED}`;
    expect((await goliveStatus()).text).toContain(`latest audit ${words}`);
    expect(await modeStatus()).toContain(`latest audit: run #${id} ${words}`);
  });

  it('shows a pass at the policy, or stricter, as passed', async () => {
    await passedRun({ ...AT_POLICY, minPaperTrades: 30 });
    const slack = await goliveStatus();
    expect(slack.text).toContain('latest audit passed at 2026-01-05T09:00:00.000Z');
    expect(slack.blocks).toContain(':white_check_mark: *passed* (dry run)');
    expect(slack.blocks).not.toContain('not accepted');
    const cli = await modeStatus();
    expect(cli).toMatch(/^latest audit: run #\d+ passed — dry run at 2026-01-05T09:00:00\.000Z by cli:laptop: AUDIT PASSED/m);
    expect(cli).not.toContain('not accepted');
  });

  it('holds the run to the policy stored now: tightened since, the same pass is no longer accepted', async () => {
    await passedRun(AT_POLICY);
    expect((await goliveStatus()).text).toContain('latest audit passed at');
    await recordGatePolicy(database.db, { config: testConfig({ ...POLICY_ENV, GOLIVE_MIN_ROI_PCT: '2' }), by: 'worker-host:4343 (worker)', at: new Date('2026-01-05T10:00:00Z') });
    expect((await goliveStatus()).text).toContain(`passed under looser thresholds than the policy (GOLIVE_MIN_ROI_PCT 0.5% where the policy has 2%): ${NOT_ACCEPTED}`);
  });
});
