// roi.audit's live-equity comparison after a kill: a halted engine writes no live snapshot, so the
// ledger's live book and Kraken's balances (the fake Kraken, in Kraken's format) are both valued at
// Kraken's prices now. A price move since the halt must not fail the audit (ctb resume needs it to
// pass); a balance the ledger does not explain still must.
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Actor } from '../../../src/app/context.js';
import { equitySnapshots, fills, orderIntents } from '../../../src/db/schema/index.js';
import { roiCheck } from '../../../src/services/audit/checks/roi.js';
import { runAudit } from '../../../src/services/audit/run-audit.js';
import type { CheckResult } from '../../../src/services/audit/types.js';
import { usePostgresTestDb } from '../../support/db.js';
import { testContext } from '../../support/app-context.js';
import { startFakeKraken, type FakeKraken } from '../../support/fake-kraken.js';
import { TEST_API_KEY, TEST_API_SECRET } from '../../support/kraken-test-keys.js';
import { insertTrade } from '../../support/trade-rows.js';

const actor: Actor = { id: 'cli:test', source: 'cli' };
const database = usePostgresTestDb({ truncate: ['trades', 'equity_snapshots', 'order_intents', 'fills'] });
let fake: FakeKraken | undefined;
afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

// The live book until the kill two hours before the clock (2026-01-05T12:00Z): 2,000 USD and
// 0.16 BTC bought at 50,000 — equity 10,000 in its last snapshot. No live snapshot since.
const HALT = new Date('2026-01-05T10:00:00Z');
const snap = (at: Date) => ({ mode: 'live' as const, feed: 'kraken' as const, at, equity: '10000', cash: '2000', peakEquity: '10000', drawdownPct: '0' });
const position = { mode: 'live' as const, feed: 'kraken' as const, symbol: 'BTC/USD', quantity: '0.16', entryPrice: '50000', entryFee: '0', entryAt: new Date('2026-01-04T12:00:00Z') };

async function liveBookHaltedWith(over: Parameters<typeof insertTrade>[1] = {}) {
  await database().db.insert(equitySnapshots).values([snap(new Date('2026-01-04T12:00:00Z')), snap(HALT)]);
  return insertTrade(database().db, { ...position, ...over });
}

async function auditAgainst(balances: Record<string, string>, btcNow: string): Promise<CheckResult> {
  fake = await startFakeKraken({ apiKey: TEST_API_KEY, secret: TEST_API_SECRET, balances, tickers: { XXBTZUSD: '50000.0' } });
  fake.simulator.setPrice('XXBTZUSD', btcNow); // the market moved after the last live snapshot
  const ctx = await testContext({
    database: database(),
    env: { KRAKEN_API_KEY: TEST_API_KEY, KRAKEN_API_SECRET: TEST_API_SECRET, KRAKEN_API_URL: fake.url, KRAKEN_RATE_LIMIT: 'false', LOG_DIR: join(tmpdir(), 'ctb-audit-test-logs') },
  });
  const report = await runAudit(ctx, { actor, dryRun: true, cwd: '.', checks: [roiCheck], only: [roiCheck.id] });
  return report.results[0]!;
}

describe('roi.audit live equity against Kraken after a halt', () => {
  it('passes when BTC moved 1 % since the last live snapshot and Kraken holds what the ledger says', async () => {
    await liveBookHaltedWith();
    const r = await auditAgainst({ ZUSD: '2000.0000', XXBT: '0.1600000000' }, '50500.0');
    expect(r).toMatchObject({ status: 'pass', value: expect.stringContaining('live equity matches Kraken') });
    // 2,000 + 0.16 × 50,500 on both sides; the snapshot's 10,000 was at the old price.
    expect(r.details?.['exchange']).toMatchObject({ status: 'agrees', snapshotEquity: '10000', ledgerEquity: '10080', exchangeEquity: '10080', diffPct: '0.0000' });
  });

  it('counts an exit the ledger booked after the last live snapshot', async () => {
    // The position was sold while halted, at 50,500 with a 13.13 fee: Kraken holds only USD.
    await liveBookHaltedWith({ status: 'closed', exitPrice: '50500', exitFee: '13.13', exitAt: new Date('2026-01-05T11:00:00Z'), realizedPnl: '66.87', capitalBuffer: '0', exitIntentId: 99_001 });
    const r = await auditAgainst({ ZUSD: '10066.8700', XXBT: '0.0000000000' }, '50500.0');
    expect(r).toMatchObject({ status: 'pass' });
    expect(r.details?.['exchange']).toMatchObject({ status: 'agrees', ledgerEquity: '10066.87', exchangeEquity: '10066.87' });
  });

  it('counts the fills of live orders in flight, as /balance and reconciliation do, and says how many', async () => {
    // The position's exit is in flight on Kraken: it sold 0.06 at 50,500 (fee 7.575). A new entry is
    // in flight too: it bought 0.02 at 50,000 (fee 2.6). No trade holds either yet; Kraken holds
    // 2,000 + 3,022.425 − 1,002.6 USD and 0.16 − 0.06 + 0.02 BTC.
    const trade = await liveBookHaltedWith();
    const at = new Date('2026-01-05T11:00:00Z');
    const inFlight = async (n: number, o: { side: 'buy' | 'sell'; purpose: 'entry' | 'exit'; quantity: string; filled: string; price: string; fee: string }) => {
      const clientOrderId = `a0b1c2d3-0000-4000-8000-00000000003${n}`;
      const [intent] = await database().db.insert(orderIntents).values({
        clientOrderId, exchangeOrderId: `OROI0${n}-AAAAA-BBBBBB`, mode: 'live', feed: 'kraken', strategy: 'test-ma', symbol: 'BTC/USD', side: o.side, purpose: o.purpose,
        ...(o.purpose === 'exit' ? { tradeId: trade.id } : {}), type: 'market', quantity: o.quantity, status: 'open', createdAt: at, updatedAt: at,
      }).returning();
      await database().db.insert(fills).values({
        intentId: intent!.id, clientOrderId, exchangeTradeId: `TROI0${n}-AAAAA-BBBBBB`, exchangeOrderId: intent!.exchangeOrderId!, mode: 'live', feed: 'kraken', symbol: 'BTC/USD',
        side: o.side, quantity: o.filled, price: o.price, fee: o.fee, feeCurrency: 'USD', filledAt: at,
      });
    };
    await inFlight(1, { side: 'sell', purpose: 'exit', quantity: '0.16', filled: '0.06', price: '50500', fee: '7.575' });
    await inFlight(2, { side: 'buy', purpose: 'entry', quantity: '0.05', filled: '0.02', price: '50000', fee: '2.6' });
    const r = await auditAgainst({ ZUSD: '4019.8250', XXBT: '0.1200000000' }, '50500.0');
    expect(r).toMatchObject({ status: 'pass', value: expect.stringContaining('live equity matches Kraken (counting the fills of 2 live order(s) in flight)') });
    // 4,019.825 + 0.12 × 50,500 on both sides.
    expect(r.details?.['exchange']).toMatchObject({ status: 'agrees', ledgerEquity: '10079.825', exchangeEquity: '10079.825', diffPct: '0.0000', ordersInFlight: 2 });
  });

  it('still fails when Kraken holds BTC the ledger does not explain', async () => {
    await liveBookHaltedWith();
    const r = await auditAgainst({ ZUSD: '2000.0000', XXBT: '0.1800000000' }, '50500.0');
    expect(r).toMatchObject({ status: 'fail', value: 'live equity 10080 vs Kraken 11090' });
    expect(r.details?.['exchange']).toMatchObject({ status: 'disagrees', diffPct: '10.0198' });
  });
});
