import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, unlinkSync, writeFileSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { testConfig, type Config } from '../../src/config/env.js';
import type { Database } from '../../src/db/client.js';
import { backups, commandLog, paperBalances } from '../../src/db/schema/index.js';
import { silentLogger } from '../../src/logger.js';
import { DEFAULT_STRATEGIES_FILE } from '../../src/engine/strategies/config.js';
import { createSnapshot, listSnapshots, verifySnapshot, type SnapshotContext } from '../../src/services/backup/index.js';
import { createPgliteTestDb, createPostgresTestDb } from '../support/db.js';
import { scanTreeForSecrets } from '../support/secret-scan.js';

const KRAKEN_KEY = 'Qk7fR2mZp9XvL4tWn8YbC3sJd6HgE1uA5oKiTy0rNqMxVzSeDcFwBhPl';
const KRAKEN_SECRET = 'dGhpcyBpcyBub3QgYSByZWFsIGtyYWtlbiBzZWNyZXQgYnV0IGl0IGhhcyB0aGUgc2hhcGUgb2Ygb25lISEhIQ==';
const SLACK_BOT = 'xoxb-1234567890-0987654321-AbCdEfGhIjKlMnOpQrStUvWx';
const SLACK_APP = 'xapp-1-A0123456789-1234567890123-abcdef0123456789abcdef';
const SIGNING = '8f14e45fceea167a5a36dedd4bea2543';
const DB_PASSWORD = 'correct-horse-battery';
const KILL_TOKEN = 'kill-route-token-0123456789abcdef';
const SECRET_VALUES = [KRAKEN_KEY, KRAKEN_SECRET, SLACK_BOT, SLACK_APP, SIGNING, DB_PASSWORD, KILL_TOKEN];

function workspace(): { root: string; config: (o?: Record<string, string>) => Config } {
  const root = mkdtempSync(join(tmpdir(), 'ctb-backup-'));
  for (const d of ['logs/archive', 'reports']) mkdirSync(join(root, d), { recursive: true });
  return {
    root,
    config: (o = {}) =>
      testConfig({
        LOG_DIR: join(root, 'logs'),
        REPORTS_DIR: join(root, 'reports'),
        BACKUP_DIR: join(root, 'backups'),
        DATA_DIR: join(root, 'data'),
        KRAKEN_API_KEY: KRAKEN_KEY,
        KRAKEN_API_SECRET: KRAKEN_SECRET,
        SLACK_BOT_TOKEN: SLACK_BOT,
        SLACK_APP_TOKEN: SLACK_APP,
        SLACK_SIGNING_SECRET: SIGNING,
        KILL_HTTP_TOKEN: KILL_TOKEN,
        DATABASE_URL: `postgres://ctb:${DB_PASSWORD}@db.internal:5432/ctb`,
        ...o,
      }),
  };
}

describe('backup snapshots on PostgreSQL', () => {
  let database: Database;
  const clock = new ManualClock('2026-01-05T12:00:00Z');
  let ws: ReturnType<typeof workspace>;
  let ctx: SnapshotContext;

  beforeAll(async () => {
    database = await createPostgresTestDb();
    ws = workspace();
    ctx = { config: ws.config(), db: database.db, clock, logger: silentLogger() };
    // Secrets that leaked where they should not have: a log line, a report, the .env, the command trail.
    writeFileSync(join(ws.root, 'logs/system.log'), `{"level":30,"msg":"connecting with ${KRAKEN_KEY}"}\n{"level":30,"msg":"ok"}\n`);
    writeFileSync(join(ws.root, 'logs/anomalies.log'), `{"level":40,"msg":"slack said no to ${SLACK_BOT}"}\n`);
    writeFileSync(join(ws.root, 'logs/archive/system-20260104T000000-1.log'), `{"level":30,"msg":"curl -H 'Authorization: Bearer ${KILL_TOKEN}'"}\n`);
    writeFileSync(join(ws.root, 'reports/roi.txt'), `roi 3.1% (secret ${KRAKEN_SECRET})\n`);
    writeFileSync(
      join(ws.root, '.env'),
      [
        '# production',
        `KRAKEN_API_KEY=${KRAKEN_KEY}`,
        `KRAKEN_API_SECRET="${KRAKEN_SECRET}"`,
        `export SLACK_BOT_TOKEN=${SLACK_BOT}`,
        `DATABASE_URL=postgres://ctb:${DB_PASSWORD}@db.internal:5432/ctb`,
        'SOME_VENDOR_PASSWORD=opensesame99',
        'IS_LIVE=false',
        'SLACK_APPROVERS=U0AAA111,U0BBB222',
      ].join('\n'),
    );
    await database.db.insert(paperBalances).values({ asset: 'BTC', total: '0.123456789012345678', updatedAt: clock.now() });
    await database.db.insert(commandLog).values({
      at: clock.now(), source: 'cli', actor: 'cli:ops', command: 'mode', args: `oops pasted ${SLACK_APP}`, allowed: true, result: 'ok',
    });
  });
  afterAll(async () => {
    await database?.close();
    rmSync(ws.root, { recursive: true, force: true });
  });

  it('writes config, logs, reports and every table with a manifest, and records it in backups', async () => {
    const snap = await createSnapshot(ctx, { reason: 'manual', actor: 'cli:ops', envFile: join(ws.root, '.env') });
    expect(snap.name).toBe('20260105T120000Z');
    const files = readdirSync(snap.path, { recursive: true }).map(String);
    expect(files).toEqual(expect.arrayContaining([
      'manifest.json', 'config/effective.json', 'config/env.redacted', 'logs/system.log', 'logs/anomalies.log',
      'logs/archive/system-20260104T000000-1.log', 'reports/roi.txt', 'db/trades.jsonl', 'db/fills.jsonl',
      'db/command_log.jsonl', 'db/audit_runs.jsonl', 'db/paper_balances.jsonl',
    ]));
    const manifest = JSON.parse(readFileSync(join(snap.path, 'manifest.json'), 'utf8'));
    expect(manifest.reason).toBe('manual');
    expect(manifest.files).toHaveLength(snap.files);
    expect(manifest.files.every((f: { sha256: string }) => /^[0-9a-f]{64}$/.test(f.sha256))).toBe(true);
    const [row] = await database.db.select().from(backups).where(eq(backups.id, snap.id));
    expect(row).toMatchObject({ path: snap.path, reason: 'manual', actor: 'cli:ops', manifestSha256: snap.manifestSha256 });
    expect(readdirSync(ws.config().BACKUP_DIR).some((n) => n.endsWith('.partial'))).toBe(false);
  });

  it('includes the strategies file the engine trades from and the risk limits, with STRATEGIES_FILE unset', async () => {
    clock.advance(60_000);
    expect(ctx.config.STRATEGIES_FILE).toBeUndefined();
    const snap = await createSnapshot(ctx, { reason: 'strategies' });
    const copied = readFileSync(join(snap.path, 'config/strategies/strategies.json'), 'utf8');
    expect(copied).toBe(readFileSync(DEFAULT_STRATEGIES_FILE, 'utf8'));
    const risk = JSON.parse(readFileSync(join(snap.path, 'config/risk.json'), 'utf8'));
    expect(risk).toMatchObject({ RISK_MAX_DRAWDOWN_PCT: 10, RISK_HARD_DRAWDOWN_PCT: 15, RISK_DAILY_LOSS_PCT: 3, CAPITAL_RESERVE_PCT: 20 });
    const manifest = JSON.parse(readFileSync(join(snap.path, 'manifest.json'), 'utf8'));
    expect(manifest.files.map((f: { path: string }) => f.path)).toEqual(expect.arrayContaining(['config/strategies/strategies.json', 'config/risk.json']));
  });

  it('copies the file STRATEGIES_FILE names instead when it is set', async () => {
    clock.advance(60_000);
    const own = join(ws.root, 'my-strategies.json');
    writeFileSync(own, '{"strategies":[]}\n');
    const snap = await createSnapshot({ ...ctx, config: ws.config({ STRATEGIES_FILE: own }) }, { reason: 'own-strategies' });
    expect(readFileSync(join(snap.path, 'config/strategies/my-strategies.json'), 'utf8')).toBe('{"strategies":[]}\n');
  });

  it('contains no secret: no configured value and nothing token-shaped in any file', async () => {
    clock.advance(60_000);
    const snap = await createSnapshot(ctx, { reason: 'secret-scan', envFile: join(ws.root, '.env') });
    expect(scanTreeForSecrets(snap.path, SECRET_VALUES)).toEqual([]);
    const env = readFileSync(join(snap.path, 'config/env.redacted'), 'utf8');
    expect(env).toContain('KRAKEN_API_KEY=[redacted]');
    expect(env).toContain('SOME_VENDOR_PASSWORD=[redacted]');
    expect(env).toContain('SLACK_APPROVERS=U0AAA111,U0BBB222');
    expect(env).toContain('postgres://ctb:redacted@db.internal:5432/ctb');
    const effective = JSON.parse(readFileSync(join(snap.path, 'config/effective.json'), 'utf8'));
    expect(effective.KRAKEN_API_SECRET).toBe('[redacted]');
    expect(effective.SMTP_URL).toBeNull();
    expect(effective.IS_LIVE).toBe(false);
  });

  it('exports numeric ledger values exactly as stored', async () => {
    clock.advance(60_000);
    const snap = await createSnapshot(ctx, { reason: 'exact' });
    const line = readFileSync(join(snap.path, 'db/paper_balances.jsonl'), 'utf8').trim();
    expect(line).toContain('0.123456789012345678');
  });

  it('verify passes on an untouched snapshot and catches an altered, a missing and an added file', async () => {
    clock.advance(60_000);
    const snap = await createSnapshot(ctx, { reason: 'verify' });
    expect(await verifySnapshot(database.db, snap.path)).toMatchObject({ ok: true, recorded: 'matches', problems: [] });

    appendFileSync(join(snap.path, 'logs/system.log'), '{"level":30,"msg":"inserted later"}\n');
    unlinkSync(join(snap.path, 'db/trades.jsonl'));
    writeFileSync(join(snap.path, 'reports/new.txt'), 'not part of the snapshot');
    const result = await verifySnapshot(database.db, snap.path);
    expect(result.ok).toBe(false);
    expect(result.problems.map((p) => [p.kind, p.path]).sort()).toEqual([
      ['altered', 'logs/system.log'],
      ['extra', 'reports/new.txt'],
      ['missing', 'db/trades.jsonl'],
    ]);
  });

  it('verify catches a manifest rewritten to match a tampered file', async () => {
    clock.advance(60_000);
    const snap = await createSnapshot(ctx, { reason: 'manifest-tamper' });
    const manifestPath = join(snap.path, 'manifest.json');
    const manifest = JSON.parse(readFileSync(manifestPath, 'utf8'));
    writeFileSync(join(snap.path, 'reports/roi.txt'), 'roi 99%\n');
    const { createHash } = await import('node:crypto');
    const entry = manifest.files.find((f: { path: string }) => f.path === 'reports/roi.txt');
    entry.sha256 = createHash('sha256').update('roi 99%\n').digest('hex');
    entry.bytes = 8;
    writeFileSync(manifestPath, JSON.stringify(manifest, null, 2));
    const result = await verifySnapshot(database.db, snap.path);
    expect(result).toMatchObject({ ok: false, recorded: 'differs' });
    expect(result.problems.map((p) => p.kind)).toEqual(['manifest']);
  });

  it('verify names a directory that is not a snapshot', async () => {
    const result = await verifySnapshot(database.db, join(ws.root, 'reports'));
    expect(result.ok).toBe(false);
    expect(result.problems[0]?.detail).toMatch(/no manifest\.json/);
  });

  it('leaves nothing behind when the snapshot cannot be completed', async () => {
    const broken = await createPostgresTestDb();
    await broken.close();
    clock.advance(60_000);
    const before = readdirSync(ctx.config.BACKUP_DIR).sort();
    await expect(createSnapshot({ ...ctx, db: broken.db }, { reason: 'doomed' })).rejects.toMatchObject({ code: 'backup_failed' });
    expect(readdirSync(ctx.config.BACKUP_DIR).sort()).toEqual(before);
  });
});

describe('backup retention', () => {
  it('keeps the newest BACKUP_RETENTION snapshots and marks the pruned ones in backups', async () => {
    const database = await createPostgresTestDb();
    const ws = workspace();
    try {
      const clock = new ManualClock('2026-02-01T00:00:00Z');
      const ctx = { config: ws.config({ BACKUP_RETENTION: '3' }), db: database.db, clock, logger: silentLogger() };
      const names: string[] = [];
      for (let i = 0; i < 5; i += 1) {
        const snap = await createSnapshot(ctx, { reason: `n${i}` });
        names.push(snap.name);
        clock.advance(3_600_000);
      }
      expect(await listSnapshots(ctx.config.BACKUP_DIR)).toEqual(names.slice(2));
      const rows = await database.db.select().from(backups).orderBy(backups.id);
      expect(rows.map((r) => r.prunedAt !== null)).toEqual([true, true, false, false, false]);
    } finally {
      await database.close();
      rmSync(ws.root, { recursive: true, force: true });
    }
  });

  it('prunes snapshots older than the retention age but never the one just taken', async () => {
    const database = await createPostgresTestDb();
    const ws = workspace();
    try {
      const clock = new ManualClock('2026-02-01T00:00:00Z');
      const ctx = { config: ws.config({ BACKUP_RETENTION: '10,2d' }), db: database.db, clock, logger: silentLogger() };
      const first = await createSnapshot(ctx, { reason: 'day0' });
      clock.advance(36 * 3_600_000);
      const second = await createSnapshot(ctx, { reason: 'day1.5' });
      expect(second.pruned).toEqual([]);
      clock.advance(36 * 3_600_000);
      const third = await createSnapshot(ctx, { reason: 'day3' });
      expect(third.pruned).toEqual([first.name]);
      expect(existsSync(first.path)).toBe(false);
      expect(await listSnapshots(ctx.config.BACKUP_DIR)).toEqual([second.name, third.name]);
    } finally {
      await database.close();
      rmSync(ws.root, { recursive: true, force: true });
    }
  });
});

describe('backup directory inside a copied directory', () => {
  it('never copies earlier snapshots into a new one', async () => {
    const database = await createPostgresTestDb();
    const ws = workspace();
    try {
      const clock = new ManualClock('2026-02-01T00:00:00Z');
      writeFileSync(join(ws.root, 'reports/roi.txt'), 'roi\n');
      const ctx = { config: ws.config({ BACKUP_DIR: join(ws.root, 'reports/backups') }), db: database.db, clock, logger: silentLogger() };
      await createSnapshot(ctx, { reason: 'first' });
      clock.advance(60_000);
      const second = await createSnapshot(ctx, { reason: 'second' });
      const files = readdirSync(second.path, { recursive: true }).map(String).filter((f) => f.startsWith('reports/'));
      expect(files.sort()).toEqual(['reports/roi.txt']);
    } finally {
      await database.close();
      rmSync(ws.root, { recursive: true, force: true });
    }
  });
});

describe('backup on the embedded database (PGlite)', () => {
  let database: Database;
  // PGlite runs initdb in WASM: on a loaded 2-core machine that alone can take over a minute.
  beforeAll(async () => {
    database = await createPgliteTestDb();
  }, 180_000);
  afterAll(async () => {
    await database?.close();
  });

  it('exports every table in one read-only transaction and verifies', async () => {
    const ws = workspace();
    try {
      const ctx = { config: ws.config({ DATABASE_URL: '' }), db: database.db, clock: new ManualClock(), logger: silentLogger() };
      const snap = await createSnapshot(ctx, { reason: 'embedded' });
      expect(snap.tables.map((t) => t.table)).toContain('trades');
      expect((await verifySnapshot(database.db, snap.path)).ok).toBe(true);
    } finally {
      rmSync(ws.root, { recursive: true, force: true });
    }
  });
});
