// What the audit judges is the engine's, across real processes on one PostgreSQL database: the
// engine's process (`ctb start --role worker`) records its RISK_PRICE_BAND_PCT,
// RISK_MAX_ORDERS_PER_MINUTE, RISK_MAX_OPEN_ORDERS, the strategies file it loaded (path and sha256),
// its SLACK_APPROVERS and alert channels with the gate policy, and scans its own LOG_DIR and publishes
// what it found (when, by whom, over which window). One engine records them for both tests: each
// judges what it recorded, and starting it again for the second would record the same.
//
// Limits and strategies: `ctb audit` in a shell whose environment sets stricter limits and points
// STRATEGIES_FILE at a well-limited file judges the engine's values and file all the same, and says
// whose they are; a strategies file changed since the engine loaded it fails.
//
// Logs, approvers, alert channels: `ctb audit` in a shell that points LOG_DIR at an empty directory,
// lists three approvers and configures email all the same judges the engine's scan (and fails on the
// error there), the engine's single approver and its lack of any alert channel, and says whose values
// they are and how old. A directory at the engine's LOG_DIR path on the auditing host (another host's,
// or a clean one) is never read as the engine's; with no scan published, or one too old, the log
// checks fail as not judged, saying how to fix it. Those three judge the auditing host's directory and
// the published scan once the engine has stopped: the log checks run in this process (the auditing
// host), since the shell's `ctb audit` above shows the judgement crossing processes (another `ctb
// audit` child each cost some 0.8 CPU-s).
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../../src/clock.js';
import { alertTests, golivePolicy } from '../../../src/db/schema/index.js';
import { DEFAULT_STRATEGIES_FILE } from '../../../src/engine/strategies/config.js';
import { logRotationCheck } from '../../../src/services/audit/checks/logging.js';
import { unhandledErrorsCheck } from '../../../src/services/audit/checks/logs.js';
import { runAudit } from '../../../src/services/audit/run-audit.js';
import type { CheckResult } from '../../../src/services/audit/types.js';
import { testContext } from '../../support/app-context.js';
import { ctbInShell } from '../../support/ctb-shell.js';
import { useGateProcesses } from '../../support/gate-processes.js';
import { baseEnv } from '../engine-lease/one-engine-bots.js';

const bed = useGateProcesses();

/** What a shell sets: limits that pass, and the repository's well-limited strategies file. */
const STRICT_SHELL = {
  RISK_PRICE_BAND_PCT: '1', RISK_MAX_ORDERS_PER_MINUTE: '10', RISK_MAX_OPEN_ORDERS: '1,2', STRATEGIES_FILE: DEFAULT_STRATEGIES_FILE,
};

/** The log checks as an audit on the auditing host judges them, with its environment, on the real time; by check id. */
async function logChecksHere(env: Record<string, string>): Promise<Map<string, CheckResult>> {
  const ctx = await testContext({ database: bed.database, env, clock: new ManualClock(new Date()) });
  try {
    const cwd = mkdtempSync(join(tmpdir(), 'ctb-shell-'));
    const report = await runAudit(ctx, { actor: { id: 'cli:laptop', source: 'cli' }, cwd, dryRun: true, checks: [unhandledErrorsCheck, logRotationCheck] });
    return new Map(report.results.map((r) => [r.id, r]));
  } finally {
    await ctx.close();
  }
}

/** The engine's directory and environment, the policy it recorded and who it says recorded it: set once beforeAll has run. */
let dir: string;
let env: Record<string, string>;
let loaded: Buffer;
let stored: typeof golivePolicy.$inferSelect;
let recordedBy: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ctb-gate-engine-'));
  // The engine runs a 25 % band and 1000 orders a minute (baseEnv), its own strategies file and one
  // approver; it records them when it takes the lease, so it need not trade (idle: a short replay, a
  // candle an hour).
  env = baseEnv(dir, { DATABASE_URL: bed.database.url, RISK_PRICE_BAND_PCT: '25', RISK_MAX_OPEN_ORDERS: '4,12', SLACK_APPROVERS: 'U0ENGINE1' }, { idle: true });
  // An unhandled error in the engine's log a minute ago: the engine's scan at start finds it.
  ({ stored, recordedBy } = await bed.enginePolicy(env, dir, 60_000));
  loaded = readFileSync(env.STRATEGIES_FILE!);
}, 240_000);

describe('the engine\'s pre-trade limits and strategies across processes', () => {
  it('are recorded by the engine and judged by ctb audit in a shell that sets stricter ones', async () => {
    expect(stored).toMatchObject({
      recordedBy,
      engineLimits: {
        maxOrderNotional: 2500, priceBandPct: 25, maxOpenOrders: { perPair: 4, total: 12 }, maxOrdersPerMinute: 1000, selfTradePrevention: 'cancel-newest',
        strategiesFile: env.STRATEGIES_FILE, strategiesSha256: createHash('sha256').update(loaded).digest('hex'),
      },
    });
    const whose = `(the engine's, recorded by its process ${recordedBy} at ${stored!.recordedAt.toISOString()})`;

    const audit = await ctbInShell(['audit', '--dry-run'], { DATABASE_URL: bed.database.url, ...STRICT_SHELL });
    expect(audit.code, audit.stderr).toBe(1);
    let results = await bed.latestRun();
    const gate = results.get('risk.pre_trade_gate')!;
    expect(gate.status).toBe('fail');
    expect(gate.value).toContain(`notional ≤ 2500, band 25%, open orders 4/pair 12 in all, 1000 orders/min per pair, STP cancel-newest ${whose}`);
    expect(gate.value).toContain('RISK_PRICE_BAND_PCT 25% is wider than 10%');
    expect(gate.value).toContain("RISK_MAX_ORDERS_PER_MINUTE 1000 is above Kraken's highest trading counter (180)");
    expect(gate.fix).toContain("in the engine's environment and restart the engine (ctb start)");
    expect(results.get('risk.strategy_limits')).toMatchObject({ status: 'pass', value: `1 enabled strategy, all limited in ${env.STRATEGIES_FILE} ${whose}` });

    // The file changes under the stopped engine: what it loaded is no longer what the file says.
    writeFileSync(env.STRATEGIES_FILE!, readFileSync(DEFAULT_STRATEGIES_FILE));
    await ctbInShell(['audit', '--dry-run'], { DATABASE_URL: bed.database.url, ...STRICT_SHELL });
    results = await bed.latestRun();
    const strategies = results.get('risk.strategy_limits')!;
    expect(strategies.status).toBe('fail');
    expect(strategies.value).toMatch(new RegExp(`^${env.STRATEGIES_FILE!.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is not what the engine loaded: sha256 [0-9a-f]{12} now, [0-9a-f]{12} when loaded`));
    expect(strategies.fix).toContain('restart the engine (ctb start) so it loads and records this file');
  }, 240_000);
});

describe('the engine\'s logs, approvers and alert channels across processes', () => {
  it('are recorded by the engine and judged by ctb audit in a shell that sets looser ones', async () => {
    expect(stored).toMatchObject({
      recordedBy, engineLimits: { slackApprovers: ['U0ENGINE1'], alertChannels: { slack: null, email: null } },
      logScan: { by: recordedBy, logDir: env.LOG_DIR, windowMs: 86_400_000, scan: { ok: false, total: 1 } },
    });
    // Its LOG_DIR is judged by the scan it publishes (logScan), not recorded with its limits.
    expect(stored!.engineLimits).not.toHaveProperty('logDir');
    const whose = `the engine's process ${recordedBy}, recorded at ${stored!.recordedAt.toISOString()}`;
    const scanned = `(the engine's process ${recordedBy}, scanned ${env.LOG_DIR} at ${stored!.logScan!.at}, `;

    // A shell whose LOG_DIR is empty, that lists three approvers and sends email (and a test that delivered by email).
    const empty = join(dir, 'empty-logs');
    mkdirSync(empty);
    await bed.database.db.insert(alertTests).values({ at: new Date(), actor: 'cli:laptop', severity: 'critical', ok: true, channels: { email: { status: 'sent' } } });
    const shell = {
      DATABASE_URL: bed.database.url, LOG_DIR: empty, SLACK_APPROVERS: 'U0SHELL1,U0SHELL2,U0SHELL3', SMTP_URL: 'smtp://mail.example.com:25', ALERT_EMAIL_TO: 'ops@example.com',
    };
    const audit = await ctbInShell(['audit', '--dry-run'], shell);
    expect(audit.code, audit.stderr).toBe(1);
    let results = await bed.latestRun();
    const logs = results.get('logs.unhandled_errors')!;
    expect(logs.status).toBe('fail');
    expect(logs.value).toContain('1 unhandled error in the last 1d: ');
    expect(logs.value).toContain(scanned);
    expect(results.get('logging.rotation')).toMatchObject({ status: 'pass' });
    expect(results.get('logging.rotation')!.value).toContain(scanned);
    expect(results.get('mode.approvers')).toMatchObject({
      status: 'warn', value: `SLACK_APPROVERS lists only U0ENGINE1: a live switch cannot be approved (it needs 2 approvers besides the requester) (SLACK_APPROVERS of ${whose})`,
    });
    expect(results.get('alerting.channels')).toMatchObject({ status: 'fail', value: `no alert channel configured (alert channels of ${whose})` });

    // The auditing host has a clean directory at the engine's LOG_DIR path (its own logs, as a web
    // process on another host would): it is not the engine's, and the engine's error still fails the check.
    rmSync(env.LOG_DIR!, { recursive: true, force: true });
    mkdirSync(env.LOG_DIR!);
    writeFileSync(join(env.LOG_DIR!, 'system.log'), `${JSON.stringify({ level: 30, time: Date.now(), pid: 2, msg: 'web started' })}\n`);
    results = await logChecksHere({ ...shell, LOG_DIR: env.LOG_DIR! });
    expect(results.get('logs.unhandled_errors')).toMatchObject({ status: 'fail' });
    expect(results.get('logs.unhandled_errors')!.value).toContain(scanned);

    // No scan published (an engine of an older version): not judged, and how to fix it.
    await bed.database.db.update(golivePolicy).set({ logScan: null });
    results = await logChecksHere(shell);
    const none = `not judged: the engine's process ${recordedBy} has published no scan of its logs to the database`;
    for (const id of ['logs.unhandled_errors', 'logging.rotation']) {
      expect(results.get(id)).toMatchObject({ status: 'fail' });
      expect(results.get(id)!.value).toContain(none);
      expect(results.get(id)!.fix).toContain('Start the engine (ctb start)');
    }

    // A scan an hour old: the engine stopped publishing; not judged.
    const hourAgo = new Date(Date.now() - 3_600_000).toISOString();
    await bed.database.db.update(golivePolicy).set({ logScan: { ...stored!.logScan!, scan: { ...stored!.logScan!.scan, ok: true, total: 0, findings: [] }, at: hourAgo } });
    results = await logChecksHere(shell);
    for (const id of ['logs.unhandled_errors', 'logging.rotation']) {
      expect(results.get(id)).toMatchObject({ status: 'fail' });
      expect(results.get(id)!.value).toContain("not judged: the newest scan of the engine's logs is 1h old");
      expect(results.get(id)!.fix).toContain('Check that the engine is running');
    }
  }, 240_000);
});
