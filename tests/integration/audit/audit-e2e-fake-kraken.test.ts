// Done-when of issue 3: the real binary (`node bin/ctb.js audit --dry-run --json`, a child process)
// pointed at the local fake Kraken with KRAKEN_API_URL gives the same verdict for every check as the
// same CLI run in-process against nock (Kraken's recorded formats at the network edge) on an
// identical deployment — and the fake sees no order-changing call, even with IS_LIVE=true.
// Each side gets its own copy of the scenario (checkout, .env, logs, database), so neither run's
// stored record, reports or log lines can leak into the other's verdicts.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import nock from 'nock';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from '../../../src/cli/program.js';
import { equitySnapshots, fills, trades } from '../../../src/db/schema/index.js';
import type { AuditReport } from '../../../src/services/audit/types.js';
import { createPostgresTestDb, type TestDatabase } from '../../support/db.js';
import { startFakeKraken, type FakeKraken } from '../../support/fake-kraken.js';
import { nockKrakenAccount } from '../../support/kraken-nock.js';
import * as R from '../../support/kraken-recordings.js';
import { TEST_API_KEY, TEST_API_SECRET } from '../../support/kraken-test-keys.js';
import { tempCheckout, type TempCheckout } from '../../support/temp-checkout.js';
import { withCwd } from '../../support/with-cwd.js';

const ROOT = new URL('../../..', import.meta.url).pathname;
const BIN = join(ROOT, 'bin/ctb.js');
const TRADE_KEY = ['query-funds', 'query-open-trades', 'query-closed-trades', 'modify-trades', 'close-trades'];

interface Scenario {
  permissions: string[];
  /** Kraken's trade history (newest first) and which of it the ledger holds, with edits. */
  history: R.RecordedTrade[];
  ledger: Array<{ trade: R.RecordedTrade; quantity?: string }>;
  balances: Record<string, string>;
  /** The live book's equity in its snapshots (3 days and 1 hour ago), which Kraken's balances must match. */
  liveEquity: string;
  /** The live book's cash in those snapshots and the BTC its open trade holds (the rest of its equity); default all cash. */
  liveCash?: string;
  openBtc?: string;
  /** Kraken errors TradesHistory answers first (the client must back off and retry). */
  tradeErrors: string[];
  env: Record<string, string>;
}

interface Deployment {
  checkout: TempCheckout;
  database: TestDatabase;
  env: Record<string, string>;
}

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  nock.cleanAll();
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** One deployment of the scenario: a git checkout with a locked-down, ignored .env, logs and a ledger. */
async function deploy(s: Scenario, krakenUrl: string): Promise<Deployment> {
  const checkout = tempCheckout();
  cleanups.push(() => checkout.remove());
  checkout.write('.gitignore', '.env\nlogs/\nreports/\nbackups/\n', { track: true });
  checkout.write('README.md', 'deployment of crypto-trading-bot\n', { track: true });
  checkout.write('.env', `KRAKEN_API_KEY=${TEST_API_KEY}\nKRAKEN_API_SECRET=${TEST_API_SECRET}\n`, { mode: 0o600 });
  const logs = join(checkout.dir, 'logs');
  mkdirSync(logs);
  writeFileSync(join(logs, 'system.log'), `${JSON.stringify({ level: 30, time: Date.now() - 60_000, msg: 'engine started' })}\n`);
  const database = await createPostgresTestDb();
  cleanups.push(() => database.close());
  if (s.ledger.length > 0) {
    await database.db.insert(fills).values(s.ledger.map(({ trade: t, quantity }, i) => ({
      intentId: i + 1, clientOrderId: `ctb-${i}`, exchangeTradeId: t.txid, exchangeOrderId: t.ordertxid, mode: 'live' as const, feed: 'kraken' as const,
      symbol: 'BTC/USD', side: t.type, quantity: quantity ?? t.vol, price: t.price, fee: t.fee, feeCurrency: 'USD', filledAt: new Date(t.time * 1000),
    })));
  }
  const snap = (agoMs: number) => ({ mode: 'live' as const, feed: 'kraken' as const, at: new Date(Date.now() - agoMs), equity: s.liveEquity, cash: s.liveCash ?? s.liveEquity, peakEquity: s.liveEquity, drawdownPct: '0' });
  await database.db.insert(equitySnapshots).values([snap(3 * 86_400_000), snap(3_600_000)]);
  if (s.openBtc) {
    const entryAt = new Date(Date.now() - 4 * 86_400_000);
    await database.db.insert(trades).values({
      mode: 'live', feed: 'kraken', strategy: 'test-ma', symbol: 'BTC/USD', status: 'open', quantity: s.openBtc, entryPrice: '30000', entryFee: '0', entryAt, entryIntentId: 1,
    });
  }
  const env = {
    PATH: process.env['PATH'] ?? '', HOME: checkout.dir, DATABASE_URL: database.url, KRAKEN_API_URL: krakenUrl, KRAKEN_RATE_LIMIT: 'false',
    LOG_DIR: logs, REPORTS_DIR: join(checkout.dir, 'reports'), BACKUP_DIR: join(checkout.dir, 'backups'), DATA_DIR: join(checkout.dir, 'data'),
    LOG_LEVEL: 'warn', ...s.env,
  };
  return { checkout, database, env };
}

/** The real binary, as an operator runs it, from the deployment's directory. */
function runBinary(d: Deployment): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, 'audit', '--dry-run', '--json'], { cwd: d.checkout.dir, env: d.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b) => (stdout += String(b)));
    child.stderr.on('data', (b) => (stderr += String(b)));
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

/** The same CLI in this process, from the same kind of directory, with nock answering as Kraken. */
async function runInProcess(d: Deployment): Promise<{ code: number; stdout: string; stderr: string }> {
  const out: string[] = [];
  const err: string[] = [];
  // The audit looks at the deployment it runs in.
  const code = await withCwd(d.checkout.dir, () => runCli(['audit', '--dry-run', '--json'], {
    env: d.env, cwd: d.checkout.dir, stdout: { write: (t: string) => out.push(t) }, stderr: { write: (t: string) => err.push(t) },
  }));
  return { code, stdout: out.join(''), stderr: err.join('') };
}

async function both(s: Scenario): Promise<{ binary: AuditReport; nocked: AuditReport; codes: [number | null, number]; fake: FakeKraken; nockPages: string[] }> {
  const fake = await startFakeKraken({
    apiKey: TEST_API_KEY, secret: TEST_API_SECRET, permissions: s.permissions, balances: s.balances,
    tickers: { XXBTZUSD: '30303.2' }, // the last price of the nock recording (R.ticker)
    trades: s.history.map((t) => ({ ...t, ordertype: 'limit' })),
  });
  cleanups.push(() => fake.close());
  for (const e of s.tradeErrors) fake.failNext('TradesHistory', e);
  const viaFake = await deploy(s, fake.url);
  const viaNock = await deploy(s, R.BASE);

  const child = await runBinary(viaFake);
  expect(child.stdout.trim().startsWith('{'), `ctb audit printed no JSON.\nstderr: ${child.stderr}`).toBe(true);
  const nocked = nockKrakenAccount({
    permissions: s.permissions, trades: s.history, tradeErrors: s.tradeErrors,
    balances: Object.fromEntries(Object.entries(s.balances).map(([a, b]) => [a, { balance: b, hold_trade: '0.0000' }])),
  });
  const local = await runInProcess(viaNock);
  expect(local.stdout.trim().startsWith('{'), `in-process audit printed no JSON.\nstderr: ${local.stderr}`).toBe(true);
  // A dry run changes nothing but the stored run record: no reconciliation or ROI report is written.
  for (const d of [viaFake, viaNock]) expect(existsSync(d.env['REPORTS_DIR']!)).toBe(false);
  return { binary: JSON.parse(child.stdout) as AuditReport, nocked: JSON.parse(local.stdout) as AuditReport, codes: [child.code, local.code], fake, nockPages: nocked.tradePages };
}

const verdicts = (r: AuditReport) => r.results.map((c) => `${c.id}: ${c.status}`);
const statusOf = (r: AuditReport, id: string) => r.results.find((c) => c.id === id)?.status;

describe('ctb audit --dry-run --json against the fake Kraken (KRAKEN_API_URL) and against nock', () => {
  it('agrees check by check for a Trade-only key, a paged history with legacy trades and a nonce error, and makes no order-changing call', async () => {
    const now = Math.floor(Date.now() / 1000);
    const history = R.recordedTrades(120, now - 120);
    const s: Scenario = {
      permissions: TRADE_KEY,
      history,
      // The 5 oldest trades predate the ledger: legacy. 58 buys and 57 sells of 0.01 BTC leave 0.01 BTC.
      ledger: history.slice(0, 115).map((trade) => ({ trade })),
      balances: { ZUSD: '10000.0000', XXBT: '0.0100000000' },
      liveEquity: '10303.032', // 10,000 USD + 0.01 BTC at 30,303.2
      liveCash: '10000',
      openBtc: '0.01',
      tradeErrors: ['EAPI:Invalid nonce'],
      env: {},
    };
    const { binary, nocked, codes, fake, nockPages } = await both(s);

    expect(verdicts(binary)).toEqual(verdicts(nocked));
    expect(binary.summary).toEqual(nocked.summary);
    expect(codes[0]).toBe(codes[1]);
    expect(codes[0]).toBe(binary.ok ? 0 : 1);
    // The verdicts that depend on Kraken are the ones the scenario was built for, on both sides.
    for (const r of [binary, nocked]) {
      expect(r).toMatchObject({ kind: 'audit', dryRun: true, mode: 'paper', armed: false });
      expect(r.runId).toBeGreaterThan(0);
      expect(statusOf(r, 'credentials.storage')).toBe('pass');
      expect(statusOf(r, 'credentials.leak_scan')).toBe('pass');
      expect(statusOf(r, 'exchange.key_rights')).toBe('pass');
      expect(statusOf(r, 'risk.kill_switch_ready')).toBe('pass');
      expect(statusOf(r, 'risk.strategy_limits')).toBe('pass');
      expect(r.results.find((c) => c.id === 'roi.audit')).toMatchObject({ status: 'pass', value: expect.stringContaining('live equity matches Kraken') });
      expect(r.results.find((c) => c.id === 'reconciliation.ledger')).toMatchObject({
        status: 'warn', value: '115 matched, 0 mismatched, 0 missing on exchange, 0 recent unmatched, 5 legacy unmatched',
      });
    }
    expect(fake.callsTo('TradesHistory').map((c) => c.params['ofs'])).toEqual(['0', '0', '50', '100']); // the nonce error, then 3 pages
    expect(nockPages).toEqual(['0', '50', '100']);
    expect(fake.callsTo('GetApiKeyInfo')).toHaveLength(1);
    expect(fake.callsTo('Ticker').map((c) => c.params['pair'])).toEqual(['XXBTZUSD']); // the BTC held, priced once
    expect(fake.orderChangingCalls()).toEqual([]);
    expect(fake.callsTo('Withdraw')).toEqual([]);
  }, 120_000);

  it('agrees on a key that can withdraw and a history with recent unmatched and mismatched trades — armed, still no order-changing call', async () => {
    const now = Math.floor(Date.now() / 1000);
    const history = R.recordedTrades(60, now - 120);
    const s: Scenario = {
      permissions: [...TRADE_KEY, 'withdraw-funds'],
      history,
      // Trades 0 and 1 are recent and unknown to the ledger; trade 10 was recorded with the wrong quantity.
      ledger: history.slice(2).map((trade, i) => ({ trade, ...(i === 8 ? { quantity: '0.02' } : {}) })),
      balances: { ZUSD: '10000.0000', XXBT: '0.0000000000' },
      liveEquity: '9000', // Kraken holds 10 % more than the snapshots say
      tradeErrors: ['EAPI:Rate limit exceeded'],
      env: { IS_LIVE: 'true' },
    };
    const { binary, nocked, codes, fake } = await both(s);

    expect(verdicts(binary)).toEqual(verdicts(nocked));
    expect(codes).toEqual([1, 1]);
    for (const r of [binary, nocked]) {
      expect(r).toMatchObject({ ok: false, dryRun: true, armed: true });
      expect(r.results.find((c) => c.id === 'exchange.key_rights')).toMatchObject({ status: 'fail', value: 'key can WITHDRAW funds (GetApiKeyInfo)' });
      expect(r.results.find((c) => c.id === 'reconciliation.ledger')).toMatchObject({
        status: 'fail', value: expect.stringMatching(/^57 matched, 1 mismatched, 0 missing on exchange, 2 recent unmatched, 0 legacy unmatched/),
      });
      expect(r.results.find((c) => c.id === 'roi.audit')).toMatchObject({ status: 'fail', value: expect.stringContaining('live equity 9000 vs Kraken 10000') });
    }
    expect(fake.callsTo('TradesHistory').length).toBeGreaterThanOrEqual(3); // a rate-limit answer, then 2 pages
    expect(fake.orderChangingCalls()).toEqual([]);
    expect(fake.callsTo('Withdraw')).toEqual([]);
  }, 120_000);
});
