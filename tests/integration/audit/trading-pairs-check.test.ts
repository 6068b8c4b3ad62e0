// exchange.trading_pairs: the go-live audit judges TRADING_PAIRS against the markets Kraken lists
// (its AssetPairs, here the local fake Kraken's), by the rule an armed engine refuses to start on.
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import nock from 'nock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Actor } from '../../../src/app/context.js';
import { auditChecks } from '../../../src/services/audit/checks/index.js';
import { tradingPairsCheck } from '../../../src/services/audit/checks/trading-pairs.js';
import { configuredEngineLimits } from '../../../src/services/audit/gate-policy.js';
import { auditContext, runAudit } from '../../../src/services/audit/run-audit.js';
import { testContext } from '../../support/app-context.js';
import { usePostgresTestDb } from '../../support/db.js';
import { startFakeKraken, type FakeKraken } from '../../support/fake-kraken.js';
import { TEST_API_KEY, TEST_API_SECRET } from '../../support/kraken-test-keys.js';

const actor: Actor = { id: 'cli:test', source: 'cli' };
const database = usePostgresTestDb();
let kraken: FakeKraken;

beforeAll(async () => {
  nock.disableNetConnect();
  nock.enableNetConnect('127.0.0.1');
  kraken = await startFakeKraken();
});
afterAll(async () => {
  await kraken?.close();
  nock.enableNetConnect();
});

async function audit(env: Record<string, string>) {
  const keys = { KRAKEN_API_KEY: TEST_API_KEY, KRAKEN_API_SECRET: TEST_API_SECRET, KRAKEN_API_URL: kraken.url, KRAKEN_RATE_LIMIT: 'false' };
  const ctx = await testContext({ database: database(), env: { LOG_DIR: join(tmpdir(), 'ctb-audit-test-logs'), ...keys, ...env } });
  try {
    const report = await runAudit(ctx, { actor, dryRun: true, cwd: '.', checks: [tradingPairsCheck], only: [tradingPairsCheck.id] });
    return report.results[0]!;
  } finally {
    await ctx.close();
  }
}

describe('exchange.trading_pairs', () => {
  it('is one of the go-live audit\'s checks', () => {
    expect(auditChecks.map((c) => c.id)).toContain('exchange.trading_pairs');
  });

  it("lists every pair of this process's TRADING_PAIRS in Kraken's AssetPairs, and warns that no engine recorded its own", async () => {
    const calls = kraken.callsTo('AssetPairs').length;
    expect(await audit({ TRADING_PAIRS: 'BTC/USD,ETH/USD' })).toMatchObject({
      status: 'warn', value: "Kraken lists all 2 traded pairs: BTC/USD, ETH/USD (TRADING_PAIRS of this process — no engine has recorded its own in this database yet); the engine's own were not judged", section: 4,
    });
    expect(kraken.callsTo('AssetPairs').length).toBeGreaterThan(calls);
  });

  it('fails a pair Kraken does not list, naming it and the closest listed one, as an armed engine\'s start refuses it', async () => {
    const r = await audit({ TRADING_PAIRS: 'BTC/USD,ETH/USDT' });
    expect(r).toMatchObject({
      status: 'fail',
      value: 'Kraken does not list the pair ETH/USDT (Did you mean ETH/USD?) in TRADING_PAIRS of this process — no engine has recorded its own in this database yet: an engine armed with it refuses to start',
      fix: "Set TRADING_PAIRS (and the strategies file's pairs) to markets Kraken lists, written as BTC/USD, restart the engine, then run the audit again.",
    });
    expect(kraken.orderChangingCalls()).toEqual([]);
  });

  it("judges the pairs the engine recorded, not this shell's, and says whose they are", async () => {
    const keys = { KRAKEN_API_KEY: TEST_API_KEY, KRAKEN_API_SECRET: TEST_API_SECRET, KRAKEN_API_URL: kraken.url, KRAKEN_RATE_LIMIT: 'false' };
    const ctx = await testContext({ database: database(), env: { LOG_DIR: join(tmpdir(), 'ctb-audit-test-logs'), ...keys, TRADING_PAIRS: 'BTC/USD,ETH/USD' } });
    try {
      const recordedAt = new Date('2026-12-05T10:00:00Z');
      const engine = (tradingPairs: string[]) => auditContext(ctx, { actor, cwd: '.', dryRun: true }, undefined, {
        limits: { ...configuredEngineLimits(ctx.config, { file: '/srv/strategies.json', sha256: 'x' }), tradingPairs }, recordedBy: 'worker-1:7 (worker)', recordedAt,
      });
      const from = "the engine's TRADING_PAIRS, from the engine's process worker-1:7 (worker), recorded at 2026-12-05T10:00:00.000Z";
      expect(await tradingPairsCheck.run(engine(['BTC/USD', 'ETH/USDT']), { dryRun: true })).toMatchObject({
        status: 'fail', value: `Kraken does not list the pair ETH/USDT (Did you mean ETH/USD?) in ${from}: an engine armed with it refuses to start`,
        details: { unlisted: ['ETH/USDT'], pairs: ['BTC/USD', 'ETH/USDT'], pairsFrom: "the engine's process worker-1:7 (worker), recorded at 2026-12-05T10:00:00.000Z" },
      });
      expect(await tradingPairsCheck.run(engine(['BTC/USD']), { dryRun: true })).toMatchObject({ status: 'pass', value: `Kraken lists the traded pair: BTC/USD (${from})` });
    } finally {
      await ctx.close();
    }
  });

  it("judges the pairs without a Kraken key: AssetPairs is public, read at KRAKEN_API_URL with no key and no private call", async () => {
    const before = kraken.calls.length;
    const r = await audit({ KRAKEN_API_KEY: '', KRAKEN_API_SECRET: '', TRADING_PAIRS: 'BTC/USD,ETH/USDT' });
    expect(r).toMatchObject({
      status: 'fail',
      value: 'Kraken does not list the pair ETH/USDT (Did you mean ETH/USD?) in TRADING_PAIRS of this process — no engine has recorded its own in this database yet: an engine armed with it refuses to start',
      details: { unlisted: ['ETH/USDT'] },
    });
    const calls = kraken.calls.slice(before);
    expect(calls.map((c) => c.endpoint)).toContain('AssetPairs');
    expect(calls.filter((c) => c.api !== 'public')).toEqual([]);
    expect(await audit({ KRAKEN_API_KEY: '', KRAKEN_API_SECRET: '', TRADING_PAIRS: 'BTC/USD' })).toMatchObject({
      status: 'warn', value: "Kraken lists the traded pair: BTC/USD (TRADING_PAIRS of this process — no engine has recorded its own in this database yet); the engine's own were not judged",
    });
  });

  it('says it could not check, and why, only when AssetPairs cannot be read: Kraken refusing it, or no answer at KRAKEN_API_URL', async () => {
    kraken.failNext('AssetPairs', 'EService:Unavailable');
    const refused = await audit({ KRAKEN_API_KEY: '', KRAKEN_API_SECRET: '', TRADING_PAIRS: 'BTC/USD' });
    expect(refused).toMatchObject({ status: 'fail', value: expect.stringMatching(/^not checked: Kraken's AssetPairs could not be read: .*EService:Unavailable.* \(TRADING_PAIRS of this process .*: BTC\/USD\)$/) });
    const closed = await startFakeKraken();
    const url = closed.url;
    await closed.close();
    const unreachable = await audit({ KRAKEN_API_KEY: '', KRAKEN_API_SECRET: '', KRAKEN_API_URL: url, TRADING_PAIRS: 'BTC/USD' });
    expect(unreachable).toMatchObject({ status: 'fail', value: expect.stringMatching(/^could not reach Kraken: .*ECONNREFUSED/) });
  });
});
