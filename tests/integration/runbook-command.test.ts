import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runbookCommand } from '../../commands/runbook.js';
import { runCommand } from '../../commands/run-command.js';
import { buildAppContext, type OwnedContext } from '../../src/app/build-context.js';
import { ManualClock } from '../../src/clock.js';
import { testConfig } from '../../src/config/env.js';
import { auditRuns, commandLog } from '../../src/db/schema/index.js';
import { silentLogger } from '../../src/logger.js';
import { updateBotState } from '../../src/services/bot-state.js';
import { acquireLease, releaseLease } from '../../src/db/queries/engine-lease.js';
import { runCli } from '../../src/cli/program.js';
import { savePolicy } from '../../src/alerts/policy.js';
import { recordGatePolicy } from '../../src/services/audit/gate-policy.js';
import { addOverride } from '../../src/services/oncall/store.js';
import { rotationOnDatabaseClock } from '../support/oncall-fixtures.js';
import { PROJECT_ROOT } from '../../src/services/release/version.js';
import { createPostgresTestDb, type TestDatabase } from '../support/db.js';

describe('ctb runbook on PostgreSQL', () => {
  let database: TestDatabase;
  let ctx: OwnedContext;
  const clock = new ManualClock('2026-01-05T03:00:00Z');
  const actor = { id: 'U0READER1', source: 'slack' as const };

  beforeAll(async () => {
    database = await createPostgresTestDb();
    ctx = await buildAppContext({
      config: testConfig({ SLACK_APPROVERS: 'U0APR0001,U0APR0002', SLACK_OPERATORS: 'U0OPS0001', ESCALATION_ACK_SLA: '7m', IS_LIVE: 'false' }),
      database, clock, logger: silentLogger(),
    });
  });
  afterAll(async () => {
    await ctx?.close();
    await database?.close();
  });

  it('fills the go-live runbook from the configuration and the latest audit run, for any reader', async () => {
    await ctx.db.insert(auditRuns).values([
      { at: new Date('2026-01-04T10:00:00Z'), actor: 'cli:old', mode: 'paper', dryRun: true, passed: false, summary: 'old', results: [{ title: 'Stale', status: 'fail', value: 'old failure', fix: null }] },
      { at: new Date('2026-01-05T02:00:00Z'), actor: 'U0OPS0001', mode: 'paper', dryRun: true, passed: false, summary: '1 fail',
        results: [{ title: 'Reconciliation', status: 'fail', value: '3 recent unmatched trades', fix: 'ctb reconcile' }] },
    ]);
    const result = await runCommand(runbookCommand, ctx, actor, { name: 'go-live' });
    expect(result.ok).toBe(true);
    expect(result.text).toContain('Generated 2026-01-05T03:00:00.000Z');
    expect(result.text).toContain('**No engine running** (no process holds the engine lease); **nothing trades** (persisted mode **paper**); not halted.');
    expect(result.text).toContain('This process (the one that wrote this) is not armed (IS_LIVE unset or false)');
    expect(result.text).toContain('[fail] **Reconciliation**: 3 recent unmatched trades — fix: ctb reconcile');
    expect(result.text).not.toContain('Stale');
    expect(result.text).toContain('`U0APR0001`, `U0APR0002`');
    expect(result.data.oncall).toEqual({ status: 'none' });
  });

  it("says the armed engine running elsewhere trades live, from its lease — not this unarmed shell's IS_LIVE", async () => {
    const worker = { holderId: 'worker-1:4242:00000000', host: 'worker-1', pid: 4242, role: 'worker', feed: 'kraken', armed: true, hasKrakenKeys: true };
    expect((await acquireLease(ctx.db, worker, ctx.config.ENGINE_LEASE_TTL)).acquired).toBe(true);
    await updateBotState(ctx.db, clock, { mode: 'live' });
    try {
      const result = await runCommand(runbookCommand, ctx, actor, { name: 'go-live' });
      expect(result.text).toContain('Engine runs in `worker-1:4242` (worker), **armed** (IS_LIVE=true there); trading in **live** (persisted mode **live**); not halted.');
      expect(result.text).toContain('This process (the one that wrote this) is not armed (IS_LIVE unset or false)');
      expect(result.text).not.toContain('live orders are impossible');
    } finally {
      await updateBotState(ctx.db, clock, { mode: 'paper' });
      await releaseLease(ctx.db, worker.holderId);
    }
  });

  it('shows a halted bot and the configured SLA in the incident runbook', async () => {
    await updateBotState(ctx.db, clock, { halted: true, haltedReason: 'kill: spread blew out', mode: 'paper' });
    const result = await runCommand(runbookCommand, ctx, actor, { name: 'incident' });
    expect(result.text).toContain('**HALTED** (kill: spread blew out)');
    expect(result.text).toContain('Each rung waits `7m` (ESCALATION_ACK_SLA)');
  });

  it('names the on-call person now and next from the rotation, and follows an override', async () => {
    const before = await runCommand(runbookCommand, ctx, actor, { name: 'incident' });
    expect(before.text).toContain('no rotation configured — run `ctb oncall set');
    // Who is on call is judged at the database's now(): the current shift hands over within 6 hours.
    const { now, handoffAt } = await rotationOnDatabaseClock(ctx.db, ['U0ONC0001', 'U0ONC0002', 'U0ONC0003'], { handoffInMs: 6 * 3_600_000, actor: 'cli:ops' });
    const rota = await runCommand(runbookCommand, ctx, actor, { name: 'incident' });
    expect(rota.text).toContain(`- On call now: \`U0ONC0001\` (until ${handoffAt.toISOString()})`);
    expect(rota.text).toContain(`- On call next: \`U0ONC0002\` (from ${handoffAt.toISOString()})`);
    expect(rota.text).not.toContain('no rotation configured');

    const coverEnds = new Date(now.getTime() + 2 * 3_600_000);
    await addOverride(ctx.db, { userId: 'U0SUB0009', startsAt: now, endsAt: coverEnds, actor: 'U0ONC0001', now });
    const covered = await runCommand(runbookCommand, ctx, actor, { name: 'go-live' });
    expect(covered.text).toContain(`- On call now: \`U0SUB0009\` (until ${coverEnds.toISOString()})`);
  });

  it('takes the escalation SLA, rounds and ladder from a stored critical policy over the env defaults', async () => {
    await savePolicy(ctx.db, { policy: { severity: 'critical', steps: ['oncall', 'approvers'], ackSlaMs: 120_000, maxRounds: 2, email: true }, now: clock.now(), actor: 'cli:ops', config: ctx.config });
    const result = await runCommand(runbookCommand, ctx, actor, { name: 'incident' });
    expect(result.text).toContain('pages, rung by rung: the person on call, then all approvers (`U0APR0001`, `U0APR0002`)');
    expect(result.text).toContain('Each rung waits `2m` (the stored critical escalation policy)');
    expect(result.text).toContain('up to `2` rounds (the stored critical escalation policy)');
    expect(result.text).not.toContain('`7m`');
  });

  it('shows the go-live thresholds of the gate policy the engine recorded, not this process\'s GOLIVE_*', async () => {
    const shell = await buildAppContext({ config: testConfig({ GOLIVE_MIN_PAPER_TRADES: '2', GOLIVE_ALERT_WINDOW: '1m' }), database, clock, logger: silentLogger() });
    try {
      const before = await runCommand(runbookCommand, shell, actor, { name: 'go-live' });
      expect(before.text).toContain('1. **Paper-trading criteria** (GOLIVE_*): at least `2` closed paper trades');
      await recordGatePolicy(ctx.db, { config: testConfig({ GOLIVE_MIN_PAPER_TRADES: '20', GOLIVE_ALERT_WINDOW: '3d' }), by: 'worker-host:4242 (worker)', at: clock.now() });
      const after = await runCommand(runbookCommand, shell, actor, { name: 'go-live' });
      expect(after.text).toContain("1. **Paper-trading criteria** (the gate policy recorded by the engine's process worker-host:4242 (worker)): at least `20` closed paper trades");
      expect(after.text).toContain('zero critical alerts in the last `3d`.');
    } finally {
      await shell.close();
    }
  });

  it('shows the log check window and drawdown guard of the gate policy the engine recorded, not this process\'s', async () => {
    const shell = await buildAppContext({ config: testConfig({ LOG_CHECK_WINDOW: '1h', RISK_APPETITE_MAX_DRAWDOWN_PCT: '90' }), database, clock, logger: silentLogger() });
    try {
      await recordGatePolicy(ctx.db, { config: testConfig({ LOG_CHECK_WINDOW: '3d', RISK_MAX_DRAWDOWN_PCT: '6', RISK_APPETITE_MAX_DRAWDOWN_PCT: '12' }), by: 'worker-host:4242 (worker)', at: clock.now() });
      const text = (await runCommand(runbookCommand, shell, actor, { name: 'go-live' })).text;
      expect(text).toMatch(/in the last `3d` \(the audit's log check\)\./);
      expect(text).not.toContain('`1h` (the audit');
      expect(text).toContain('new entries pause at `6` % drawdown');
      expect(text).toContain('appetite ceiling `12` %');
    } finally {
      await shell.close();
    }
  });

  it('rejects an unknown runbook with the expected names, and records the attempt', async () => {
    await expect(runCommand(runbookCommand, ctx, actor, { name: 'deploy' })).rejects.toMatchObject({ kind: 'usage', message: expect.stringMatching(/expected one of go-live, incident/) });
    const rows = await ctx.db.select().from(commandLog);
    expect(rows.some((r) => r.command === 'runbook' && r.result.startsWith('usage:'))).toBe(true);
  });
});

describe('ctb runbook docs --check', () => {
  it('exits 0 when the committed docs match the template', async () => {
    const out: string[] = [];
    const io = { env: {}, cwd: PROJECT_ROOT, stdout: { write: (s: string) => out.push(s) }, stderr: { write: (s: string) => out.push(s) } };
    expect(await runCli(['runbook', 'docs', '--check'], io)).toBe(0);
    expect(out.join('')).toContain('docs/go-live.md is up to date');
  });
});
