// The audit's checks that ask Kraken, each driven through pass, warn and fail against Kraken's
// recorded answers (nock at the network edge): key rights, kill-switch readiness, reconciliation
// with paging over several pages, rate-limit and nonce errors, legacy/recent/mismatched trades.
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import nock from 'nock';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Actor } from '../../../src/app/context.js';
import { equitySnapshots, fills } from '../../../src/db/schema/index.js';
import { auditChecks } from '../../../src/services/audit/checks/index.js';
import { keyRightsCheck } from '../../../src/services/audit/checks/key-rights.js';
import { reconciliationCheck } from '../../../src/services/audit/checks/reconciliation.js';
import { roiCheck } from '../../../src/services/audit/checks/roi.js';
import { killSwitchReadyCheck } from '../../../src/services/audit/checks/risk.js';
import { runAudit } from '../../../src/services/audit/run-audit.js';
import type { AuditCheck, CheckResult } from '../../../src/services/audit/types.js';
import { usePostgresTestDb } from '../../support/db.js';
import { testContext } from '../../support/app-context.js';
import { nockKrakenAccount, type NockAccount } from '../../support/kraken-nock.js';
import * as R from '../../support/kraken-recordings.js';
import { TEST_API_KEY, TEST_API_SECRET } from '../../support/kraken-test-keys.js';

const actor: Actor = { id: 'cli:test', source: 'cli' };
const KEYS = { KRAKEN_API_KEY: TEST_API_KEY, KRAKEN_API_SECRET: TEST_API_SECRET, KRAKEN_API_URL: R.BASE, KRAKEN_RATE_LIMIT: 'false', LOG_DIR: join(tmpdir(), 'ctb-audit-test-logs') };
// recordedTrades(n) are one a minute back from 2026-01-05T12:00:00Z (the ManualClock's now).
const NEWEST = 1_767_614_400;

const database = usePostgresTestDb({ truncate: ['fills', 'equity_snapshots'] });
afterEach(() => {
  nock.cleanAll();
});

async function run(check: AuditCheck, account: NockAccount | null, env: Record<string, string> = {}): Promise<CheckResult & { pages: string[] }> {
  const nocked = account ? nockKrakenAccount(account) : null;
  const ctx = await testContext({ database: database(), env: { ...(account ? KEYS : {}), ...env } });
  const report = await runAudit(ctx, { actor, dryRun: true, cwd: '.', checks: [check], only: [check.id] });
  return { ...report.results[0]!, pages: nocked?.tradePages ?? [] };
}

async function ledgerFrom(trades: R.RecordedTrade[], over: (t: R.RecordedTrade, i: number) => Partial<typeof fills.$inferInsert> = () => ({})) {
  if (trades.length === 0) return;
  await database().db.insert(fills).values(trades.map((t, i) => ({
    intentId: i + 1, clientOrderId: `ctb-${i}`, exchangeTradeId: t.txid, exchangeOrderId: t.ordertxid, mode: 'live' as const, feed: 'kraken' as const,
    symbol: 'BTC/USD', side: t.type, quantity: t.vol, price: t.price, fee: t.fee, feeCurrency: 'USD', filledAt: new Date(t.time * 1000), ...over(t, i),
  })));
}

describe('exchange.key_rights', () => {
  it('passes a Trade-only key whose authenticated read succeeds', async () => {
    expect(await run(keyRightsCheck, {})).toMatchObject({ status: 'pass', value: 'authenticated read ok; can trade; no withdrawal (GetApiKeyInfo)' });
  });

  it('fails a key that can withdraw', async () => {
    const r = await run(keyRightsCheck, { permissions: ['query-funds', 'query-open-trades', 'query-closed-trades', 'modify-trades', 'close-trades', 'withdraw-funds'] });
    expect(r).toMatchObject({ status: 'fail', value: 'key can WITHDRAW funds (GetApiKeyInfo)' });
    expect(r.fix).toMatch(/^Revoke this key now/);
  });

  it('fails a key without trade rights', async () => {
    expect(await run(keyRightsCheck, { permissions: ['query-funds', 'query-open-trades', 'query-closed-trades'] })).toMatchObject({ status: 'fail', value: expect.stringContaining('key lacks trade rights') });
  });

  it('warns when only the withdraw probe answers: no withdrawal, trade rights unverifiable', async () => {
    expect(await run(keyRightsCheck, { permissions: 'unsupported' })).toMatchObject({ status: 'warn', value: 'authenticated read ok; no withdrawal (withdraw probe); trade rights not verifiable' });
  });

  it('fails with Kraken’s reason when the key is refused', async () => {
    nock(R.BASE).post('/0/private/GetApiKeyInfo').reply(200, R.krakenError('EAPI:Invalid key'));
    const ctx = await testContext({ database: database(), env: KEYS });
    const report = await runAudit(ctx, { actor, dryRun: true, cwd: '.', checks: [keyRightsCheck], only: [keyRightsCheck.id] });
    expect(report.results[0]).toMatchObject({ status: 'fail', value: 'Kraken refused: Kraken GetApiKeyInfo failed: EAPI:Invalid key.', fix: expect.stringContaining('KRAKEN_API_KEY') });
  });

  it('fails when no key is configured', async () => {
    expect(await run(keyRightsCheck, null)).toMatchObject({ status: 'fail', value: 'no Kraken key configured' });
  });
});

describe('risk.kill_switch_ready', () => {
  it('passes when the key can cancel orders', async () => {
    expect(await run(killSwitchReadyCheck, {})).toMatchObject({ status: 'pass' });
  });
  it('warns when cancel rights cannot be verified', async () => {
    expect(await run(killSwitchReadyCheck, { permissions: 'unsupported' })).toMatchObject({ status: 'warn' });
  });
  it('fails when the key cannot cancel orders', async () => {
    expect(await run(killSwitchReadyCheck, { permissions: ['query-funds', 'query-open-trades', 'query-closed-trades', 'modify-trades'] })).toMatchObject({ status: 'fail', value: 'key cannot cancel orders: /kill would not work' });
  });
});

describe('reconciliation.ledger', () => {
  it('passes a ledger that matches three pages of history, retrying a rate-limit and a nonce error', async () => {
    const history = R.recordedTrades(120, NEWEST);
    await ledgerFrom(history);
    const r = await run(reconciliationCheck, { trades: history, tradeErrors: ['EAPI:Rate limit exceeded', 'EAPI:Invalid nonce'] });
    expect(r).toMatchObject({ status: 'pass', value: '120 matched, 0 mismatched, 0 missing on exchange, 0 recent unmatched, 0 legacy unmatched' });
    expect(r.pages).toEqual(['0', '50', '100']);
  });

  it('warns about legacy trades from before the ledger began, and passes nothing else', async () => {
    const history = R.recordedTrades(60, NEWEST);
    await ledgerFrom(history.slice(0, 55)); // the 5 oldest predate the ledger's first fill
    // 28 buys and 27 sells of 0.01 BTC: the exchange holds the 0.01 the ledger implies.
    const r = await run(reconciliationCheck, { trades: history, balances: { XXBT: { balance: '0.0100000000', hold_trade: '0' } } });
    expect(r).toMatchObject({ status: 'warn', value: '55 matched, 0 mismatched, 0 missing on exchange, 0 recent unmatched, 5 legacy unmatched' });
  });

  it('fails a history with legacy, recent unmatched and mismatched trades, and a fill Kraken never saw', async () => {
    const history = R.recordedTrades(110, NEWEST);
    // Ledger: trades 3..104 (the oldest 5 are legacy); trade 0..2 are recent and unknown to the ledger;
    // trades 10 and 11 were recorded with the wrong quantity and fee; one fill has no trade at all.
    await ledgerFrom(history.slice(3, 105), (t) => (t.txid === history[10]!.txid ? { quantity: '0.02' } : t.txid === history[11]!.txid ? { fee: '1.5' } : {}));
    await database().db.insert(fills).values({
      intentId: 999, clientOrderId: 'ctb-ghost', exchangeTradeId: 'TGHOST-ABCDE-FGHIJK', exchangeOrderId: null, mode: 'live', feed: 'kraken',
      symbol: 'BTC/USD', side: 'buy', quantity: '0.01', price: '30000', fee: '0.78', feeCurrency: 'USD', filledAt: new Date('2026-01-05T11:59:30Z'),
    });
    const r = await run(reconciliationCheck, { trades: history });
    expect(r.status).toBe('fail');
    expect(r.value).toBe('100 matched, 2 mismatched, 1 missing on exchange, 3 recent unmatched, 5 legacy unmatched; short of -0.02 BTC');
    const samples = r.details?.['samples'] as { mismatched: Array<{ fields: string[] }> };
    // Ledger order, oldest first: trade 11 (fee) before trade 10 (quantity).
    expect(samples.mismatched.map((m) => m.fields)).toEqual([['fee'], ['quantity']]);
  });

  it('says it was not checked when no key is configured, and the audit without a key cannot pass', async () => {
    expect(await run(reconciliationCheck, null)).toMatchObject({
      status: 'warn',
      value: "not checked: no Kraken key configured, so the ledger was not compared with Kraken's trades and balances; going live needs it, and no audit without a key passes (exchange.key_rights fails)",
      fix: expect.stringContaining('KRAKEN_API_KEY'),
    });
    // The go-live gate runs every registered check: key_rights among them fails the run.
    expect(auditChecks).toEqual(expect.arrayContaining([keyRightsCheck, reconciliationCheck]));
    const report = await runAudit(await testContext({ database: database(), env: {} }), { actor, dryRun: true, cwd: '.', checks: [keyRightsCheck, reconciliationCheck] });
    expect(report.ok).toBe(false);
    expect(report.results.map((r) => [r.id, r.status])).toEqual([['exchange.key_rights', 'fail'], ['reconciliation.ledger', 'warn']]);
  });
});

describe('roi.audit against Kraken balances', () => {
  const snap = (at: string, equity: string) => ({ mode: 'live' as const, feed: 'kraken' as const, at: new Date(at), equity, cash: equity, peakEquity: equity, drawdownPct: '0' });
  const usd = (amount: string) => ({ ZUSD: { balance: amount, hold_trade: '0.0000' } });
  beforeEach(async () => {
    // The live book: flat at 10,000 USD from Jan 1 to an hour ago (the clock is 2026-01-05T12:00Z).
    await database().db.insert(equitySnapshots).values([snap('2026-01-01T00:00:00Z', '10000'), snap('2026-01-05T11:00:00Z', '10000')]);
  });

  it('passes when the live equity matches what Kraken holds, valued at Kraken’s prices', async () => {
    const r = await run(roiCheck, { balances: { ...usd('9696.8000'), XXBT: { balance: '0.0100000000', hold_trade: '0' } } });
    expect(r).toMatchObject({ status: 'pass', value: expect.stringContaining('live equity matches Kraken') });
    expect(r.details?.['exchange']).toMatchObject({ status: 'agrees', exchangeEquity: '9999.832' });
  });

  it('fails when Kraken holds 10 % less than the snapshots say', async () => {
    const r = await run(roiCheck, { balances: usd('9000.0000') });
    expect(r).toMatchObject({ status: 'fail', value: expect.stringContaining('live equity 10000 vs Kraken 9000') });
  });

  it('warns when Kraken holds an asset it cannot price against the quote currency', async () => {
    const r = await run(roiCheck, { balances: { ...usd('10000.0000'), XXDG: { balance: '100.0', hold_trade: '0' } } });
    expect(r.status).toBe('warn');
    expect(r.value).toMatch(/could not price .+ on Kraken/);
  });
});
