import { mkdtempSync, rmSync, unlinkSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/program.js';
import { createPostgresTestDb, type TestDatabase } from '../support/db.js';

describe('ctb backup and ctb backup verify (exit codes)', () => {
  let database: TestDatabase;
  let root: string;
  let out: string[];
  let err: string[];
  const io = () => ({
    env: { DATABASE_URL: database.url, LOG_DIR: join(root, 'logs'), BACKUP_DIR: join(root, 'backups'), REPORTS_DIR: join(root, 'reports'), LOG_LEVEL: 'warn' },
    cwd: root,
    stdout: { write: (s: string) => out.push(s) },
    stderr: { write: (s: string) => err.push(s) },
  });
  beforeAll(async () => {
    database = await createPostgresTestDb();
    root = mkdtempSync(join(tmpdir(), 'ctb-backup-cli-'));
    mkdirSync(join(root, 'logs'));
    writeFileSync(join(root, 'logs/system.log'), '{"level":30,"msg":"hello"}\n');
  });
  afterAll(async () => {
    await database?.close();
    rmSync(root, { recursive: true, force: true });
  });

  it('takes a snapshot (exit 0), verifies it (exit 0), and fails verify on a missing file (exit 1)', async () => {
    out = [];
    err = [];
    expect(await runCli(['backup', '--reason', 'cli-test', '--json'], io())).toBe(0);
    const snap = JSON.parse(out.join('')) as { path: string; reason: string; files: number };
    expect(snap.reason).toBe('cli-test');

    out = [];
    expect(await runCli(['backup', 'verify', snap.path], io())).toBe(0);
    expect(out.join('')).toMatch(/^OK .*: \d+ files match the manifest; manifest matches the checksum recorded/);

    unlinkSync(join(snap.path, 'logs/system.log'));
    out = [];
    expect(await runCli(['backup', 'verify', snap.path], io())).toBe(1);
    expect(out.join('')).toContain('missing  logs/system.log is listed in the manifest but missing');
  });

  it('refuses a bad BACKUP_RETENTION with exit 2 naming it', async () => {
    err = [];
    const bad = { ...io(), env: { ...io().env, BACKUP_RETENTION: 'forever' } };
    expect(await runCli(['backup'], bad)).toBe(2);
    expect(err.join('')).toContain('BACKUP_RETENTION: expected a count, an age or both');
  });

  it('says whether a path given to verify is missing or a file, not just "not a directory" (exit 1)', async () => {
    out = [];
    expect(await runCli(['backup', 'verify', join(root, 'no-such-snapshot')], io())).toBe(1);
    expect(out.join('')).toContain(`${join(root, 'no-such-snapshot')} does not exist: give the snapshot directory that ctb backup wrote`);
    out = [];
    expect(await runCli(['backup', 'verify', join(root, 'logs/system.log')], io())).toBe(1);
    expect(out.join('')).toContain(`${join(root, 'logs/system.log')} is a file, not a snapshot directory`);
  });

  it('needs a directory for verify (usage error, exit 2)', async () => {
    err = [];
    expect(await runCli(['backup', 'verify'], io())).toBe(2);
  });
});
