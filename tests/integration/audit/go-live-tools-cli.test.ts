// `ctb verify-credentials`, `ctb reconcile` and `ctb audit-roi` as an operator runs them: the CLI
// (runCli, the binary's own entry) against the fake Kraken over loopback (KRAKEN_API_URL) and a
// real database — exit 0 when ok, 1 when a check fails, 2 for bad arguments or configuration; the
// --json shapes other tools read; reports written under REPORTS_DIR.
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { sql } from 'drizzle-orm';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from '../../../src/cli/program.js';
import { auditRuns, equitySnapshots, fills } from '../../../src/db/schema/index.js';
import { latestAuditRun } from '../../../src/services/audit/store.js';
import { createPostgresTestDb, emptyTablesSql, type TestDatabase } from '../../support/db.js';
import { fakeTrades, startFakeKraken, TRADE_KEY_PERMISSIONS, type FakeKraken, type FakeKrakenOptions, type FakeTrade } from '../../support/fake-kraken.js';
import { TEST_API_KEY, TEST_API_SECRET } from '../../support/kraken-test-keys.js';
import { tempCheckout, type TempCheckout } from '../../support/temp-checkout.js';
import { withCwd } from '../../support/with-cwd.js';

let database: TestDatabase;
let checkout: TempCheckout;
let fake: FakeKraken | undefined;
beforeAll(async () => {
  database = await createPostgresTestDb();
});
afterAll(async () => {
  await database?.close();
});
beforeEach(async () => {
  await database.db.execute(sql.raw(emptyTablesSql(['fills', 'equity_snapshots', 'audit_runs'])));
  checkout = tempCheckout();
  checkout.write('.gitignore', '.env\n', { track: true });
  mkdirSync(join(checkout.dir, 'logs'));
});
afterEach(async () => {
  await fake?.close();
  fake = undefined;
  checkout.remove();
});

async function kraken(opts: FakeKrakenOptions = {}): Promise<FakeKraken> {
  fake = await startFakeKraken({ apiKey: TEST_API_KEY, secret: TEST_API_SECRET, ...opts });
  return fake;
}

/** Runs `ctb <argv>` from the checkout (as an operator would: its .env, its git). */
async function ctb(argv: string[], env: Record<string, string> = {}, opts: { tty?: boolean } = {}): Promise<{ code: number; out: string; err: string; json: () => any }> {
  const out: string[] = [];
  const err: string[] = [];
  // From the checkout, as an operator would run it (its .env, its git, ./data).
  const code = await withCwd(checkout.dir, () => runCli(argv, {
    env: {
      DATABASE_URL: database.url, LOG_DIR: join(checkout.dir, 'logs'), REPORTS_DIR: join(checkout.dir, 'reports'), LOG_LEVEL: 'warn',
      KRAKEN_RATE_LIMIT: 'false', ...(fake ? { KRAKEN_API_URL: fake.url } : {}), ...env,
    },
    cwd: checkout.dir,
    stdout: { write: (t: string) => out.push(t) },
    stderr: opts.tty ? Object.assign(new PassThrough(), { isTTY: true, columns: 120, write: (t: string) => err.push(t) > 0 }) : { write: (t: string) => err.push(t) },
  }));
  return { code, out: out.join(''), err: err.join(''), json: () => JSON.parse(out.join('')) };
}

const withKeysInDotEnv = () => checkout.write('.env', `KRAKEN_API_KEY=${TEST_API_KEY}\nKRAKEN_API_SECRET=${TEST_API_SECRET}\n`, { mode: 0o600 });

async function ledgerOf(trades: FakeTrade[], edit: (i: number) => { quantity?: string } = () => ({})) {
  await database.db.insert(fills).values(trades.map((t, i) => ({
    intentId: i + 1, clientOrderId: `ctb-${i}`, exchangeTradeId: t.txid, exchangeOrderId: t.ordertxid, mode: 'live' as const, feed: 'kraken' as const,
    symbol: 'BTC/USD', side: t.type, quantity: edit(i).quantity ?? t.vol, price: t.price, fee: t.fee, feeCurrency: 'USD', filledAt: new Date(t.time * 1000),
  })));
}

describe('ctb audit', () => {
  it('prints a table by checklist section with a fix under each line that does not pass, stores the run, and exits 1 on a failure', async () => {
    withKeysInDotEnv();
    const history = fakeTrades(10, { newest: Math.floor(Date.now() / 1000) - 60 });
    await ledgerOf(history);
    await kraken({ trades: history });
    const r = await ctb(['audit', '--dry-run']);
    expect(r.code, r.err).toBe(1); // no alert channel and no paper trades yet: those checks fail
    for (const section of ['1. Credentials & Secrets', '4. Risk Controls', '5. Health Audits', '9. Escalation & Incident Response']) expect(r.out).toContain(section);
    expect(r.out).toMatch(/│ PASS +│ exchange\.key_rights +│ authenticated read ok; can trade; no withdrawal/);
    expect(r.out).toMatch(/│ PASS +│ reconciliation\.ledger +│ 10 matched, 0 mismatched/);
    expect(r.out).toMatch(/│ FAIL +│ alerting\.channels +│ no alert channel configured +│\n│ +│ +│ fix: Set SLACK_BOT_TOKEN/);
    // Fix text wraps at word boundaries within 120 columns (not a terminal): never cut with an ellipsis.
    expect(r.out).not.toContain('…');
    expect(Math.max(...r.out.split('\n').map((l) => l.length))).toBeLessThanOrEqual(120);
    const stored = await latestAuditRun(database.db);
    expect(stored).toMatchObject({ dryRun: true, passed: false });
    expect(r.out.trimEnd().split('\n').at(-1)).toBe(`${stored!.summary} — run #${stored!.id}`);
    expect(stored!.summary).toMatch(/^AUDIT FAILED — \d+ pass, \d+ warn, \d+ fail \(dry run, paper mode\)$/);
    expect(existsSync(join(checkout.dir, 'reports'))).toBe(false);
  });

  it('writes the reconciliation and ROI reports under REPORTS_DIR on a full (not dry) run', async () => {
    withKeysInDotEnv();
    await kraken();
    const r = await ctb(['audit', '--json']);
    expect([0, 1]).toContain(r.code);
    expect(r.json()).toMatchObject({ dryRun: false, runId: expect.any(Number) });
    expect(readdirSync(join(checkout.dir, 'reports')).map((f) => f.replace(/-\d{8}T\d{6}Z\.json$/, '')).sort()).toEqual(['reconcile', 'roi-audit']);
    expect(await database.db.select().from(auditRuns)).toHaveLength(1);
  });

  it('exits 2 on an option it does not take', async () => {
    const r = await ctb(['audit', '--live']);
    expect(r.code).toBe(2);
    expect(r.err).toContain("unknown option '--live'");
  });
});

describe('ctb verify-credentials', () => {
  it('exits 0 for a Trade-only key kept in a locked-down, ignored .env, and prints the two checks as JSON', async () => {
    withKeysInDotEnv();
    const f = await kraken();
    const r = await ctb(['verify-credentials', '--json']);
    expect(r.code, r.err).toBe(0);
    const report = r.json();
    expect(report).toMatchObject({ kind: 'audit', schemaVersion: 3, ok: true, runId: 0, dryRun: true, only: ['credentials.storage', 'exchange.key_rights'] });
    expect(report.results.map((c: { id: string; status: string }) => [c.id, c.status])).toEqual([['credentials.storage', 'pass'], ['exchange.key_rights', 'pass']]);
    expect(report.summaryLine).toMatch(/^CHECK PASSED — 2 pass, 0 warn, 0 fail/);
    expect(r.out).not.toContain(TEST_API_KEY);
    expect(f.callsTo('GetApiKeyInfo')).toHaveLength(1);
    expect(f.orderChangingCalls()).toEqual([]);
  });

  it('exits 1 for a key that can withdraw, saying how to fix it, without printing the key', async () => {
    withKeysInDotEnv();
    await kraken({ permissions: [...TRADE_KEY_PERMISSIONS, 'withdraw-funds'] });
    const r = await ctb(['verify-credentials']);
    expect(r.code).toBe(1);
    expect(r.out).toContain('key can WITHDRAW funds (GetApiKeyInfo)');
    expect(r.out).toContain('Revoke this key now');
    expect(r.out).toContain('CHECK FAILED');
    expect(r.out + r.err).not.toContain(TEST_API_KEY);
  });

  it('exits 1 when .env is readable by others, naming the chmod', async () => {
    checkout.write('.env', `KRAKEN_API_KEY=${TEST_API_KEY}\nKRAKEN_API_SECRET=${TEST_API_SECRET}\n`, { mode: 0o644 });
    await kraken();
    const r = await ctb(['verify-credentials', '--json']);
    expect(r.code).toBe(1);
    expect(r.json().results[0]).toMatchObject({ id: 'credentials.storage', status: 'fail', fix: expect.stringContaining('chmod 600 .env') });
  });

  it('exits 2 on an argument it does not take, and on a bad environment variable, saying what is expected', async () => {
    const bad = await ctb(['verify-credentials', '--key', 'abc']);
    expect(bad.code).toBe(2);
    expect(bad.err).toContain("unknown option '--key'");
    expect(bad.err).toContain('(run ctb verify-credentials --help for its usage and options)');
    const env = await ctb(['verify-credentials'], { IS_LIVE: 'maybe' });
    expect(env.code).toBe(2);
    expect(env.err).toMatch(/IS_LIVE/);
    expect(env.err).toContain('.env.example');
  });
});

describe('ctb reconcile', () => {
  const NOW = () => Math.floor(Date.now() / 1000) - 60;

  it('exits 0 when the ledger matches three pages of history, and writes the JSON report under REPORTS_DIR', async () => {
    withKeysInDotEnv();
    const history = fakeTrades(120, { newest: NOW() });
    await ledgerOf(history);
    const f = await kraken({ trades: history });
    f.failNext('TradesHistory', 'EAPI:Rate limit exceeded');
    // Pro: the key's counter falls 1 a second, so a 2-point TradesHistory has room after 2 s.
    const r = await ctb(['reconcile', '--json'], { KRAKEN_RATE_TIER: 'pro' });
    expect(r.code, r.err).toBe(0);
    expect(r.err).toContain("Kraken refused TradesHistory: EAPI:Rate limit exceeded (this API key's call counter is full; the running bot counts on it too). Waiting 2 s, then asking again (1 of 3).");
    const report = r.json();
    expect(report).toMatchObject({
      kind: 'reconcile', schemaVersion: 1, ok: true, cutoffSource: 'first_ledger_fill',
      counts: { ledgerFills: 120, exchangeTrades: 120, matched: 120, mismatched: 0, missingOnExchange: 0, legacyUnmatched: 0, recentUnmatched: 0 },
      fetch: { pages: 3, fetched: 120, total: 120, retries: 0 },
      mismatched: [], missingOnExchange: [], recentUnmatched: [], legacyUnmatched: [],
    });
    expect(report.reportFile.startsWith(join(checkout.dir, 'reports', 'reconcile-'))).toBe(true);
    expect(JSON.parse(readFileSync(report.reportFile, 'utf8'))).toMatchObject({ kind: 'reconcile', counts: report.counts });
    expect(f.orderChangingCalls()).toEqual([]);
  });

  it('without a key, --json prints the configuration error object (error, code, expected, exitCode 2) with the standing from the database', async () => {
    const r = await ctb(['reconcile', '--json']);
    expect(r.code).toBe(2);
    expect(r.err).toContain('error: KRAKEN_API_KEY and KRAKEN_API_SECRET are not set.');
    const json = r.json();
    expect(json).toMatchObject({
      ok: false, code: 'kraken_keys_missing', exitCode: 2, suggestion: [],
      error: expect.stringMatching(/^KRAKEN_API_KEY and KRAKEN_API_SECRET are not set\. .* needs a key with Query rights \(the reconciliation standing in "start" comes from the database\)\.$/),
      expected: 'KRAKEN_API_KEY and KRAKEN_API_SECRET set (environment or .env, mode 0600) to a Kraken key with Query rights',
      start: { blocked: false },
    });
    expect(json).not.toHaveProperty('ledgerSkipped');
    // The terminal still shows the standing, and the same error on stderr.
    const text = await ctb(['reconcile']);
    expect(text.code).toBe(2);
    expect(text.out).toContain('reconciliation with Kraken:');
  });

  it('waits out the rate limit on the balance read (the bot shares the key), saying so on stderr, and still answers', async () => {
    withKeysInDotEnv();
    const history = fakeTrades(4, { newest: NOW() });
    await ledgerOf(history);
    const f = await kraken({ trades: history });
    f.failNext('BalanceEx', 'EAPI:Rate limit exceeded');
    const r = await ctb(['reconcile', '--json'], { KRAKEN_RATE_TIER: 'pro' });
    expect(r.code, r.out).toBe(0);
    expect(r.err).toContain('Kraken refused BalanceEx: EAPI:Rate limit exceeded');
    expect(r.err).toContain('Waiting 1 s, then asking again (1 of 3).');
    expect(r.json()).toMatchObject({ kind: 'reconcile', ok: true, counts: { matched: 4 } });
    expect(f.callsTo('BalanceEx')).toHaveLength(2);
  });

  it('draws a progress bar of the pages fetched on a terminal, and none when the output is JSON', async () => {
    withKeysInDotEnv();
    const history = fakeTrades(120, { newest: NOW() });
    await ledgerOf(history);
    await kraken({ trades: history });
    const tty = await ctb(['reconcile'], {}, { tty: true });
    expect(tty.code, tty.err).toBe(0);
    expect(tty.err).toMatch(/Kraken trade history \[[^\]]+\] 120\/120 trades · 3 page\(s\)/);
    const json = await ctb(['reconcile', '--json'], {}, { tty: true });
    expect(json.code).toBe(0);
    expect(json.err).not.toContain('Kraken trade history');
  });

  it('exits 1 naming mismatched, recent unmatched and legacy trades in its table', async () => {
    withKeysInDotEnv();
    const history = fakeTrades(60, { newest: NOW() });
    // Ledger: trades 2..56; 0 and 1 are recent and unknown; 57..59 predate the ledger; trade 10 has the wrong quantity.
    await ledgerOf(history.slice(2, 57), (i) => (i === 8 ? { quantity: '0.02' } : {}));
    await kraken({ trades: history });
    const r = await ctb(['reconcile']);
    expect(r.code, r.err).toBe(1);
    expect(r.out).toMatch(/matched\s+54/);
    expect(r.out).toMatch(/mismatched\s+1/);
    expect(r.out).toMatch(/recent unmatched\s+2/);
    expect(r.out).toMatch(/legacy_unmatched\s+3/);
    expect(r.out).toContain(`trade ${history[10]!.txid}: quantity 0.02 vs 0.01`);
    expect(r.out).toContain('RECONCILE FAILED');
    expect(r.out).toContain(`report: ${join(checkout.dir, 'reports', 'reconcile-')}`);
  });

  it('finds early ledger fills even when RECONCILE_LEGACY_CUTOFF is set weeks after the ledger began', async () => {
    withKeysInDotEnv();
    const early = fakeTrades(2, { newest: NOW() - 40 * 86_400, prefix: 'E' });
    const recent = fakeTrades(2, { newest: NOW(), prefix: 'R' });
    await ledgerOf([...recent, ...early]);
    await kraken({ trades: [...recent, ...early] });
    const cutoff = new Date((NOW() - 10 * 86_400) * 1000).toISOString();
    const r = await ctb(['reconcile', '--json'], { RECONCILE_LEGACY_CUTOFF: cutoff });
    expect(r.code, r.err).toBe(0);
    expect(r.json()).toMatchObject({ cutoffSource: 'config', counts: { matched: 4, missingOnExchange: 0 } });
  });

  it('exits 2 without a Kraken key, and on an argument it does not take', async () => {
    const r = await ctb(['reconcile']);
    expect(r.code).toBe(2);
    expect(r.err).toContain('KRAKEN_API_KEY and KRAKEN_API_SECRET are not set.');
    const bad = await ctb(['reconcile', 'yesterday']);
    expect(bad.code).toBe(2);
    expect(bad.err).toContain("unknown command 'yesterday' for 'ctb reconcile'");
  });

  it('exits 1 with Kraken’s reason when the key may not read trade history', async () => {
    withKeysInDotEnv();
    await kraken({ permissions: ['query-funds'] });
    const r = await ctb(['reconcile']);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^error: .*Permission denied/);
    expect(r.err).not.toContain(TEST_API_KEY);
  });

  it('exits 1 when Kraken refuses the connection, naming the address it tried and what to check', async () => {
    withKeysInDotEnv();
    const port = await closedPort();
    const r = await ctb(['reconcile'], { KRAKEN_API_URL: `http://127.0.0.1:${port}` });
    expect(r.code).toBe(1);
    expect(r.err).toContain(`error: Could not reach Kraken at http://127.0.0.1:${port}/ (fetch failed: connect ECONNREFUSED 127.0.0.1:${port}): nothing was compared with Kraken.`);
    expect(r.err).toContain('Check that this host can reach Kraken (KRAKEN_API_URL; DNS, firewall, proxy), then run ctb reconcile again.');
    const json = await ctb(['reconcile', '--json'], { KRAKEN_API_URL: `http://127.0.0.1:${port}` });
    expect(json.json()).toMatchObject({ ok: false, code: 'kraken_unreachable', exitCode: 1 });
  });
});

/** A loopback port nothing listens on: a connection to it is refused at once. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('ctb audit-roi', () => {
  const ago = (ms: number) => new Date(Date.now() - ms);
  const snap = (mode: 'paper' | 'live', at: Date, equity: string) => ({ mode, feed: 'kraken' as const, at, equity, cash: equity, peakEquity: equity, drawdownPct: '0' });

  it('exits 0 with no snapshots yet (nothing disagrees), writing its report under REPORTS_DIR', async () => {
    const r = await ctb(['audit-roi', '--json']);
    expect(r.code, r.err).toBe(0);
    const report = r.json();
    expect(report).toMatchObject({ kind: 'roi_audit', schemaVersion: 1, ok: true, rows: [], exchange: null, tolerancePp: 0.5 });
    expect(existsSync(report.reportFile)).toBe(true);
    expect(report.reportFile.startsWith(join(checkout.dir, 'reports', 'roi-audit-'))).toBe(true);
  });

  it('exits 0 when the live book’s snapshots agree with the ledger and with Kraken’s balances', async () => {
    withKeysInDotEnv();
    await database.db.insert(equitySnapshots).values([snap('live', ago(3 * 86_400_000), '10000'), snap('live', ago(3_600_000), '10000')]);
    await kraken({ balances: { ZUSD: '10000.0000' } });
    const r = await ctb(['audit-roi', '--json']);
    expect(r.code, r.err).toBe(0);
    const report = r.json();
    expect(report.exchange).toMatchObject({ status: 'agrees', snapshotEquity: '10000', exchangeEquity: '10000' });
    expect(report.rows.find((row: { period: string }) => row.period === '7d')).toMatchObject({ mode: 'live', status: 'agrees', ledgerRoiPct: '0.0000', snapshotRoiPct: '0.0000' });
  });

  it('exits 1 when equity moved without the ledger, or Kraken holds less than the snapshots say', async () => {
    await database.db.insert(equitySnapshots).values([snap('paper', ago(3 * 86_400_000), '10000'), snap('paper', ago(3_600_000), '10300')]);
    const drift = await ctb(['audit-roi']);
    expect(drift.code).toBe(1);
    expect(drift.out).toMatch(/paper\/kraken\s+7d\s+ledger 0\.0000%\s+snapshots 3\.0000%\s+diff 3\.0000 pp\s+DISAGREES/);
    expect(drift.out).toContain('ROI AUDIT FAILED');

    await database.db.execute(sql`truncate equity_snapshots`);
    withKeysInDotEnv();
    await database.db.insert(equitySnapshots).values([snap('live', ago(3 * 86_400_000), '10000'), snap('live', ago(3_600_000), '10000')]);
    await kraken({ balances: { ZUSD: '9000.0000' } });
    const short = await ctb(['audit-roi', '--json']);
    expect(short.code).toBe(1);
    expect(short.json().exchange).toMatchObject({ status: 'disagrees', exchangeEquity: '9000', diffPct: '10.0000' });
  });

  it('exits 2 on an argument it does not take, and on a bad ROI_TOLERANCE_PCT', async () => {
    const bad = await ctb(['audit-roi', '--period', '7d']);
    expect(bad.code).toBe(2);
    expect(bad.err).toContain("unknown option '--period'");
    const env = await ctb(['audit-roi'], { ROI_TOLERANCE_PCT: 'lots' });
    expect(env.code).toBe(2);
    expect(env.err).toContain('ROI_TOLERANCE_PCT');
  });
});
