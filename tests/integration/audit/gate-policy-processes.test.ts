// The go-live gate policy across real processes on one PostgreSQL database: the engine's process
// (`ctb start --role worker`) records the thresholds and the audit settings it runs with (those that
// can turn a failing check into a passing one: ROI_TOLERANCE_PCT, LOG_CHECK_WINDOW,
// PAPER_STARTING_BALANCE, RECONCILE_LEGACY_CUTOFF, the drawdown guard's appetite and limits).
// `ctb audit` in a shell whose environment sets a looser GOLIVE_ALERT_WINDOW, or a shorter
// LOG_CHECK_WINDOW and a wider RISK_APPETITE_MAX_DRAWDOWN_PCT, judges by the policy and says it ignored
// the override; `ctb resume` in a shell refuses an audit that judged by looser thresholds than the
// policy (or a different PAPER_STARTING_BALANCE), and accepts one at the policy or stricter. One engine
// records the policy for both tests: each judges what it recorded, and starting it again for the
// second would record the same.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { desc } from 'drizzle-orm';
import { beforeAll, describe, expect, it } from 'vitest';
import { alertEvents, alertGroups, auditRuns, golivePolicy, type GateThresholds } from '../../../src/db/schema/index.js';
import { getBotState } from '../../../src/services/bot-state.js';
import type { CheckResult } from '../../../src/services/audit/types.js';
import { useGateProcesses } from '../../support/gate-processes.js';
import { baseEnv } from '../engine-lease/one-engine-bots.js';
import { BOT_RISK_SETTINGS } from '../../support/gate-thresholds.js';

const DAY = 86_400_000;
/** What the engine runs with: one paper trade (the least allowed), any ROI, no critical alert in 7 days; the audit settings named. */
const ENGINE_GOLIVE = { GOLIVE_MIN_PAPER_TRADES: '1', GOLIVE_MIN_ROI_PCT: '-100', GOLIVE_ALERT_WINDOW: '7d' };
const ENGINE_ENV = { ...ENGINE_GOLIVE, ROI_TOLERANCE_PCT: '0.25', LOG_CHECK_WINDOW: '2d', PAPER_STARTING_BALANCE: '5000' };
const POLICY: GateThresholds = {
  minPaperTrades: 1, minRoiPct: '-100', alertWindowMs: 7 * DAY, roiTolerancePct: '0.25', logCheckWindowMs: 2 * DAY, paperStartingBalance: '5000', legacyCutoff: null,
  riskAppetitePct: '20', ...BOT_RISK_SETTINGS,
};

const bed = useGateProcesses();

/** The policy the engine's process recorded and who it says recorded it: set once beforeAll has run. */
let stored: typeof golivePolicy.$inferSelect;
let recordedBy: string;

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ctb-gate-policy-'));
  const env = baseEnv(dir, { DATABASE_URL: bed.database.url, ...ENGINE_ENV }, { idle: true });
  // An unhandled error an hour ago in the engine's log, which the engine scans and publishes at
  // start: outside a 1-minute log window, inside the policy's 2 days.
  ({ stored, recordedBy } = await bed.enginePolicy(env, dir, 3_600_000));
}, 240_000);

describe('the go-live gate policy across processes', () => {
  it('is recorded by the engine, held over a shell\'s looser GOLIVE_ALERT_WINDOW by ctb audit and by ctb resume', async () => {
    expect(stored).toMatchObject({ minPaperTrades: 1, minRoiPct: '-100', alertWindowMs: 7 * DAY, recordedBy });

    // A critical alert half an hour ago: outside a 1-minute window, inside the policy's 7 days.
    const at = new Date(Date.now() - 30 * 60_000);
    const [g] = await bed.database.db.insert(alertGroups).values({ fingerprint: 'exchange-down', source: 'exchange', severity: 'critical', title: 'down', firstAt: at, lastAt: at }).returning();
    await bed.database.db.insert(alertEvents).values({ groupId: g!.id, at, source: 'exchange', severity: 'critical', title: 'down' });

    const audit = await bed.shell(['audit', '--dry-run'], { ...ENGINE_GOLIVE, GOLIVE_ALERT_WINDOW: '1m' });
    expect(audit.code, audit.stderr).toBe(1);
    const said = audit.stdout.replace(/\n {2}/g, ' '); // its lines wrap at the terminal's width
    expect(said).toContain(`Go-live thresholds: ≥ 1 paper trades, paper ROI > -100%, no critical alert in 7d — the gate policy recorded by the engine's process ${recordedBy} at ${stored!.recordedAt.toISOString()}.`);
    expect(said).toContain('GOLIVE_ALERT_WINDOW=1m in this environment is looser than the gate policy (7d) and was ignored');
    const [run] = await bed.database.db.select().from(auditRuns).orderBy(desc(auditRuns.id)).limit(1);
    expect(run!.thresholds).toEqual(POLICY);
    const criteria = (run!.results as CheckResult[]).find((r) => r.id === 'golive.criteria')!;
    expect(criteria.status).toBe('fail');
    expect(criteria.value).toContain('1 critical alerts in 7d (need 0)');

    // An audit that judged by a looser window (a shell of an older version, say) does not lift a halt.
    await bed.halt();
    const looser = await bed.auditRow({ ...POLICY, alertWindowMs: 60_000 });
    const refused = await bed.shell(['resume'], { GOLIVE_ALERT_WINDOW: '1m' });
    expect(refused.code, refused.stdout).toBe(1);
    expect(refused.stderr).toContain(`Audit run ${looser} judged by looser go-live thresholds than the gate policy (recorded by the engine's process ${recordedBy} at ${stored!.recordedAt.toISOString()}): GOLIVE_ALERT_WINDOW 1m where the policy has 7d.`);
    expect(refused.stderr).toContain('Run ctb audit again without GOLIVE_ALERT_WINDOW set in that shell\'s environment (or .env)');
    expect((await getBotState(bed.database.db)).halted).toBe(true);

    // At the policy, or stricter, it does.
    await bed.auditRow(POLICY);
    const atPolicy = await bed.shell(['resume']);
    expect(atPolicy.code, atPolicy.stderr).toBe(0);
    expect((await getBotState(bed.database.db)).halted).toBe(false);

    await bed.halt();
    await bed.auditRow({ ...POLICY, minPaperTrades: 10, minRoiPct: '0', alertWindowMs: 14 * DAY });
    const stricter = await bed.shell(['resume'], { GOLIVE_ALERT_WINDOW: '1m' });
    expect(stricter.code, stricter.stderr).toBe(0);
    expect((await getBotState(bed.database.db)).halted).toBe(false);
  }, 240_000);
});

describe('the audit settings of the gate policy across processes', () => {
  it('are recorded by the engine, held over a shell\'s shorter LOG_CHECK_WINDOW by ctb audit, and over a looser or different one by ctb resume', async () => {
    const { minPaperTrades: _t, minRoiPct: _r, alertWindowMs: _w, ...settings } = POLICY;
    expect(stored).toMatchObject({ recordedBy, auditSettings: settings });

    const audit = await bed.shell(['audit', '--dry-run'], { ...ENGINE_ENV, LOG_CHECK_WINDOW: '1m', RISK_APPETITE_MAX_DRAWDOWN_PCT: '100' });
    expect(audit.code, audit.stderr).toBe(1);
    const said = audit.stdout.replace(/\n {2}/g, ' ');
    expect(said).toContain('Audit settings judged by: ROI_TOLERANCE_PCT 0.25 pp, LOG_CHECK_WINDOW 2d, PAPER_STARTING_BALANCE 5000, RECONCILE_LEGACY_CUTOFF unset (the first live ledger fill), '
      + 'RISK_APPETITE_MAX_DRAWDOWN_PCT 20%, RISK_MAX_DRAWDOWN_PCT 100%, RISK_DAILY_LOSS_PCT 100%, RISK_HARD_DRAWDOWN_PCT 100%.');
    expect(said).toContain('LOG_CHECK_WINDOW=1m in this environment is looser than the gate policy (2d) and was ignored');
    expect(said).toContain('RISK_APPETITE_MAX_DRAWDOWN_PCT=100% in this environment is looser than the gate policy (20%) and was ignored');
    const [run] = await bed.database.db.select().from(auditRuns).orderBy(desc(auditRuns.id)).limit(1);
    expect(run!.thresholds).toEqual(POLICY);
    const logCheck = (run!.results as CheckResult[]).find((r) => r.id === 'logs.unhandled_errors')!;
    expect(logCheck.status).toBe('fail');
    expect(logCheck.value).toContain('1 unhandled error in the last 2d');
    const drawdown = (run!.results as CheckResult[]).find((r) => r.id === 'risk.drawdown_guard')!;
    expect(drawdown.status).toBe('fail');
    expect(drawdown.value).toBe('pause at 100% drawdown, hard stop at 100%, daily loss 100%; appetite 20%: RISK_MAX_DRAWDOWN_PCT, RISK_HARD_DRAWDOWN_PCT, RISK_DAILY_LOSS_PCT beyond the appetite');

    // An audit that judged by a looser ROI tolerance, or another paper starting balance, does not lift a halt.
    await bed.halt();
    const looser = await bed.auditRow({ ...POLICY, roiTolerancePct: '5' });
    const refused = await bed.shell(['resume']);
    expect(refused.code, refused.stdout).toBe(1);
    expect(refused.stderr).toContain(`Audit run ${looser} judged by looser go-live thresholds than the gate policy (recorded by the engine's process ${recordedBy} at ${stored!.recordedAt.toISOString()}): ROI_TOLERANCE_PCT 5 pp where the policy has 0.25 pp.`);
    expect(refused.stderr).toContain('Run ctb audit again without ROI_TOLERANCE_PCT set in that shell\'s environment (or .env)');

    const other = await bed.auditRow({ ...POLICY, paperStartingBalance: '500' });
    const refusedToo = await bed.shell(['resume']);
    expect(refusedToo.code, refusedToo.stdout).toBe(1);
    expect(refusedToo.stderr).toContain(`Audit run ${other} judged by looser go-live thresholds than the gate policy (recorded by the engine's process ${recordedBy} at ${stored!.recordedAt.toISOString()}): PAPER_STARTING_BALANCE 500 where the policy has 5000 (must match).`);
    expect((await getBotState(bed.database.db)).halted).toBe(true);

    // At the policy, with a stricter tolerance and a longer log window, it does.
    await bed.auditRow({ ...POLICY, roiTolerancePct: '0.1', logCheckWindowMs: 3 * DAY });
    const accepted = await bed.shell(['resume']);
    expect(accepted.code, accepted.stderr).toBe(0);
    expect((await getBotState(bed.database.db)).halted).toBe(false);
  }, 240_000);
});
