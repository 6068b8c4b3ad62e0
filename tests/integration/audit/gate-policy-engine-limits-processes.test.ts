// The pre-trade limits and the strategies the audit's risk checks judge are the engine's, across real
// processes on one PostgreSQL database: the engine's process (`ctb start --role worker`) records its
// RISK_PRICE_BAND_PCT, RISK_MAX_ORDERS_PER_MINUTE, RISK_MAX_OPEN_ORDERS and the strategies file it
// loaded (path and sha256) with the gate policy; `ctb audit` in a shell whose environment sets
// stricter limits and points STRATEGIES_FILE at a well-limited file judges the engine's values and
// file all the same, and says whose they are; a strategies file changed since the engine loaded it fails.
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { golivePolicy } from '../../../src/db/schema/index.js';
import { DEFAULT_STRATEGIES_FILE } from '../../../src/engine/strategies/config.js';
import { ctbInShell } from '../../support/ctb-shell.js';
import { useGateProcesses } from '../../support/gate-processes.js';
import { baseEnv, bot, killBotsAfterEach } from '../engine-lease/one-engine-bots.js';

killBotsAfterEach();

const bed = useGateProcesses();

/** What a shell sets: limits that pass, and the repository's well-limited strategies file. */
const STRICT_SHELL = {
  RISK_PRICE_BAND_PCT: '1', RISK_MAX_ORDERS_PER_MINUTE: '10', RISK_MAX_OPEN_ORDERS: '1,2', STRATEGIES_FILE: DEFAULT_STRATEGIES_FILE,
};

describe('the engine\'s pre-trade limits and strategies across processes', () => {
  it('are recorded by the engine and judged by ctb audit in a shell that sets stricter ones', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ctb-gate-limits-'));
    // The engine runs a 25 % band and 1000 orders a minute (baseEnv), and its own strategies file; it
    // records them when it takes the lease, so it need not trade (idle: a short replay, a candle an hour).
    const env = baseEnv(dir, { DATABASE_URL: bed.database.url, RISK_PRICE_BAND_PCT: '25', RISK_MAX_OPEN_ORDERS: '4,12' }, { idle: true });
    const engine = bot(['start', '--role', 'worker'], env, dir);
    await engine.waitFor(/go-live gate policy recorded/, 120_000);
    const loaded = readFileSync(env.STRATEGIES_FILE!);
    const [stored] = await bed.database.db.select().from(golivePolicy);
    const recordedBy = `${hostname()}:${engine.pid} (worker)`;
    expect(stored).toMatchObject({
      recordedBy,
      engineLimits: {
        maxOrderNotional: 2500, priceBandPct: 25, maxOpenOrders: { perPair: 4, total: 12 }, maxOrdersPerMinute: 1000, selfTradePrevention: 'cancel-newest',
        strategiesFile: env.STRATEGIES_FILE, strategiesSha256: createHash('sha256').update(loaded).digest('hex'),
      },
    });
    engine.kill('SIGTERM');
    await engine.exited;
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
