// The go-live gate policy across real processes on one PostgreSQL database: the engine's process
// (`ctb start --role worker`) records the thresholds it runs with; `ctb audit` in a shell whose
// environment sets a looser GOLIVE_ALERT_WINDOW judges by the policy and says it ignored the
// override; `ctb resume` in a shell refuses an audit that judged by looser thresholds than the
// policy, and accepts one at the policy or stricter.
import { mkdtempSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { desc } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { alertEvents, alertGroups, auditRuns, golivePolicy, type GateThresholds } from '../../../src/db/schema/index.js';
import { getBotState } from '../../../src/services/bot-state.js';
import type { CheckResult } from '../../../src/services/audit/types.js';
import { useGateProcesses } from '../../support/gate-processes.js';
import { baseEnv, bot, killBotsAfterEach } from '../engine-lease/one-engine-bots.js';
import { BOT_RISK_SETTINGS, DEFAULT_AUDIT_SETTINGS } from '../../support/gate-thresholds.js';

killBotsAfterEach();

const DAY = 86_400_000;
/** What the engine runs with: one paper trade (the least allowed), any ROI, no critical alert in 7 days. */
const ENGINE_GOLIVE = { GOLIVE_MIN_PAPER_TRADES: '1', GOLIVE_MIN_ROI_PCT: '-100', GOLIVE_ALERT_WINDOW: '7d' };
const POLICY: GateThresholds = { minPaperTrades: 1, minRoiPct: '-100', alertWindowMs: 7 * DAY, ...DEFAULT_AUDIT_SETTINGS, ...BOT_RISK_SETTINGS };

const bed = useGateProcesses();

describe('the go-live gate policy across processes', () => {
  it('is recorded by the engine, held over a shell\'s looser GOLIVE_ALERT_WINDOW by ctb audit and by ctb resume', async () => {
    // The engine's process records its thresholds when it takes the engine lease.
    const dir = mkdtempSync(join(tmpdir(), 'ctb-gate-policy-'));
    const engine = bot(['start', '--role', 'worker'], baseEnv(dir, { DATABASE_URL: bed.database.url, ...ENGINE_GOLIVE }, { idle: true }), dir);
    await engine.waitFor(/go-live gate policy recorded/, 120_000);
    const [stored] = await bed.database.db.select().from(golivePolicy);
    const recordedBy = `${hostname()}:${engine.pid} (worker)`;
    expect(stored).toMatchObject({ minPaperTrades: 1, minRoiPct: '-100', alertWindowMs: 7 * DAY, recordedBy });
    engine.kill('SIGTERM');
    await engine.exited;

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
