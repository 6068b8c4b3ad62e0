import { describe, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';

import type { Actor } from '../../../src/app/context.js';
import { auditRuns } from '../../../src/db/schema/index.js';
import { updateBotState } from '../../../src/services/bot-state.js';
import { modeCheck } from '../../../src/services/audit/checks/mode.js';
import { acquireLease } from '../../../src/db/queries/engine-lease.js';
import { runAudit } from '../../../src/services/audit/run-audit.js';
import { latestAuditRun } from '../../../src/services/audit/store.js';
import { defineCheck, type AuditCheck } from '../../../src/services/audit/types.js';
import { usePostgresTestDb } from '../../support/db.js';
import { testContext } from '../../support/app-context.js';

const actor: Actor = { id: 'cli:alice', source: 'cli' };
const check = (id: string, run: AuditCheck['run'], extra: Partial<AuditCheck> = {}): AuditCheck =>
  defineCheck({ id, title: id, checklistSection: 5, run, ...extra });

const database = usePostgresTestDb({ truncate: ['audit_runs', 'bot_state', 'engine_lease'] });

describe('the audit runner', () => {
  it('stores every whole run with who, when, mode and results, and latestAuditRun returns the newest', async () => {
    const ctx = await testContext({ database: database() });
    const first = await runAudit(ctx, { actor, dryRun: true, cwd: '.', checks: [check('a.one', async () => ({ status: 'fail', value: 'bad', fix: 'fix it' }))] });
    ctx.clock.advance(60_000);
    const second = await runAudit(ctx, { actor, dryRun: false, cwd: '.', checks: [check('a.one', async () => ({ status: 'warn', value: 'meh', fix: 'later' }))] });
    expect(first.ok).toBe(false);
    expect(second.ok).toBe(true);
    const latest = await latestAuditRun(ctx.db);
    expect(latest).toMatchObject({ id: second.runId, actor: 'cli:alice', mode: 'paper', dryRun: false, passed: true });
    expect(latest?.at.toISOString()).toBe('2026-01-05T12:01:00.000Z');
    expect(latest?.results[0]).toMatchObject({ id: 'a.one', status: 'warn', value: 'meh', fix: 'later', section: 5, sectionTitle: 'Health Audits' });
    expect((await latestAuditRun(ctx.db, { dryRun: true }))?.id).toBe(first.runId);
  });

  it("records the mode the running engine trades in (its lease), not this unarmed process's", async () => {
    const ctx = await testContext({ database: database() });
    await acquireLease(ctx.db, { holderId: 'worker-1:4242:00000000', host: 'worker-1', pid: 4242, role: 'worker', feed: 'kraken', armed: true, hasKrakenKeys: true },
      ctx.config.ENGINE_LEASE_TTL);
    await updateBotState(ctx.db, ctx.clock, { mode: 'live' });
    const report = await runAudit(ctx, { actor, dryRun: true, cwd: '.', checks: [check('a.one', async () => ({ status: 'pass', value: 'ok', fix: null }))] });
    // schemaVersion 2: `mode` became the engine's; 3: it may be unknown (docs/audit-json.md).
    expect(report).toMatchObject({ schemaVersion: 3, mode: 'live', armed: false, summaryLine: 'AUDIT PASSED — 1 pass, 0 warn, 0 fail (dry run, live mode)' });
    expect(await latestAuditRun(ctx.db)).toMatchObject({ id: report.runId, mode: 'live' });
  });

  it('returns null from latestAuditRun when no audit ever ran', async () => {
    const ctx = await testContext({ database: database() });
    expect(await latestAuditRun(ctx.db)).toBeNull();
  });

  it('turns a throwing check into a failed line without stopping the others, and never prints a configured secret', async () => {
    const key = `K${'a1'.repeat(20)}`;
    const ctx = await testContext({ database: database(), env: { KRAKEN_API_KEY: key, KRAKEN_API_SECRET: 'c2VjcmV0c2VjcmV0' } });
    const report = await runAudit(ctx, {
      actor, dryRun: true, cwd: '.',
      checks: [
        check('a.crash', async () => { throw new Error(`boom with ${key}`); }),
        check('a.fine', async () => ({ status: 'pass', value: 'ok', fix: 'ignored when passing' })),
      ],
    });
    expect(report.results.map((r) => [r.id, r.status])).toEqual([['a.crash', 'fail'], ['a.fine', 'pass']]);
    expect(report.results[0]!.value).toContain('check could not run: boom with [redacted]');
    expect(JSON.stringify(report)).not.toContain(key);
    expect(report.results[1]!.fix).toBeNull();
    expect(report.summary).toEqual({ pass: 1, warn: 0, fail: 1, total: 2 });
    expect(report.summaryLine).toBe('AUDIT FAILED — 1 pass, 0 warn, 1 fail (dry run, paper mode)');
  });

  it('fails a check that outlives its timeout', async () => {
    const ctx = await testContext({ database: database() });
    const report = await runAudit(ctx, {
      actor, dryRun: true, cwd: '.',
      checks: [check('a.slow', () => new Promise(() => {}), { timeoutMs: 50 })],
    });
    expect(report.results[0]).toMatchObject({ status: 'fail', value: 'check could not run: timed out after 50 ms' });
  });

  it('runs only the named checks for a partial run and does not store it', async () => {
    const ctx = await testContext({ database: database() });
    const checks = [check('a.one', async () => ({ status: 'pass', value: '1', fix: null })), check('a.two', async () => ({ status: 'fail', value: '2', fix: 'x' }))];
    const report = await runAudit(ctx, { actor, dryRun: true, cwd: '.', checks, only: ['a.one'] });
    expect(report.results.map((r) => r.id)).toEqual(['a.one']);
    expect(report.runId).toBe(0);
    expect(report.summaryLine.startsWith('CHECK PASSED')).toBe(true);
    expect(await ctx.db.select().from(auditRuns)).toHaveLength(0);
    await expect(runAudit(ctx, { actor, dryRun: true, cwd: '.', checks, only: ['a.nope'] })).rejects.toThrow(/Unknown audit check: a.nope/);
  });

  it('gives each check a Kraken handle that refuses order-changing calls in a dry run', async () => {
    const calls: string[] = [];
    const fakeKraken = new Proxy({ venue: 'kraken' }, {
      get: (target, prop) => (prop === 'venue' ? 'kraken' : async () => { calls.push(String(prop)); return undefined; }),
    });
    const env = { KRAKEN_API_KEY: 'key-for-test', KRAKEN_API_SECRET: 'c2VjcmV0c2VjcmV0', IS_LIVE: 'true' };
    const ctx = await testContext({ database: database(), env, exchanges: { kraken: () => fakeKraken as never } });
    const report = await runAudit(ctx, {
      actor, dryRun: true, cwd: '.',
      checks: [check('a.cancel', async (c) => { await c.kraken()!.cancelAllOrders(); return { status: 'pass', value: 'cancelled', fix: null }; }),
        check('a.read', async (c) => { await c.kraken()!.fetchBalances(); return { status: 'pass', value: 'read', fix: null }; })],
    });
    expect(report.results[0]).toMatchObject({ status: 'fail', value: expect.stringContaining('read-only') });
    expect(calls).toEqual(['fetchBalances']);
  });
});

describe('mode.state', () => {
  const run = async (ctx: Awaited<ReturnType<typeof testContext>>) =>
    (await runAudit(ctx, { actor, dryRun: true, cwd: '.', checks: [modeCheck] })).results[0]!;

  const worker = (armed: boolean) => ({ holderId: 'worker-1:4242:00000000', host: 'worker-1', pid: 4242, role: 'worker', feed: 'kraken', armed, hasKrakenKeys: armed });

  it('passes in paper mode, no engine running, not halted', async () => {
    const ctx = await testContext({ database: database() });
    expect(await run(ctx)).toMatchObject({ status: 'pass', value: 'IS_LIVE default false; paper mode, no engine running, not halted' });
  });

  it('warns when the database says live but no engine is running', async () => {
    const ctx = await testContext({ database: database() });
    await updateBotState(ctx.db, ctx.clock, { mode: 'live' });
    const result = await run(ctx);
    expect(result).toMatchObject({ status: 'warn', details: { storedMode: 'live', effectiveMode: 'paper' } });
    expect(result.value).toContain('no engine is running, so nothing trades');
  });

  it('warns when the database says live but the running engine is not armed', async () => {
    const ctx = await testContext({ database: database() });
    await acquireLease(ctx.db, worker(false), ctx.config.ENGINE_LEASE_TTL);
    await updateBotState(ctx.db, ctx.clock, { mode: 'live' });
    const result = await run(ctx);
    expect(result).toMatchObject({ status: 'warn', details: { storedMode: 'live', effectiveMode: 'paper', armed: false } });
    expect(result.value).toBe('IS_LIVE default false; paper mode, engine worker-1:4242 not armed, not halted; the database says live but the engine is not armed, so it trades paper');
    // The lease was taken before bot_state said live: no withdrawal happened, and the fix does not claim one.
    expect(result.fix).toBe('The engine worker-1:4242 is not armed, so this live approval does not hold: record the rollback with `ctb mode paper` '
      + '(an engine withdraws it itself only when it takes the lease unarmed). Going live again needs IS_LIVE=true in its process, then /mode live and two approvals.');
  });

  it('warns in paper mode while the running engine is not armed: a live switch is refused, and how to arm it', async () => {
    const ctx = await testContext({ database: database(), env: { IS_LIVE: 'true', KRAKEN_API_KEY: 'k', KRAKEN_API_SECRET: 's' } });
    await acquireLease(ctx.db, worker(false), ctx.config.ENGINE_LEASE_TTL);
    expect(await run(ctx)).toMatchObject({
      status: 'warn',
      value: 'IS_LIVE default false; paper mode, engine worker-1:4242 not armed, not halted; a live switch is refused while the engine is not armed',
      fix: 'Restart the worker on worker-1 (pid 4242) with IS_LIVE=true and a Trade-only Kraken key (KRAKEN_API_KEY, KRAKEN_API_SECRET), then request live again.',
      details: { storedMode: 'paper', armed: false, armedHere: true },
    });
  });

  it("judges the running engine's arming from its lease, not this unarmed process's (a web replica, a shell)", async () => {
    const ctx = await testContext({ database: database() });
    expect(ctx.exchanges.armed).toBe(false);
    await acquireLease(ctx.db, worker(true), ctx.config.ENGINE_LEASE_TTL);
    await updateBotState(ctx.db, ctx.clock, { mode: 'live' });
    expect(await run(ctx)).toMatchObject({
      status: 'pass', value: 'IS_LIVE default false; live mode, engine worker-1:4242 armed, not halted',
      details: { storedMode: 'live', effectiveMode: 'live', armed: true, armedHere: false },
    });
  });

  it("says of a stale lease that its armed holder may resume LIVE trading if it wakes, and warns while the database says live", async () => {
    const ctx = await testContext({ database: database() });
    await acquireLease(ctx.db, worker(true), ctx.config.ENGINE_LEASE_TTL);
    await ctx.db.execute(sql`update engine_lease set heartbeat_at = now() - interval '1 hour'`);
    await updateBotState(ctx.db, ctx.clock, { mode: 'live' });
    const result = await run(ctx);
    expect(result).toMatchObject({ status: 'warn', details: { storedMode: 'live', effectiveMode: 'unknown', armed: true, engine: { state: 'stale', armed: true } } });
    expect(result.value).toMatch(/^IS_LIVE default false; mode unknown, engine worker-1:4242 stale: last renewed at \S+, stale since \S+, armed — it may resume LIVE trading if it wakes, not halted; /);
    expect(result.value).not.toContain('no engine');
    expect(result.fix).toContain('worker-1:4242');
  });

  it('warns (not fails, so ctb resume can be gated on a passing audit) while the engine is halted', async () => {
    const ctx = await testContext({ database: database(), env: { IS_LIVE: 'true', KRAKEN_API_KEY: 'k', KRAKEN_API_SECRET: 's' } });
    await updateBotState(ctx.db, ctx.clock, { halted: true, haltedReason: 'kill by U1' });
    const result = await run(ctx);
    expect(result.status).toBe('warn');
    expect(result.value).toContain('no engine running, halted (kill by U1)');
  });
});
