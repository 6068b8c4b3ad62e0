// A stale engine lease whose holder was armed, with bot_state live and not halted, is not "paper"
// anywhere an operator looks: a hung live engine that wakes before anyone takes over trades LIVE again.
// `ctb mode status` (text and --json), /mode status, the Slack badge, the runbook's state and the
// go-live audit's stored mode all say the mode is unknown and why, from a lease row the test writes.
// A stale holder that could not trade live (not armed, bot_state paper, halted) stays paper.
import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { modeStatusCommand } from '../../../commands/mode-status.js';
import type { Actor } from '../../../src/app/context.js';
import { runCli } from '../../../src/cli/program.js';
import { modeCheck } from '../../../src/services/audit/checks/mode.js';
import { runAudit } from '../../../src/services/audit/run-audit.js';
import { latestAuditRun } from '../../../src/services/audit/store.js';
import { readBadgeState } from '../../../src/services/badge-state.js';
import { updateBotState } from '../../../src/services/bot-state.js';
import { readModeStatus } from '../../../src/services/mode-status.js';
import { collectRunbookData } from '../../../src/services/runbook/collect.js';
import { renderModeStatus } from '../../../src/slack/views/mode-status.js';
import { withBadge } from '../../../src/slack/views/badge.js';
import { textMessage } from '../../../src/slack/views/message.js';
import { testContext } from '../../support/app-context.js';
import { recordingIo } from '../../support/cli-io.js';
import { usePostgresTestDb } from '../../support/db.js';

const database = usePostgresTestDb({ truncate: ['audit_runs', 'bot_state', 'engine_lease'] });
const actor: Actor = { id: 'cli:alice', source: 'cli' };

/** The lease a hung engine left: last renewed an hour ago (far past ENGINE_LEASE_TTL), on the database's clock. */
async function staleLease(armed: boolean): Promise<void> {
  await database().db.execute(sql`insert into engine_lease (id, holder_id, host, pid, role, feed, armed, has_kraken_keys, acquired_at, heartbeat_at)
    values (1, 'worker-1:4242:abc', 'worker-1', 4242, 'worker', 'kraken', ${armed}, true, now() - interval '2 hours', now() - interval '1 hour')`);
}

async function ctbModeStatus(...args: string[]): Promise<string> {
  const io = recordingIo({ DATABASE_URL: database().url });
  expect(await runCli(['mode', 'status', ...args], io)).toBe(0);
  return io.out();
}

describe('the mode of a stale engine lease whose holder was armed, with the database saying live', () => {
  it('ctb mode status says the mode is unknown, whose lease stopped when, that it may resume LIVE, and what cancels — never paper', async () => {
    const ctx = await testContext({ database: database() });
    await updateBotState(ctx.db, ctx.clock, { mode: 'live' });
    await staleLease(true);
    const text = await ctbModeStatus();
    expect(text).toMatch(/^mode: UNKNOWN — the engine \(worker-1:4242\) stopped renewing its lease at \S+Z \(stale since \S+Z\); it was armed and the database says live: it may resume LIVE trading if it wakes; `ctb kill` cancels from any process$/m);
    expect(text).toContain("armed (IS_LIVE): yes, in the stale engine's process");
    expect(text).not.toMatch(/PAPER|trading paper/);
    const json = JSON.parse(await ctbModeStatus('--json')) as { mode: string; storedMode: string; engine: { state: string; armed: boolean } };
    expect(json).toMatchObject({ mode: 'unknown', storedMode: 'live', engine: { state: 'stale', armed: true } });
  });

  it('/mode status, the badge and the runbook say unknown too', async () => {
    const ctx = await testContext({ database: database() });
    await updateBotState(ctx.db, ctx.clock, { mode: 'live' });
    await staleLease(true);
    const slack = renderModeStatus(await modeStatusCommand.run({ ...ctx, actor }, {}));
    expect(slack.text).toBe('Mode: unknown, requested live, engine stale, armed: it may resume LIVE trading if it wakes');
    const blocks = JSON.stringify(slack.blocks);
    expect(blocks).toContain(':warning: *MODE UNKNOWN* — the engine (worker-1:4242) stopped renewing its lease at');
    expect(blocks).toContain('it may resume LIVE trading if it wakes; `/kill` cancels from any process');
    expect(blocks).not.toContain('*PAPER*');
    const badge = await readBadgeState(ctx);
    expect(badge.mode).toBe('unknown');
    expect(withBadge(textMessage('x'), badge).text).toBe('[MODE UNKNOWN · MAY RESUME LIVE] x');
    const runbook = await collectRunbookData(ctx);
    expect(runbook.state).toMatchObject({ tradingMode: 'unknown', mode: 'live' });
  });

  it("the go-live audit stores and reports the mode unknown, as its mode check says it", async () => {
    const ctx = await testContext({ database: database() });
    await updateBotState(ctx.db, ctx.clock, { mode: 'live' });
    await staleLease(true);
    const report = await runAudit(ctx, { actor, dryRun: true, cwd: '.', checks: [modeCheck] });
    expect(report).toMatchObject({ mode: 'unknown', summaryLine: 'AUDIT PASSED — 0 pass, 1 warn, 0 fail (dry run, mode unknown)' });
    expect(report.results[0]).toMatchObject({ status: 'warn', details: { effectiveMode: 'unknown' } });
    expect(await latestAuditRun(ctx.db)).toMatchObject({ id: report.runId, mode: 'unknown' });
  });

  it('stays paper when the stale holder could not trade live: not armed, the database paper, or halted', async () => {
    const ctx = await testContext({ database: database() });
    await updateBotState(ctx.db, ctx.clock, { mode: 'live' });
    await staleLease(false);
    expect((await readModeStatus(ctx)).mode).toBe('paper');
    expect(JSON.parse(await ctbModeStatus('--json'))).toMatchObject({ mode: 'paper' });
    const report = await runAudit(ctx, { actor, dryRun: true, cwd: '.', checks: [modeCheck] });
    expect(report.mode).toBe('paper');
    expect(report.results[0]).toMatchObject({ details: { effectiveMode: 'paper' } });
    await database().db.execute(sql`update engine_lease set armed = true`);
    await updateBotState(ctx.db, ctx.clock, { halted: true });
    expect((await readModeStatus(ctx)).mode).toBe('paper');
    await updateBotState(ctx.db, ctx.clock, { halted: false, mode: 'paper' });
    expect((await readModeStatus(ctx)).mode).toBe('paper');
    expect((await readBadgeState(ctx)).mode).toBe('paper');
  });
});
