import { EventEmitter } from 'node:events';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { installCrashHandlers } from '../../src/app/crash-handlers.js';
import { testConfig } from '../../src/config/env.js';
import { createLogger } from '../../src/logger.js';
import { scanLogs } from '../../src/services/logcheck/scan-logs.js';

const dirs: string[] = [];
function logDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'ctb-logscan-'));
  dirs.push(d);
  return d;
}
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const NOW = new Date('2026-01-05T12:00:00Z');
const line = (minutesAgo: number, level: number, msg: string, extra: Record<string, unknown> = {}) =>
  JSON.stringify({ level, time: new Date(NOW.getTime() - minutesAgo * 60_000).toISOString(), pid: 42, service: 'ctb', msg, ...extra });

async function waitFor(check: () => boolean, ms = 10_000): Promise<void> {
  const until = Date.now() + ms;
  while (!check()) {
    if (Date.now() > until) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('log check for unhandled errors', () => {
  it('passes on a clean log (info and warnings only)', async () => {
    const dir = logDir();
    writeFileSync(join(dir, 'system.log'), [line(30, 30, 'tick'), line(20, 40, 'slow exchange reply'), line(10, 30, 'filled')].join('\n') + '\n');
    writeFileSync(join(dir, 'anomalies.log'), line(20, 40, 'slow exchange reply') + '\n');
    const result = await scanLogs({ logDir: dir, now: NOW, windowMs: 3_600_000 });
    expect(result).toMatchObject({ ok: true, total: 0, findings: [] });
    expect(result.summary).toBe('no unhandled errors in the last 1h (2 log files read)');
  });

  it('fails on an uncaught exception in the window, naming it once although both files hold it', async () => {
    const dir = logDir();
    const crash = line(5, 60, 'uncaught exception: boom', { event: 'uncaughtException', unhandled: true, err: { type: 'TypeError', message: 'boom' } });
    writeFileSync(join(dir, 'system.log'), [line(6, 30, 'tick'), crash].join('\n') + '\n');
    writeFileSync(join(dir, 'anomalies.log'), crash + '\n');
    const result = await scanLogs({ logDir: dir, now: NOW, windowMs: 3_600_000 });
    expect(result.ok).toBe(false);
    expect(result.total).toBe(1);
    expect(result.findings[0]).toMatchObject({ file: 'system.log', line: 2, kind: 'uncaughtException', error: 'TypeError: boom' });
    expect(result.summary).toMatch(/^1 unhandled error in the last 1h: 2026-01-05T11:55:00.000Z system.log:2 \[uncaughtException\] uncaught exception: boom/);
  });

  it('counts error-level lines and text markers, names the first few in time order and counts the rest', async () => {
    const dir = logDir();
    writeFileSync(join(dir, 'system.log'), [
      line(50, 50, 'job reconcile failed'),
      line(40, 30, 'Unhandled promise rejection in plugin'),
      ...Array.from({ length: 6 }, (_, i) => line(30 - i, 50, `order ${i} failed`)),
    ].join('\n') + '\n');
    const result = await scanLogs({ logDir: dir, now: NOW, windowMs: 3_600_000, limit: 3 });
    expect(result.total).toBe(8);
    expect(result.findings.map((f) => f.msg)).toEqual(['job reconcile failed', 'Unhandled promise rejection in plugin', 'order 0 failed']);
    expect(result.findings[1]?.kind).toBe('unhandledRejection');
    expect(result.summary).toMatch(/; and 5 more$/);
  });

  it('ignores errors older than the window, and a window is configurable', async () => {
    const dir = logDir();
    writeFileSync(join(dir, 'system.log'), [line(180, 60, 'uncaught exception: old', { event: 'uncaughtException' }), line(1, 30, 'fine')].join('\n') + '\n');
    expect((await scanLogs({ logDir: dir, now: NOW, windowMs: 3_600_000 })).ok).toBe(true);
    expect((await scanLogs({ logDir: dir, now: NOW, windowMs: 4 * 3_600_000 })).ok).toBe(false);
  });

  it('reads rotated archives written inside the window and skips older ones', async () => {
    const dir = logDir();
    mkdirSync(join(dir, 'archive'));
    writeFileSync(join(dir, 'system.log'), line(1, 30, 'fine') + '\n');
    const recent = join(dir, 'archive/system-20260105T115000-1.log');
    writeFileSync(recent, line(15, 50, 'exchange down') + '\n');
    utimesSync(recent, new Date(NOW.getTime() - 10 * 60_000), new Date(NOW.getTime() - 10 * 60_000));
    const old = join(dir, 'archive/system-20260101T000000-1.log');
    writeFileSync(old, line(15, 50, 'mislabelled but stale file') + '\n');
    utimesSync(old, new Date('2026-01-01T00:00:00Z'), new Date('2026-01-01T00:00:00Z'));
    const result = await scanLogs({ logDir: dir, now: NOW, windowMs: 3_600_000 });
    expect(result.findings.map((f) => f.file)).toEqual(['archive/system-20260105T115000-1.log']);
  });

  it('survives malformed and non-JSON lines and warns how many and where', async () => {
    const dir = logDir();
    writeFileSync(join(dir, 'system.log'), ['not json', '{"level":50}', '{broken', line(1, 30, 'fine')].join('\n') + '\n');
    const result = await scanLogs({ logDir: dir, now: NOW, windowMs: 3_600_000 });
    expect(result.ok).toBe(true);
    expect(result.files[0]).toMatchObject({ file: 'system.log', lines: 4, malformed: 3, inWindow: 1 });
    expect(result.warnings).toEqual([{ kind: 'unreadable', total: 3, at: ['system.log:1', 'system.log:2', 'system.log:3'] }]);
  });

  it('fails on a plain-text "Uncaught TypeError" line (Node\'s own crash output), with no time to give', async () => {
    const dir = logDir();
    writeFileSync(join(dir, 'system.log'), [
      line(30, 30, 'tick'),
      "Uncaught TypeError: Cannot read properties of undefined (reading 'price')",
      '    at tick (file:///app/dist/engine.js:10:5)',
      line(10, 30, 'restarted'),
    ].join('\n') + '\n');
    const result = await scanLogs({ logDir: dir, now: NOW, windowMs: 3_600_000 });
    expect(result.ok).toBe(false);
    expect(result.findings).toEqual([{ file: 'system.log', line: 2, time: null, level: 0, kind: 'uncaughtException', msg: "Uncaught TypeError: Cannot read properties of undefined (reading 'price')" }]);
    expect(result.summary).toBe("1 unhandled error in the last 1h: (no time) system.log:2 [uncaughtException] Uncaught TypeError: Cannot read properties of undefined (reading 'price')");
    expect(result.warnings).toEqual([{ kind: 'unreadable', total: 1, at: ['system.log:3'] }]);
  });

  it('leaves a line without a time alone when the next timed line is older than the window', async () => {
    const dir = logDir();
    writeFileSync(join(dir, 'system.log'), ['Uncaught TypeError: old', 'garbage', line(180, 30, 'old tick'), line(1, 30, 'fine')].join('\n') + '\n');
    const result = await scanLogs({ logDir: dir, now: NOW, windowMs: 3_600_000 });
    expect(result).toMatchObject({ ok: true, total: 0, warnings: [] });
  });

  it('fails on an uncaught or unhandled marker at any level and in any field; warns on a program error logged below error level', async () => {
    const dir = logDir();
    const typeError = { type: 'TypeError', message: "Cannot read properties of undefined (reading 'qty')" };
    writeFileSync(join(dir, 'system.log'), [
      line(20, 40, 'tick failed', { err: typeError }),
      line(15, 40, 'kraken poll failed', { err: { type: 'TypeError', message: 'fetch failed' } }),
      line(10, 30, 'listener failed', { err: { type: 'Error', message: 'x', stack: 'UnhandledPromiseRejection: x\n    at y' } }),
    ].join('\n') + '\n');
    const result = await scanLogs({ logDir: dir, now: NOW, windowMs: 3_600_000 });
    expect(result.ok).toBe(false);
    expect(result.findings).toMatchObject([{ line: 3, kind: 'unhandledRejection', msg: 'listener failed' }]);
    // Node's fetch says a network failure as "TypeError: fetch failed": not a bug in the program.
    expect(result.warnings).toEqual([{ kind: 'program_error', total: 1, at: ['system.log:1'] }]);
  });
});

describe('crash handlers', () => {
  it('log an uncaught exception with its marker to LOG_DIR, which the log check then finds', async () => {
    const dir = logDir();
    const logger = createLogger({ config: testConfig({ LOG_DIR: dir, LOG_LEVEL: 'info' }), stdout: false });
    const emitter = new EventEmitter();
    const proc = emitter as unknown as NodeJS.Process;
    const fatal: string[] = [];
    const uninstall = installCrashHandlers({ logger, proc, onFatal: (e) => void fatal.push(e) });
    emitter.emit('uncaughtException', new TypeError('cannot read price of undefined'), 'uncaughtException');
    emitter.emit('unhandledRejection', { code: 'EWHATEVER' });
    await waitFor(() => existsSync(join(dir, 'system.log')) && readFileSync(join(dir, 'system.log'), 'utf8').split('\n').length > 2);
    uninstall();
    expect(fatal).toEqual(['uncaughtException']);
    const [first, second] = readFileSync(join(dir, 'system.log'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(first).toMatchObject({ level: 60, event: 'uncaughtException', unhandled: true, err: { type: 'TypeError', message: 'cannot read price of undefined' } });
    expect(second).toMatchObject({ level: 50, event: 'unhandledRejection', unhandled: true, msg: 'unhandled rejection: non-Error rejection: {"code":"EWHATEVER"} (the process keeps running)' });
    const result = await scanLogs({ logDir: dir, now: new Date(Date.now() + 1000), windowMs: 60_000 });
    expect(result.ok).toBe(false);
    expect(result.findings.map((f) => f.kind)).toEqual(['uncaughtException', 'unhandledRejection']);
  });

  it('are removed again by the returned function', () => {
    const proc = new EventEmitter();
    const uninstall = installCrashHandlers({ logger: createLogger({ config: testConfig(), stdout: false, files: false }), proc: proc as unknown as NodeJS.Process, onFatal: () => {} });
    expect(proc.listenerCount('uncaughtException')).toBe(1);
    uninstall();
    expect(proc.listenerCount('uncaughtException') + proc.listenerCount('unhandledRejection')).toBe(0);
  });
});
