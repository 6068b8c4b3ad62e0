// The audit's checks that need no exchange, each driven through pass, warn and fail.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sql } from 'drizzle-orm';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Actor } from '../../../src/app/context.js';
import { alertEvents, alertGroups, botState, equitySnapshots, incidents, trades } from '../../../src/db/schema/index.js';
import { credentialsStorageCheck, secretScanCheck } from '../../../src/services/audit/checks/credentials.js';
import { goLiveCriteriaCheck } from '../../../src/services/audit/checks/criteria.js';
import { auditChecks } from '../../../src/services/audit/checks/index.js';
import { approversCheck } from '../../../src/services/audit/checks/approvers.js';
import { paperPositionsCheck } from '../../../src/services/audit/checks/paper-positions.js';
import { logRotationCheck } from '../../../src/services/audit/checks/logging.js';
import { capitalBufferCheck, drawdownGuardCheck, strategyLimitsCheck } from '../../../src/services/audit/checks/risk.js';
import { DEFAULT_STRATEGIES_FILE, strategiesPath } from '../../../src/engine/strategies/config.js';
import { upsertGolivePolicy } from '../../../src/db/queries/golive-policy.js';
import { seedPaperAccount } from '../../../src/db/queries/exchange-paper.js';
import { roiCheck } from '../../../src/services/audit/checks/roi.js';
import { runAudit } from '../../../src/services/audit/run-audit.js';
import { trackedFileLists } from '../../../src/services/audit/sources/git.js';
import { LEAK_SCAN_IGNORE } from '../../../src/services/audit/checks/secret-scan.js';
import type { AuditCheck, CheckResult } from '../../../src/services/audit/types.js';
import { createPostgresTestDb, emptyTablesSql, type TestDatabase } from '../../support/db.js';
import { testContext } from '../../support/app-context.js';
import { tempCheckout, type TempCheckout } from '../../support/temp-checkout.js';
import { insertTrade } from '../../support/trade-rows.js';
import { DEFAULT_AUDIT_SETTINGS } from '../../support/gate-thresholds.js';
import { withEnv } from '../../support/with-env.js';

const actor: Actor = { id: 'cli:test', source: 'cli' };
const KEY = 'Ab1+'.repeat(14); // 56 base64 characters: shaped like a Kraken key
const SECRET = `${'Zx9/'.repeat(21)}Qw==`; // 88 characters ending in ==: shaped like a Kraken secret

let database: TestDatabase;
let checkout: TempCheckout;
beforeAll(async () => {
  database = await createPostgresTestDb();
});
afterAll(async () => {
  await database?.close();
});
beforeEach(async () => {
  checkout = tempCheckout();
  await database.db.execute(sql.raw(emptyTablesSql(['trades', 'equity_snapshots', 'alert_events', 'alert_groups', 'audit_runs', 'paper_balances'])));
});
afterEach(() => checkout.remove());

/** `fn`'s result and the git command lines it ran (a `git` first on PATH that records its arguments). */
async function gitRuns<T>(fn: () => Promise<T>): Promise<{ result: T; args: string[] }> {
  const bin = mkdtempSync(join(tmpdir(), 'ctb-git-shim-'));
  const log = join(bin, 'runs.txt');
  const real = execFileSync('sh', ['-c', 'command -v git'], { encoding: 'utf8' }).trim();
  writeFileSync(join(bin, 'git'), `#!/bin/sh\necho "$*" >> '${log}'\nexec '${real}' "$@"\n`, { mode: 0o755 });
  try {
    const result = await withEnv({ PATH: `${bin}:${process.env['PATH'] ?? ''}` }, fn);
    return { result, args: existsSync(log) ? readFileSync(log, 'utf8').split('\n').filter(Boolean) : [] };
  } finally {
    rmSync(bin, { recursive: true, force: true });
  }
}

async function run(check: AuditCheck, env: Record<string, string | undefined> = {}, opts: { cwd?: string; clockAt?: string } = {}): Promise<CheckResult> {
  const ctx = await testContext({ database, env: { LOG_DIR: join(checkout.dir, 'logs'), ...env } });
  if (opts.clockAt) ctx.clock.set(opts.clockAt);
  const report = await runAudit(ctx, { actor, dryRun: true, cwd: opts.cwd ?? checkout.dir, checks: [check], only: [check.id] });
  return report.results[0]!;
}

describe('credentials.storage', () => {
  const keys = { KRAKEN_API_KEY: KEY, KRAKEN_API_SECRET: SECRET };

  it('passes for keys in a 0600 .env that git ignores and does not track', async () => {
    checkout.write('.gitignore', '.env\n', { track: true });
    checkout.write('.env', `KRAKEN_API_KEY=${KEY}\nKRAKEN_API_SECRET=${SECRET}\n`, { mode: 0o600 });
    const r = await run(credentialsStorageCheck, keys);
    expect(r).toMatchObject({ status: 'pass', value: 'keys from .env; .env 0600, untracked, ignored', fix: null });
  });

  it('passes for keys from the environment with no .env at all', async () => {
    expect(await run(credentialsStorageCheck, keys)).toMatchObject({ status: 'pass', value: 'keys from environment; no .env file' });
  });

  it('fails a .env readable by others, naming the mode and the fix', async () => {
    checkout.write('.gitignore', '.env\n', { track: true });
    checkout.write('.env', `KRAKEN_API_KEY=${KEY}\n`, { mode: 0o644 });
    const r = await run(credentialsStorageCheck, keys);
    expect(r.status).toBe('fail');
    expect(r.value).toContain('.env mode 0644 (readable by others)');
    expect(r.fix).toContain('chmod 600 .env');
  });

  it('fails a .env that git tracks and does not ignore', async () => {
    checkout.write('.env', 'LOG_LEVEL=info\n', { mode: 0o600, track: true });
    const r = await run(credentialsStorageCheck, keys);
    expect(r.status).toBe('fail');
    expect(r.value).toContain('.env is tracked by git');
    expect(r.value).toContain('.env is not in .gitignore');
  });

  it('fails when no key is configured', async () => {
    expect(await run(credentialsStorageCheck)).toMatchObject({ status: 'fail', value: 'keys missing; KRAKEN_API_KEY not set' });
  });

  it('passes a locked-down .env outside any git checkout (the README\'s rehearsal directory), where nothing can commit it', async () => {
    const plain = tempCheckout({ git: false });
    try {
      plain.write('.env', `KRAKEN_API_KEY=${KEY}\nKRAKEN_API_SECRET=${SECRET}\n`, { mode: 0o600 });
      expect(await run(credentialsStorageCheck, keys, { cwd: plain.dir })).toMatchObject({
        status: 'pass', value: 'keys from .env; .env 0600, outside any git checkout (nothing can commit it)',
      });
      plain.write('.env', `KRAKEN_API_KEY=${KEY}\nKRAKEN_API_SECRET=${SECRET}\n`, { mode: 0o644 });
      expect(await run(credentialsStorageCheck, keys, { cwd: plain.dir })).toMatchObject({ status: 'fail', fix: 'chmod 600 .env' });
    } finally {
      plain.remove();
    }
  });
});

describe('credentials.leak_scan', () => {
  it('passes a checkout with no key in any tracked file, and ignores untracked ones', async () => {
    checkout.write('src/app.ts', 'export const x = 1;\n', { track: true });
    checkout.write('notes.txt', `KRAKEN_API_KEY=${KEY}\n`); // untracked
    expect(await run(secretScanCheck, { KRAKEN_API_KEY: KEY, KRAKEN_API_SECRET: SECRET })).toMatchObject({ status: 'pass', value: '1 tracked files clean' });
  });

  it('fails on the configured key in a tracked file, naming file and line but never the value', async () => {
    checkout.write('src/config.ts', `// setup\nconst k = "${KEY}";\n`, { track: true });
    const r = await run(secretScanCheck, { KRAKEN_API_KEY: KEY, KRAKEN_API_SECRET: SECRET });
    expect(r).toMatchObject({ status: 'fail', value: '1 finding(s): src/config.ts:2 (configured_key)' });
    expect(JSON.stringify(r)).not.toContain(KEY);
  });

  it('does not search for a configured key too short to be a Kraken key, says so, and still finds key-shaped literals', async () => {
    checkout.write('src/abc.ts', `// abc: the abc of it\nexport const abc = 'abc';\n`, { track: true });
    const short = await run(secretScanCheck, { KRAKEN_API_KEY: 'abc', KRAKEN_API_SECRET: SECRET });
    expect(short.status, short.value).toBe('warn');
    expect(short.value).toBe('1 tracked files clean of key-shaped literals; KRAKEN_API_KEY is shorter than 16 characters, too short to be a Kraken key (56) '
      + 'or secret (88): not searched for as text (logs still mask it)');
    expect(short.fix).toMatch(/56 and 88 characters/);
    expect(short.details).toMatchObject({ findings: [], notSearchedFor: ['KRAKEN_API_KEY'] });
    checkout.write('deploy/env.sh', `export KRAKEN_API_SECRET='${SECRET}'\n`, { track: true });
    const shaped = await run(secretScanCheck, { KRAKEN_API_KEY: 'abc', KRAKEN_API_SECRET: 'xyz' });
    expect(shaped.status).toBe('fail');
    expect(shaped.value).toMatch(/^1 finding\(s\): deploy\/env\.sh:1 \(secret_shaped\); KRAKEN_API_KEY and KRAKEN_API_SECRET are shorter than 16 characters/);
  });

  it('fails on a key-shaped or secret-shaped literal assigned to a key-ish name, even if it is not the configured key', async () => {
    checkout.write('deploy/env.sh', `export KRAKEN_API_KEY=${KEY}\nexport KRAKEN_API_SECRET='${SECRET}'\nINTEGRITY=sha512-${SECRET}\n`, { track: true });
    const r = await run(secretScanCheck);
    expect(r.status).toBe('fail');
    expect(r.value).toBe('2 finding(s): deploy/env.sh:1 (key_shaped), deploy/env.sh:2 (secret_shaped)');
    expect(JSON.stringify(r)).not.toContain(SECRET);
  });

  it('lets key-shaped fixtures in files listed in .leakscanignore be, and says how many it let be', async () => {
    checkout.write('.leakscanignore', '# test fixtures: key-shaped literals that are not keys\ntests/backup.test.ts\n', { track: true });
    checkout.write('tests/backup.test.ts', `const KRAKEN_KEY = '${KEY}';\n`, { track: true });
    checkout.write('src/app.ts', 'export const x = 1;\n', { track: true });
    const r = await run(secretScanCheck);
    expect(r).toMatchObject({ status: 'pass', details: { fixtureFiles: 1 } });
    expect(r.value).toBe('3 tracked files clean (1 fixture files listed in .leakscanignore checked for the configured key only)');
  });

  it('still fails on the configured key inside a file listed in .leakscanignore, and on key shapes outside it', async () => {
    checkout.write('.leakscanignore', 'tests/fixture.ts\n', { track: true });
    checkout.write('tests/fixture.ts', `const k = "${KEY}";\n`, { track: true });
    checkout.write('deploy/env.sh', `export KRAKEN_API_SECRET='${SECRET}'\n`, { track: true });
    const r = await run(secretScanCheck, { KRAKEN_API_KEY: KEY, KRAKEN_API_SECRET: 'c2VjcmV0'.repeat(11) });
    expect(r.value).toBe('2 finding(s): deploy/env.sh:1 (secret_shaped), tests/fixture.ts:1 (configured_key)');
    expect(r.fix).toContain('rotate the Kraken key');
  });

  it("passes on this project's own checkout: its test fixtures are not taken for leaked keys", async () => {
    const repo = fileURLToPath(new URL('../../..', import.meta.url));
    const r = await run(secretScanCheck, {}, { cwd: repo });
    expect(r.status, r.value).toBe('pass');
    expect((r.details as { fixtureFiles: number }).fixtureFiles).toBeGreaterThan(0);
  });

  it("finds a key-shaped literal added to any of this project's test files: its .leakscanignore names fixture files, not folders", async () => {
    const repo = fileURLToPath(new URL('../../..', import.meta.url));
    const listed = readFileSync(join(repo, '.leakscanignore'), 'utf8').split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'));
    for (const path of listed) expect(statSync(join(repo, path)).isFile(), `${path} in .leakscanignore is not one file`).toBe(true);
    checkout.write('.leakscanignore', readFileSync(join(repo, '.leakscanignore'), 'utf8'), { track: true });
    for (const path of listed) checkout.write(path, `const KRAKEN_KEY = '${KEY}';\n`, { track: true });
    checkout.write('tests/unit/new-feature.test.ts', `// setup\nconst apiKey = '${KEY}';\n`, { track: true });
    checkout.write('tests/integration/audit/new-check.test.ts', `const KRAKEN_API_SECRET = '${SECRET}';\n`, { track: true });
    const r = await run(secretScanCheck);
    expect(r.status).toBe('fail');
    expect(r.value).toBe('2 finding(s): tests/integration/audit/new-check.test.ts:1 (secret_shaped), tests/unit/new-feature.test.ts:2 (key_shaped)');
  });

  it('asks git once whether it is a checkout, then lists the tracked files and the fixtures', async () => {
    checkout.write('.leakscanignore', 'tests/fixture.ts\n', { track: true });
    checkout.write('tests/fixture.ts', `const k = "${KEY}";\n`, { track: true });
    const runs = await gitRuns(() => run(secretScanCheck));
    expect(runs.result).toMatchObject({ status: 'pass', value: '2 tracked files clean (1 fixture files listed in .leakscanignore checked for the configured key only)' });
    expect(runs.args.sort()).toEqual(['ls-files -z', 'ls-files -z --cached --ignored --exclude-from=.leakscanignore', 'rev-parse --is-inside-work-tree']);
    // Inside .git (not a work tree, though ls-files would list the files): not a checkout, and nothing listed.
    const inGitDir = await gitRuns(() => trackedFileLists(join(checkout.dir, '.git'), LEAK_SCAN_IGNORE));
    expect(inGitDir.result).toBeNull();
    expect(inGitDir.args).toEqual(['rev-parse --is-inside-work-tree']);
  });

  it('outside a git checkout (the README\'s rehearsal directory) scans the checkout ctb runs from, and says so', async () => {
    const plain = tempCheckout({ git: false });
    try {
      const r = await run(secretScanCheck, {}, { cwd: plain.dir });
      expect(r.status, r.value).toBe('pass');
      expect(r.value).toContain(`the checkout ctb runs from (${plain.dir} is not a git checkout)`);
      expect((r.details as { filesScanned: number }).filesScanned).toBeGreaterThan(100);
    } finally {
      plain.remove();
    }
  });
});

describe('logging.rotation', () => {
  const logs = () => join(checkout.dir, 'logs');

  it('passes with small current logs and a timestamped archive', async () => {
    mkdirSync(join(logs(), 'archive'), { recursive: true });
    writeFileSync(join(logs(), 'system.log'), 'x'.repeat(1000));
    writeFileSync(join(logs(), 'archive', 'system-20260104T120000-1.log'), 'old');
    expect(await run(logRotationCheck)).toMatchObject({ status: 'pass', details: { archives: 1 } });
  });

  it('passes a fresh install whose logs have never reached the rotation size, saying nothing is archived yet', async () => {
    mkdirSync(logs(), { recursive: true });
    writeFileSync(join(logs(), 'system.log'), 'x');
    expect(await run(logRotationCheck)).toMatchObject({
      status: 'pass', value: expect.stringContaining('no rotation yet (no log has reached 10.0 MB), so nothing to archive'), details: { archives: 0, rotated: false },
    });
  });

  it('warns when the logs have rotated (the rotation kept its history) but no archive is left', async () => {
    mkdirSync(logs(), { recursive: true });
    writeFileSync(join(logs(), 'system.log'), 'x');
    writeFileSync(join(logs(), 'system.history'), `${join(logs(), 'archive', 'system-20260104T120000-1.log')}\n`);
    const r = await run(logRotationCheck);
    expect(r).toMatchObject({ status: 'warn', value: expect.stringContaining('the logs have rotated but no archive is left') });
    expect(r.fix).toMatch(/what removed the archives/);
  });

  it('fails a current log of 10 MB or more', async () => {
    mkdirSync(logs(), { recursive: true });
    writeFileSync(join(logs(), 'anomalies.log'), Buffer.alloc(10 * 1024 * 1024));
    expect(await run(logRotationCheck)).toMatchObject({ status: 'fail', value: 'anomalies.log is 10.0 MB (limit 10 MB)' });
  });
});

const closedTrade = (over: Partial<typeof trades.$inferInsert> = {}): typeof trades.$inferInsert => ({
  mode: 'paper', feed: 'kraken', strategy: 'btc-ma-cross', symbol: 'BTC/USD', status: 'closed', quantity: '0.1',
  entryPrice: '30000', entryFee: '0', entryAt: new Date('2026-01-02T00:00:00Z'), exitPrice: '30300', exitFee: '0',
  exitAt: new Date('2026-01-03T00:00:00Z'), realizedPnl: '30', capitalBuffer: '1500', entryIntentId: 1, ...over,
});

describe('risk.capital_buffer', () => {
  it('passes when every closed trade has capital_buffer', async () => {
    await database.db.insert(trades).values([closedTrade(), closedTrade({ entryIntentId: 2 })]);
    expect(await run(capitalBufferCheck)).toMatchObject({ status: 'pass', value: '2 closed trades, all with capital_buffer' });
  });

  it('fails naming the trades without it (legacy rows written before the constraint)', async () => {
    await database.db.execute(sql`alter table trades drop constraint trades_closed_complete`);
    try {
      await database.db.insert(trades).values([closedTrade(), closedTrade({ entryIntentId: 2, capitalBuffer: null })]);
      expect(await run(capitalBufferCheck)).toMatchObject({ status: 'fail', value: '1 of 2 closed trades lack capital_buffer', details: { tradeIds: [2] } });
    } finally {
      await database.db.execute(sql`delete from trades`);
      await database.db.execute(sql`alter table trades add constraint trades_closed_complete check (status <> 'closed' or (exit_price is not null and exit_at is not null and realized_pnl is not null and capital_buffer is not null))`);
    }
  });
});

describe('risk.drawdown_guard', () => {
  it('passes thresholds inside the risk appetite', async () => {
    expect(await run(drawdownGuardCheck)).toMatchObject({ status: 'pass' });
  });

  it('fails a hard stop beyond the risk appetite', async () => {
    const r = await run(drawdownGuardCheck, { RISK_HARD_DRAWDOWN_PCT: '25', RISK_APPETITE_MAX_DRAWDOWN_PCT: '20' });
    expect(r).toMatchObject({ status: 'fail', value: expect.stringContaining('RISK_HARD_DRAWDOWN_PCT beyond the appetite') });
  });
});

describe('risk.strategy_limits', () => {
  const full = { maxPositionPctOfEquity: 20, maxNotional: 2500, maxOpenPositions: 1, minConfidence: 0.3, minVolume24hQuote: 1_000_000 };
  const strategy = (name: string, limits: Record<string, number>, enabled = true) =>
    ({ name, type: 'ma_crossover', enabled, pairs: ['BTC/USD'], params: { fastPeriod: 9, slowPeriod: 26 }, limits });
  const strategiesFile = (name: string, body: unknown) => {
    checkout.write(`conf/${name}`, typeof body === 'string' ? body : JSON.stringify(body));
    return { STRATEGIES_FILE: join(checkout.dir, 'conf', name) };
  };

  it('passes when every enabled strategy is limited (disabled ones are not checked)', async () => {
    const env = strategiesFile('s.json', { strategies: [strategy('a', full), strategy('b', { ...full, minConfidence: 0 }, false)] });
    expect(await run(strategyLimitsCheck, env)).toMatchObject({ status: 'pass', value: '1 enabled strategy, all limited', details: { file: env.STRATEGIES_FILE } });
  });

  it('fails a volume filter of 0 with the very problem the engine refuses to start on', async () => {
    const env = strategiesFile('s.json', { strategies: [strategy('a', full), strategy('b', { ...full, minVolume24hQuote: 0 })] });
    expect(await run(strategyLimitsCheck, env)).toMatchObject({
      status: 'fail',
      value: `${env.STRATEGIES_FILE}: strategies[1:b].limits.minVolume24hQuote: expected more than 0 for an enabled strategy (0 switches the liquidity floor off: any pair trades however thin), e.g. 1000000 (24h traded value in quote currency)`,
      fix: expect.stringContaining('the engine refuses to start with it'),
    });
  });

  it('fails a confidence threshold of 0 with the very problem the engine refuses to start on', async () => {
    const env = strategiesFile('s.json', { strategies: [strategy('a', { ...full, minConfidence: 0 })] });
    expect(await run(strategyLimitsCheck, env)).toMatchObject({
      status: 'fail',
      value: `${env.STRATEGIES_FILE}: strategies[0:a].limits.minConfidence: expected more than 0 for an enabled strategy (0 lets every signal trade), e.g. 0.3`,
      fix: expect.stringContaining('the engine refuses to start with it'),
    });
  });

  it('fails a strategy the engine would refuse (a limit missing), naming file, strategy and field', async () => {
    const { minConfidence: _c, ...noConfidence } = full;
    const env = strategiesFile('s.json', { strategies: [strategy('a', noConfidence)] });
    const r = await run(strategyLimitsCheck, env);
    expect(r.status).toBe('fail');
    expect(r.value).toContain(`${env.STRATEGIES_FILE}: strategies[0:a].limits.minConfidence`);
  });

  it('warns when no strategy is enabled, and fails an unreadable file naming it', async () => {
    expect(await run(strategyLimitsCheck, strategiesFile('off.json', { strategies: [strategy('a', full, false)] }))).toMatchObject({ status: 'warn' });
    expect(await run(strategyLimitsCheck, strategiesFile('bad.json', '{ not json'))).toMatchObject({ status: 'fail', value: expect.stringMatching(/bad\.json:1:3: not valid JSON/) });
  });

  it('reads the engine’s file, not one relative to the directory the audit runs in', async () => {
    // A broken config/strategies.json in the audit's working directory is not what the engine trades.
    checkout.write('config/strategies.json', '{ not json');
    const r = await run(strategyLimitsCheck, { STRATEGIES_FILE: undefined }, { cwd: checkout.dir });
    expect(r).toMatchObject({ status: 'pass', details: { file: DEFAULT_STRATEGIES_FILE } });
    expect(r.details?.['file']).toBe(strategiesPath({ STRATEGIES_FILE: undefined }));
  });
});

describe('golive.criteria', () => {
  const env = { GOLIVE_MIN_PAPER_TRADES: '2', GOLIVE_MIN_ROI_PCT: '0.5', GOLIVE_ALERT_WINDOW: '7d', PAPER_STARTING_BALANCE: '10000' };

  it('passes with enough paper trades, ROI above the threshold and no critical alert in the window', async () => {
    await database.db.insert(trades).values([closedTrade({ realizedPnl: '30' }), closedTrade({ entryIntentId: 2, realizedPnl: '30' })]);
    // A critical alert before the window, and a critical test alert inside it, do not count.
    const [old] = await database.db.insert(alertGroups).values({ fingerprint: 'f1', source: 'risk', severity: 'critical', title: 'old', firstAt: new Date('2025-12-01T00:00:00Z'), lastAt: new Date('2025-12-01T00:00:00Z') }).returning();
    const [test] = await database.db.insert(alertGroups).values({ fingerprint: 'f2', source: 'test', severity: 'critical', title: 'drill', test: true, firstAt: new Date('2026-01-05T00:00:00Z'), lastAt: new Date('2026-01-05T00:00:00Z') }).returning();
    await database.db.insert(alertEvents).values([
      { groupId: old!.id, at: new Date('2025-12-01T00:00:00Z'), source: 'risk', severity: 'critical', title: 'old' },
      { groupId: test!.id, at: new Date('2026-01-05T00:00:00Z'), source: 'test', severity: 'critical', title: 'drill' },
    ]);
    const r = await run(goLiveCriteriaCheck, env);
    expect(r).toMatchObject({ status: 'pass', value: '2 paper trades (need ≥ 2); paper ROI 0.60% (need > 0.5%, over PAPER_STARTING_BALANCE 10000: no engine has funded the paper account yet); 0 critical alerts in 7d (need 0)' });
  });

  it('fails showing each current value beside its threshold', async () => {
    await database.db.insert(trades).values([closedTrade({ realizedPnl: '10' }), closedTrade({ entryIntentId: 2, feed: 'replay', realizedPnl: '500' })]);
    const [g] = await database.db.insert(alertGroups).values({ fingerprint: 'f3', source: 'exchange', severity: 'critical', title: 'down', firstAt: new Date('2026-01-04T00:00:00Z'), lastAt: new Date('2026-01-04T00:00:00Z') }).returning();
    await database.db.insert(alertEvents).values({ groupId: g!.id, at: new Date('2026-01-04T00:00:00Z'), source: 'exchange', severity: 'critical', title: 'down' });
    const r = await run(goLiveCriteriaCheck, env);
    expect(r.status).toBe('fail');
    expect(r.value).toBe('1 paper trades (need ≥ 2); paper ROI 0.10% (need > 0.5%, over PAPER_STARTING_BALANCE 10000: no engine has funded the paper account yet); 1 critical alerts in 7d (need 0)');
  });

  it("does not count the live approval's withdrawal once acknowledged or resolved after it was raised (a safety action, not a fault of the strategy); open, it counts", async () => {
    await database.db.insert(trades).values([closedTrade({ realizedPnl: '30' }), closedTrade({ entryIntentId: 2, realizedPnl: '30' })]);
    const at = new Date('2026-01-04T00:00:00Z');
    const later = new Date('2026-01-04T01:00:00Z');
    const [g] = await database.db.insert(alertGroups).values({ fingerprint: 'mode-live-withdrawn-unarmed', source: 'mode', severity: 'critical', title: 'Live approval withdrawn', firstAt: at, lastAt: at }).returning();
    await database.db.insert(alertEvents).values({ groupId: g!.id, at, source: 'mode', severity: 'critical', title: 'Live approval withdrawn' });
    expect((await run(goLiveCriteriaCheck, env)).value).toContain('1 critical alerts in 7d (need 0)');

    for (const set of [{ status: 'acknowledged', acknowledgedAt: later }, { status: 'resolved', resolvedAt: later }] as const) {
      await database.db.update(alertGroups).set({ acknowledgedAt: null, resolvedAt: null, ...set });
      const r = await run(goLiveCriteriaCheck, env);
      expect(r.status, set.status).toBe('pass');
      expect(r.value).toContain('0 critical alerts in 7d (need 0; 1 more of a return to paper (the live approval withdrawn, or live positions left unchecked), acknowledged or resolved after it was raised, not counted: a safety action, not a fault of the strategy)');
      expect(r.details).toMatchObject({ criticalAlerts: 0, excusedPaperReturnAlerts: 1 });
    }
  });

  it('counts a page of live positions left unchecked raised again after its group was acknowledged, until the group is resolved; says the rule', async () => {
    await database.db.insert(trades).values([closedTrade({ realizedPnl: '30' }), closedTrade({ entryIntentId: 2, realizedPnl: '30' })]);
    // Live was left weeks ago; on-call acknowledged the page at the time (to stop the paging), and the
    // paper engine's watchdog paged again at each restart since (in the window): the new events join the
    // acknowledged group without reopening it, and the live positions may still be unchecked on Kraken.
    const left = new Date('2025-12-01T00:00:00Z');
    const [g] = await database.db.insert(alertGroups).values({ fingerprint: 'self-heal:live_left:failed', source: 'self_heal', severity: 'critical', title: 'Self-heal could not repair exchange', status: 'acknowledged', acknowledgedBy: 'U1', acknowledgedAt: new Date('2025-12-01T00:10:00Z'), count: 3, firstAt: left, lastAt: new Date('2026-01-05T00:00:00Z') }).returning();
    await database.db.insert(alertEvents).values([
      { groupId: g!.id, at: left, source: 'self_heal', severity: 'critical', title: 'Self-heal could not repair exchange' },
      { groupId: g!.id, at: new Date('2026-01-03T00:00:00Z'), source: 'self_heal', severity: 'critical', title: 'Self-heal could not repair exchange' },
      { groupId: g!.id, at: new Date('2026-01-05T00:00:00Z'), source: 'self_heal', severity: 'critical', title: 'Self-heal could not repair exchange' },
    ]);
    const rule = 'counted: every critical alert raised in the last 7d (test alerts aside), except those that record a return to paper (the live approval withdrawn by an unarmed engine, live positions left unchecked on Kraken) once someone acknowledged or resolved their alert after it was raised (one raised after the acknowledgement counts until the alert is resolved)';
    const stale = await run(goLiveCriteriaCheck, env);
    expect(stale).toMatchObject({ status: 'fail', details: { criticalAlerts: 2, criticalAlertRule: rule } });
    expect(stale.details).not.toHaveProperty('excusedPaperReturnAlerts');
    expect(stale.value).toContain('2 critical alerts in 7d (need 0)');
    expect(stale.fix).toContain(`Critical alerts ${rule}.`);

    // Acknowledged again between the two repeats: the one before it is excused, the one after still counts.
    await database.db.update(alertGroups).set({ acknowledgedAt: new Date('2026-01-04T00:00:00Z') });
    expect(await run(goLiveCriteriaCheck, env)).toMatchObject({ status: 'fail', details: { criticalAlerts: 1, excusedPaperReturnAlerts: 1 } });

    // Resolved after both (someone checked the positions on Kraken): neither counts.
    await database.db.update(alertGroups).set({ status: 'resolved', resolvedBy: 'U1', resolvedAt: new Date('2026-01-05T12:00:00Z') });
    const handled = await run(goLiveCriteriaCheck, env);
    expect(handled, handled.value).toMatchObject({ status: 'pass', details: { criticalAlerts: 0, excusedPaperReturnAlerts: 2, criticalAlertRule: rule } });

    // Open (nobody has taken it): its events in the window count.
    await database.db.update(alertGroups).set({ status: 'open' });
    expect(await run(goLiveCriteriaCheck, env)).toMatchObject({ status: 'fail', details: { criticalAlerts: 2 } });
  });

  it('measures paper ROI over the funding the paper venue recorded, not this process’s PAPER_STARTING_BALANCE', async () => {
    await seedPaperAccount(database.db, { asset: 'USD', amount: '6000', at: new Date('2026-01-01T00:00:00Z') });
    await database.db.insert(trades).values([closedTrade({ realizedPnl: '30' }), closedTrade({ entryIntentId: 2, realizedPnl: '30' })]);
    const r = await run(goLiveCriteriaCheck, env);
    expect(r).toMatchObject({ status: 'pass', value: '2 paper trades (need ≥ 2); paper ROI 1.00% (need > 0.5%); 0 critical alerts in 7d (need 0)' });
    expect(r.details).toMatchObject({ paperStartingBalance: '6000', paperStartingBalanceFrom: 'recorded' });
  });

  it('fails when a stored gate policy of 0 paper trades reaches it, though the configuration refuses 0', async () => {
    await upsertGolivePolicy(database.db, { minPaperTrades: 0, minRoiPct: '-5', alertWindowMs: 7 * 86_400_000, auditSettings: DEFAULT_AUDIT_SETTINGS, recordedBy: 'host:1', recordedAt: new Date('2026-01-01T00:00:00Z') });
    try {
      const r = await run(goLiveCriteriaCheck, { PAPER_STARTING_BALANCE: '10000' });
      expect(r.status).toBe('fail');
      expect(r.value).toContain('0 paper trades (the threshold is 0, which is refused: GOLIVE_MIN_PAPER_TRADES must be at least 1)');
      expect(r.fix).toMatch(/^Set GOLIVE_MIN_PAPER_TRADES to at least 1 in the engine's environment and restart the engine \(ctb start\), then audit again\./);
    } finally {
      await database.db.execute(sql`truncate golive_policy`);
    }
  });
});

describe('mode.approvers', () => {
  it('warns while SLACK_APPROVERS lists fewer than two people, saying what to set (not a fail: resuming a halted bot needs a passing audit); passes with two', async () => {
    const fix = 'Set SLACK_APPROVERS to the Slack member ids of at least 2 people who approve going live (comma-separated, e.g. U012AB3CD,U045EF6GH) and restart.';
    expect(await run(approversCheck, { SLACK_APPROVERS: '' })).toMatchObject({
      status: 'warn', value: 'SLACK_APPROVERS is empty: a live switch cannot be approved (it needs 2 approvers besides the requester)', fix,
    });
    expect(await run(approversCheck, { SLACK_APPROVERS: 'UAPP1' })).toMatchObject({ status: 'warn', value: expect.stringMatching(/^SLACK_APPROVERS lists only UAPP1: /), fix });
    expect(await run(approversCheck, { SLACK_APPROVERS: 'UAPP1,UAPP2' })).toMatchObject({ status: 'pass', fix: null });
    expect(auditChecks.map((c) => c.id)).toContain('mode.approvers');
  });
});

describe('golive.paper_positions', () => {
  afterEach(async () => {
    await database.db.update(botState).set({ mode: 'paper' });
  });

  it('lists, without failing, the open paper positions going live sets aside, in the switch\'s words', async () => {
    expect(await run(paperPositionsCheck)).toMatchObject({ status: 'pass', value: 'No open paper positions: the switch to live has none to set aside.', fix: null });
    // A paper trade on the replay feed is in the replay book (as stats and trades say), and is named so.
    const b = await insertTrade(database.db, { feed: 'replay', symbol: 'ETH/USD', quantity: '0.5' });
    expect(await run(paperPositionsCheck)).toMatchObject({ status: 'pass', value: `If the bot goes live: 1 open replay position set aside, not sold (#${b.id} ETH/USD 0.5): `
      + 'simulated, so Kraken holds none of it; no live order sells them and the live caps and exposure leave them out; they stay open in the replay book.' });
    const a = await insertTrade(database.db, { quantity: '0.0153' });
    await insertTrade(database.db, { mode: 'live', quantity: '0.01' });
    await insertTrade(database.db, { status: 'closed' });
    const said = `2 open paper and replay positions set aside, not sold (#${b.id} ETH/USD 0.5 replay, #${a.id} BTC/USD 0.0153 paper): simulated, so Kraken holds none of it; `
      + 'no live order sells them and the live caps and exposure leave them out; they stay open in the paper and replay books.';
    const r = await run(paperPositionsCheck);
    expect(r).toMatchObject({ status: 'pass', value: `If the bot goes live: ${said}`, fix: null });
    expect(r.details).toMatchObject({ paperSetAside: [{ tradeId: b.id, symbol: 'ETH/USD', quantity: '0.5', book: 'replay' }, { tradeId: a.id, symbol: 'BTC/USD', quantity: '0.0153', book: 'paper' }] });
    // Once live, the same positions are the ones the switch set aside.
    await database.db.update(botState).set({ mode: 'live' });
    expect(await run(paperPositionsCheck)).toMatchObject({ status: 'pass', value: `The bot is live: ${said}` });
    // A line of every audit, after the paper → live criteria.
    const ids = auditChecks.map((c) => c.id);
    expect(ids.indexOf('golive.paper_positions')).toBe(ids.indexOf('golive.criteria') + 1);
  });
});

describe('golive.criteria while a kill is being resumed', () => {
  const env = { GOLIVE_MIN_PAPER_TRADES: '1', GOLIVE_MIN_ROI_PCT: '-100', GOLIVE_ALERT_WINDOW: '7d', PAPER_STARTING_BALANCE: '10000' };
  const at = new Date('2026-01-05T00:00:00Z');
  beforeEach(async () => {
    await database.db.insert(trades).values(closedTrade());
  });
  async function critical(fingerprint: string, status: 'open' | 'resolved') {
    const [g] = await database.db.insert(alertGroups).values({ fingerprint, source: 'kill', severity: 'critical', title: fingerprint, status, firstAt: at, lastAt: at, ...(status === 'resolved' ? { resolvedAt: at } : {}) }).returning();
    await database.db.insert(alertEvents).values({ groupId: g!.id, at, source: 'kill', severity: 'critical', title: fingerprint });
  }
  afterEach(async () => {
    await database.db.execute(sql.raw(emptyTablesSql(['incident_checklist_items', 'incidents'])));
    await database.db.update(botState).set({ halted: false, haltedAt: null, haltedReason: null });
  });

  it("does not count the open incident's own alert once resolved; counts it unresolved, and counts every other critical alert", async () => {
    const [incident] = await database.db.insert(incidents).values({ killId: 'k-1', openedAt: at, openedBy: 'U0OPERATOR', trigger: 'manual', reason: 'x' }).returning();
    await database.db.update(botState).set({ halted: true, haltedAt: at, haltedReason: 'x' });
    await critical(`kill:${incident!.id}`, 'resolved');
    const r = await run(goLiveCriteriaCheck, env);
    expect(r, r.value).toMatchObject({ status: 'pass', details: { criticalAlerts: 0, excusedIncidentAlerts: 1, incidentId: incident!.id } });
    expect(r.value).toContain(`0 critical alerts in 7d (need 0; 1 more of incident ${incident!.id}'s own alerts, resolved, not counted for its resume)`);

    // Unresolved, the incident's own alert blocks; so does any other critical alert, resolved or not.
    await critical(`kill:${incident!.id}`, 'open');
    expect((await run(goLiveCriteriaCheck, env)).value).toContain('1 critical alerts in 7d (need 0; 1 more');
    await database.db.execute(sql.raw(emptyTablesSql(['alert_events', 'alert_groups'])));
    await critical('kill:999', 'resolved');
    await critical(`kill:${incident!.id}`, 'resolved');
    expect(await run(goLiveCriteriaCheck, env)).toMatchObject({ status: 'fail' });

    // The incident closed (resumed): its alerts count again, for go-live.
    await database.db.update(botState).set({ halted: false });
    expect((await run(goLiveCriteriaCheck, env)).value).toContain('2 critical alerts in 7d (need 0)');
  });
});

describe('roi.audit', () => {
  const snap = (at: string, equity: string, cash: string) => ({ mode: 'paper' as const, feed: 'kraken' as const, at: new Date(at), equity, cash, peakEquity: equity, drawdownPct: '0' });

  it('warns when there are no equity snapshots to compare', async () => {
    expect(await run(roiCheck)).toMatchObject({ status: 'warn', value: 'no equity snapshots to compare yet' });
  });

  it('passes when snapshot equity moves exactly as the ledger says, open positions included', async () => {
    // Start: all cash. A trade closes for +30; another opens (cost 3000) and is marked at 3050.
    await database.db.insert(equitySnapshots).values([snap('2026-01-01T00:00:00Z', '10000', '10000'), snap('2026-01-05T00:00:00Z', '10080', '7030')]);
    await database.db.insert(trades).values([
      closedTrade(),
      { ...closedTrade({ entryIntentId: 2, entryAt: new Date('2026-01-04T00:00:00Z') }), status: 'open', exitPrice: null, exitAt: null, exitFee: null, realizedPnl: null, capitalBuffer: null },
    ]);
    const r = await run(roiCheck, {}, { clockAt: '2026-01-05T12:00:00Z' });
    expect(r.status).toBe('pass');
    expect(r.details?.['rows']).toEqual(expect.arrayContaining([expect.objectContaining({ period: '7d', snapshotRoiPct: '0.8000', ledgerRoiPct: '0.8000', status: 'agrees' })]));
  });

  it('does not pass on the replay book alone: it says what was compared and that no paper or live book was', async () => {
    // The replay book agrees in every period, and the paper book on Kraken prices has one snapshot: nothing to compare there.
    const replay = (at: string, equity: string) => ({ ...snap(at, equity, equity), feed: 'replay' as const });
    await database.db.insert(equitySnapshots).values([replay('2026-01-01T00:00:00Z', '10000'), replay('2026-01-05T00:00:00Z', '10000'), snap('2026-01-05T06:00:00Z', '10000', '10000')]);
    const r = await run(roiCheck, {}, { clockAt: '2026-01-05T12:00:00Z' });
    expect(r.status).toBe('warn');
    expect(r.value).toBe('nothing that counts for go-live was compared: 4 book-period(s) of the replay feed agree (paper/replay 24h, 7d, 30d, all), '
      + 'but the replay feed never counts for go-live, and no paper or live book on Kraken prices has two equity snapshots to compare');
    expect(r.fix).toContain('MARKET_FEED=kraken');
  });

  it('passes on the paper book on Kraken prices, naming it, and says the replay book was not counted', async () => {
    const replay = (at: string, equity: string) => ({ ...snap(at, equity, equity), feed: 'replay' as const });
    await database.db.insert(equitySnapshots).values([
      replay('2026-01-01T00:00:00Z', '10000'), replay('2026-01-05T00:00:00Z', '10000'), snap('2026-01-01T00:00:00Z', '10000', '10000'), snap('2026-01-05T00:00:00Z', '10030', '10030'),
    ]);
    await database.db.insert(trades).values(closedTrade());
    const r = await run(roiCheck, {}, { clockAt: '2026-01-05T12:00:00Z' });
    expect(r).toMatchObject({ status: 'pass', value: '4 book-period(s) agree within 0.5 pp (paper/kraken 24h, 7d, 30d, all); 4 replay book-period(s) also agree (paper/replay 24h, 7d, 30d, all), not counted for go-live' });
  });

  it('fails when equity grew more than the ledger explains', async () => {
    await database.db.insert(equitySnapshots).values([snap('2026-01-01T00:00:00Z', '10000', '10000'), snap('2026-01-05T00:00:00Z', '10500', '10500')]);
    await database.db.insert(trades).values(closedTrade());
    const r = await run(roiCheck, {}, { clockAt: '2026-01-05T12:00:00Z' });
    expect(r.status).toBe('fail');
    expect(r.value).toContain('paper/kraken 7d: ledger 0.3000% vs snapshots 5.0000%');
  });
});
