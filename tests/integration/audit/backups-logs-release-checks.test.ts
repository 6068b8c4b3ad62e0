import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Actor } from '../../../src/app/context.js';
import { ALERTED } from '../../../src/alerts/log-source.js';
import { ManualClock } from '../../../src/clock.js';
import { backupsCheck, releaseCheck } from '../../../src/services/audit/checks/backups-release.js';
import { unhandledErrorsCheck } from '../../../src/services/audit/checks/logs.js';
import { auditContext } from '../../../src/services/audit/run-audit.js';
import type { AuditCheck } from '../../../src/services/audit/types.js';
import { createSnapshot } from '../../../src/services/backup/index.js';
import { readReleaseInfo } from '../../../src/services/release/version.js';
import { createPostgresTestDb, type TestDatabase } from '../../support/db.js';
import { testContext } from '../../support/app-context.js';

const actor: Actor = { id: 'cli:alice', source: 'cli' };
let database: TestDatabase;
let root: string;
const clock = new ManualClock('2026-01-05T12:00:00Z');
let ctx: Awaited<ReturnType<typeof testContext>>;

const run = (check: AuditCheck) => check.run(auditContext(ctx, { actor, cwd: root, dryRun: true }), { dryRun: true });
const line = (at: Date, level: number, msg: string, extra: Record<string, unknown> = {}) => JSON.stringify({ level, time: at.toISOString(), pid: 1, msg, ...extra });

beforeAll(async () => {
  database = await createPostgresTestDb();
  root = mkdtempSync(join(tmpdir(), 'ctb-audit-checks-'));
  mkdirSync(join(root, 'logs'));
  ctx = await testContext({
    database,
    clock,
    env: { LOG_DIR: join(root, 'logs'), BACKUP_DIR: join(root, 'backups'), REPORTS_DIR: join(root, 'reports'), LOG_CHECK_WINDOW: '6h', BACKUP_RECENT_WITHIN: '24h' },
  });
});
afterAll(async () => {
  await ctx?.close();
  await database?.close();
  rmSync(root, { recursive: true, force: true });
});

describe('audit check logs.unhandled_errors', () => {
  it('warns when there are no log files to read', async () => {
    expect(await run(unhandledErrorsCheck)).toMatchObject({ status: 'warn', value: expect.stringContaining('no system.log or anomalies.log') });
  });

  it('passes on a clean log', async () => {
    writeFileSync(join(root, 'logs/system.log'), [line(clock.now(), 30, 'tick'), line(clock.now(), 40, 'slow reply')].join('\n') + '\n');
    expect(await run(unhandledErrorsCheck)).toMatchObject({ status: 'pass', value: 'no unhandled errors in the last 6h (1 log file read)' });
  });

  it('fails on an unhandled rejection inside LOG_CHECK_WINDOW, naming it with file and line', async () => {
    const at = new Date(clock.now().getTime() - 3_600_000);
    writeFileSync(join(root, 'logs/anomalies.log'), line(at, 60, 'unhandled rejection: socket hang up', { event: 'unhandledRejection', unhandled: true }) + '\n');
    const outcome = await run(unhandledErrorsCheck);
    expect(outcome.status).toBe('fail');
    expect(outcome.value).toBe('1 unhandled error in the last 6h: 2026-01-05T11:00:00.000Z anomalies.log:1 [unhandledRejection] unhandled rejection: socket hang up');
    expect(outcome.fix).toMatch(/LOG_CHECK_WINDOW/);
  });

  it('skips error lines marked ALERTED (handled, with their own alert) but still counts unhandled ones', async () => {
    const at = new Date(clock.now().getTime() - 1_800_000);
    writeFileSync(join(root, 'logs/system.log'), [
      line(at, 50, 'kill could not confirm zero open orders', ALERTED),
      line(at, 50, 'risk breach: exposure over limit', ALERTED),
    ].join('\n') + '\n');
    writeFileSync(join(root, 'logs/anomalies.log'), line(at, 50, 'kill could not confirm zero open orders', ALERTED) + '\n');
    expect(await run(unhandledErrorsCheck)).toMatchObject({ status: 'pass' });
    writeFileSync(join(root, 'logs/anomalies.log'), line(at, 60, 'unhandled rejection: boom', { event: 'unhandledRejection', unhandled: true, ...ALERTED }) + '\n');
    expect(await run(unhandledErrorsCheck)).toMatchObject({ status: 'fail', value: expect.stringContaining('[unhandledRejection] unhandled rejection: boom') });
    rmSync(join(root, 'logs/anomalies.log'));
  });

  it('warns on unreadable lines and program errors below error level, naming where; fails on a plain-text Uncaught TypeError', async () => {
    const at = new Date(clock.now().getTime() - 1_800_000);
    writeFileSync(join(root, 'logs/system.log'), [
      line(at, 30, 'tick'),
      'not a log line',
      line(at, 40, 'tick failed', { err: { type: 'TypeError', message: "Cannot read properties of undefined (reading 'qty')" } }),
    ].join('\n') + '\n');
    expect(await run(unhandledErrorsCheck)).toMatchObject({
      status: 'warn',
      value: 'no unhandled errors in the last 6h (1 log file read); but 1 unreadable line (not pino JSON with a time: searched only for an uncaught/unhandled marker) at system.log:2; '
        + '1 line below error level carries a program error (TypeError, ReferenceError, SyntaxError or RangeError) at system.log:3',
      fix: expect.stringContaining('Read those lines in'),
    });
    writeFileSync(join(root, 'logs/system.log'), ["Uncaught TypeError: Cannot read properties of undefined (reading 'price')", line(at, 30, 'tick')].join('\n') + '\n');
    expect(await run(unhandledErrorsCheck)).toMatchObject({
      status: 'fail',
      value: "1 unhandled error in the last 6h: (no time) system.log:1 [uncaughtException] Uncaught TypeError: Cannot read properties of undefined (reading 'price')",
    });
  });

  it('passes again once the error is older than the window', async () => {
    clock.advance(6 * 3_600_000);
    writeFileSync(join(root, 'logs/system.log'), line(clock.now(), 30, 'tick') + '\n');
    expect((await run(unhandledErrorsCheck)).status).toBe('pass');
  });
});

describe('audit check backups.snapshot', () => {
  it('warns when no snapshot was ever taken', async () => {
    expect(await run(backupsCheck)).toMatchObject({ status: 'warn', value: 'no backup snapshot taken yet', fix: expect.stringContaining('ctb backup') });
  });

  it('passes with a fresh, intact snapshot holding config and logs', async () => {
    await createSnapshot(ctx, { reason: 'pre-go-live' });
    clock.advance(2 * 3_600_000);
    const outcome = await run(backupsCheck);
    expect(outcome.status).toBe('pass');
    expect(outcome.value).toMatch(/\(pre-go-live, 2h old\): \d+ files match the manifest$/);
  });

  it('warns when the newest snapshot is older than BACKUP_RECENT_WITHIN', async () => {
    clock.advance(23 * 3_600_000);
    expect(await run(backupsCheck)).toMatchObject({ status: 'warn', value: expect.stringContaining('is older than 1d (BACKUP_RECENT_WITHIN)') });
  });

  it('fails when the newest snapshot no longer matches its manifest', async () => {
    const snap = await createSnapshot(ctx, { reason: 'second' });
    writeFileSync(join(snap.path, 'config/effective.json'), '{"IS_LIVE": true}\n');
    const outcome = await run(backupsCheck);
    expect(outcome.status).toBe('fail');
    expect(outcome.value).toContain('config/effective.json was altered');
  });
});

describe('audit check release.tag', () => {
  it('passes only on a tagged release, and says what runs either way', async () => {
    const info = await readReleaseInfo();
    const outcome = await run(releaseCheck);
    expect(outcome.status).toBe(info.tagged ? 'pass' : 'warn');
    expect(outcome.value.startsWith(info.label)).toBe(true);
    if (!info.tagged) expect(outcome.fix).toMatch(/git tag v1\.0-go-live && git push --tags/);
  });
});
