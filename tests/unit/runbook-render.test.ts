import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { testConfig } from '../../src/config/env.js';
import { PROJECT_ROOT } from '../../src/services/release/version.js';
import { auditInfo, runbookDataFromConfig } from '../../src/services/runbook/collect.js';
import type { RunbookData } from '../../src/domain/runbook/data.js';
import type { GateThresholds } from '../../src/domain/golive-thresholds.js';
import { DEFAULT_AUDIT_SETTINGS } from '../support/gate-thresholds.js';
import { engineFixture } from '../support/factories/dashboard.js';
import { configuredEngineLimits, configuredThresholds, gatePolicyOf } from '../../src/services/audit/gate-policy.js';
import { placeholderRunbookData, renderRunbook, RUNBOOK_DOCS, RUNBOOKS } from '../../src/domain/runbook/index.js';

function data(env: Record<string, string> = {}, over: Partial<RunbookData> = {}): RunbookData {
  return {
    generatedAt: '2026-01-05T03:00:00.000Z',
    release: 'v1.0-go-live',
    state: { engine: engineFixture({ armed: true }), tradingMode: 'paper', mode: 'paper', halted: false, haltedReason: null, armedHere: true },
    oncall: { status: 'none' },
    audit: { status: 'never_run' },
    ...runbookDataFromConfig(testConfig({
      SLACK_OPERATORS: 'U0OPS0001', SLACK_APPROVERS: 'U0APR0001,U0APR0002', SLACK_OPS_CHANNEL: 'C0OPS', SLACK_ALERTS_CHANNEL: 'C0ALERTS', ...env,
    })),
    ...over,
  };
}

describe('runbooks follow the configuration', () => {
  it('name the approvers in force, and change when SLACK_APPROVERS changes', () => {
    const before = renderRunbook('go-live', data());
    const after = renderRunbook('go-live', data({ SLACK_APPROVERS: 'U0APR0001,U0NEW0009' }));
    expect(before).toContain('Two **different** approvers from `U0APR0001`, `U0APR0002` react with :white_check_mark:');
    expect(after).toContain('Two **different** approvers from `U0APR0001`, `U0NEW0009` react with');
    expect(after).not.toContain('U0APR0002');
  });

  it('say plainly when nobody may approve', () => {
    expect(renderRunbook('go-live', data({ SLACK_APPROVERS: '' }))).toContain('Approvers (two must approve a live switch): **nobody** — set SLACK_APPROVERS');
  });

  it('show the escalation SLA, request TTL and emoji from the configuration', () => {
    const text = renderRunbook('incident', data({ ESCALATION_ACK_SLA: '90s', ESCALATION_MAX_ROUNDS: '4' }));
    expect(text).toContain('Each rung waits `90s` (ESCALATION_ACK_SLA)');
    expect(text).toContain('up to `4` rounds');
    expect(renderRunbook('incident', data({ ESCALATION_ACK_SLA: '15m' }))).toContain('Each rung waits `15m`');
    const golive = renderRunbook('go-live', data({ MODE_CHANGE_TTL: '45m', APPROVAL_EMOJI: ':rocket:' }));
    expect(golive).toContain('After `45m` the request expires');
    expect(golive).toContain('react with :rocket: on the request message');
  });

  it('show the on-call person now and next, or how to set up a rotation', () => {
    const none = renderRunbook('incident', data());
    expect(none).toContain('no rotation configured — run `ctb oncall set');
    const rota = renderRunbook('incident', data({}, {
      oncall: { status: 'configured', now: { user: 'U0ONC0001', at: '2026-01-05T09:00:00Z' }, next: { user: 'U0ONC0002', at: '2026-01-05T09:00:00Z' } },
    }));
    expect(rota).toContain('- On call now: `U0ONC0001` (until 2026-01-05T09:00:00Z)');
    expect(rota).toContain('- On call next: `U0ONC0002` (from 2026-01-05T09:00:00Z)');
    expect(rota).not.toContain('no rotation configured');
  });

  it('show the risk thresholds and go-live criteria in force', () => {
    const text = renderRunbook('go-live', data({ RISK_MAX_DRAWDOWN_PCT: '7.5', RISK_HARD_DRAWDOWN_PCT: '12', GOLIVE_MIN_PAPER_TRADES: '200', GOLIVE_MIN_ROI_PCT: '1.5' }));
    expect(text).toContain('new entries pause at `7.5` % drawdown');
    expect(text).toContain('the hard limit `12` % triggers a kill');
    expect(text).toContain('at least `200` closed paper trades');
    expect(text).toContain('ROI above `1.5` %');
  });

  it('list the checks failing in the latest audit run, failures first', () => {
    const audit = auditInfo({
      id: 7, at: new Date('2026-01-05T02:55:00Z'), actor: 'cli:ops', mode: 'paper', dryRun: true, passed: false, summary: '8 pass, 1 warn, 1 fail', thresholds: null,
      results: [
        { title: 'Mode', status: 'pass', value: 'paper', fix: null },
        { title: 'Backups & release', status: 'warn', value: 'not a tagged release', fix: 'git tag v1.0 && git push --tags' },
        { title: 'Credentials', status: 'fail', value: '.env mode is 0644', fix: 'chmod 600 .env' },
      ] as never,
    });
    const text = renderRunbook('go-live', data({}, { audit }));
    expect(text).toContain('Latest audit: 2026-01-05T02:55:00.000Z by `cli:ops` — **FAILED** (8 pass, 1 warn, 1 fail).');
    const failing = text.indexOf('[fail] **Credentials**: .env mode is 0644 — fix: chmod 600 .env');
    expect(failing).toBeGreaterThan(0);
    expect(text.indexOf('[warn] **Backups & release**')).toBeGreaterThan(failing);
    expect(text).not.toContain('**Mode**');
  });

  it('say of a pass by looser settings than the gate policy that resume and going live would not accept it', () => {
    const policy = gatePolicyOf({
      id: 1, minPaperTrades: 50, minRoiPct: '0', alertWindowMs: 7 * 86_400_000, recordedBy: 'worker-host:4242 (worker)', recordedAt: new Date('2026-01-05T01:00:00Z'),
      auditSettings: DEFAULT_AUDIT_SETTINGS, engineLimits: configuredEngineLimits(testConfig(), { file: '/srv/ctb/strategies.json', sha256: '0'.repeat(64) }), logScan: null,
    });
    const run = (over: Partial<GateThresholds>) => ({
      id: 7, at: new Date('2026-01-05T02:55:00Z'), actor: 'cli:ops', mode: 'paper' as const, dryRun: true, passed: true, summary: '10 pass, 0 warn, 0 fail', results: [],
      thresholds: { ...configuredThresholds(testConfig()), ...over },
    });
    const looser = renderRunbook('go-live', data({}, { audit: auditInfo(run({ logCheckWindowMs: 60_000 }), policy) }));
    expect(looser).toContain('— **passed under looser thresholds than the policy (LOG_CHECK_WINDOW 1m where the policy has 1d): not accepted for going live / resume — re-run the audit** (10 pass, 0 warn, 0 fail).');
    expect(looser).not.toContain('**PASSED**');
    expect(renderRunbook('go-live', data({}, { audit: auditInfo(run({}), policy) }))).toContain('— **PASSED** (10 pass, 0 warn, 0 fail).');
  });

  it('ask in go-live step 3 for every web replica to be armed itself (/mode live and the switch refuse in one that is not)', () => {
    const text = renderRunbook('go-live', data());
    expect(text).toContain('/healthz` on every web replica says `"armed":true`');
    expect(text).toContain('`"armedHere":true` (that replica\'s own: `/mode live` and the switch run in whichever');
  });

  it('tell the operator to run the audit when none has run', () => {
    expect(renderRunbook('go-live', data())).toContain('**No audit has run yet.** Run `ctb audit --dry-run`');
  });

  it("say the engine's arming from its lease, and this unarmed process's only as its own", () => {
    const state = { engine: engineFixture({ host: 'worker-1', pid: 4242, role: 'worker', armed: true }), tradingMode: 'live' as const, mode: 'live' as const,
      halted: false, haltedReason: null, armedHere: false };
    const text = renderRunbook('go-live', data({}, { state }));
    expect(text).toContain('Engine runs in `worker-1:4242` (worker), **armed** (IS_LIVE=true there); trading in **live** (persisted mode **live**); not halted.');
    expect(text).toContain('This process (the one that wrote this) is not armed (IS_LIVE unset or false); it places no orders unless it runs the engine.');
    expect(text).not.toContain('live orders are impossible');
  });

  it('say when no engine runs, and when the lease went stale (last renewed, stale since)', () => {
    const none = { engine: engineFixture({ state: 'none', host: null, pid: null }), tradingMode: 'paper' as const, mode: 'live' as const, halted: false, haltedReason: null, armedHere: true };
    expect(renderRunbook('incident', data({}, { state: none }))).toContain('**No engine running** (no process holds the engine lease); **nothing trades** (persisted mode **live**)');
    const stale = { ...none, engine: engineFixture({ state: 'stale', heartbeatAt: '2026-01-05T10:59:30.000Z', staleSince: '2026-01-05T11:00:00.000Z' }) };
    expect(renderRunbook('incident', data({}, { state: stale })))
      .toContain('**Engine bot-1:4242 stale: last renewed at 2026-01-05T10:59:30.000Z, stale since 2026-01-05T11:00:00.000Z, not armed — if it wakes it trades paper** (died or hung; no other process has taken over); **nothing trades while it hangs** (persisted mode **live**)');
  });

  it('say of a stale lease that its armed holder may resume LIVE trading if it wakes, not that no engine runs, and the mode unknown', () => {
    const engine = engineFixture({ state: 'stale', host: 'worker-1', pid: 4242, armed: true, heartbeatAt: '2026-01-05T10:59:30.000Z', staleSince: '2026-01-05T11:00:00.000Z' });
    const text = renderRunbook('incident', data({}, { state: { engine, tradingMode: 'unknown', mode: 'live', halted: false, haltedReason: null, armedHere: false } }));
    expect(text).toContain('**Engine worker-1:4242 stale: last renewed at 2026-01-05T10:59:30.000Z, stale since 2026-01-05T11:00:00.000Z, armed — it may resume LIVE trading if it wakes**');
    expect(text).not.toContain('No engine running');
    // Not a flat "nothing trades" next to "may resume LIVE trading", nor a mode of paper: the mode is unknown.
    expect(text).toContain('(died or hung; no other process has taken over); **mode unknown** (never paper: it may resume LIVE trading if it wakes; `ctb kill` cancels from any process) (persisted mode **live**)');
    expect(text).not.toContain('**nothing trades** (persisted');
    expect(text).not.toContain('nothing trades while it hangs');
    // Halted, a waking holder re-reads bot_state before every order: nothing trades, hung or not.
    const halted = renderRunbook('incident', data({}, { state: { engine, tradingMode: 'paper', mode: 'live', halted: true, haltedReason: 'kill by U0OPS0001', armedHere: false } }));
    expect(halted).toContain('**nothing trades** (persisted mode **live**); **HALTED** (kill by U0OPS0001)');
  });

  it('show a halted bot, and that nothing trades while it is halted', () => {
    const text = renderRunbook('incident', data({}, { state: { engine: engineFixture({ armed: true }), tradingMode: 'paper', mode: 'paper', halted: true, haltedReason: 'kill by U0OPS0001', armedHere: true } }));
    expect(text).toContain('**nothing trades** (persisted mode **paper**); **HALTED** (kill by U0OPS0001)');
    expect(text).not.toContain('trading in');
  });

  it('say the mode traded in while an engine runs and nothing halts it', () => {
    expect(renderRunbook('incident', data())).toContain('(IS_LIVE=true there); trading in **paper** (persisted mode **paper**); not halted.');
  });
});

describe('committed docs', () => {
  it.each(RUNBOOKS)('docs for %s match the runbook template rendered with placeholders (ctb runbook docs)', (name) => {
    const committed = readFileSync(join(PROJECT_ROOT, RUNBOOK_DOCS[name]), 'utf8');
    expect(committed).toBe(renderRunbook(name, placeholderRunbookData()));
  });
});
