// One handler for errors nobody caught: an unhandled rejection is logged, raised as an alert and the
// process keeps serving; an uncaught exception still stops the bot (its state cannot be trusted).
import { EventEmitter } from 'node:events';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { installCrashHandlers } from '../../src/app/crash-handlers.js';
import type { AlertInput, AlertSink } from '../../src/alerts/types.js';
import { testConfig } from '../../src/config/env.js';
import { createLogger } from '../../src/logger.js';

function setup(withSink = true) {
  const lines: Array<Record<string, unknown>> = [];
  const destination = new Writable({
    write(chunk, _enc, cb) {
      for (const l of String(chunk).split('\n')) if (l.trim()) lines.push(JSON.parse(l) as Record<string, unknown>);
      cb();
    },
  });
  const logger = createLogger({ config: testConfig(), stdout: false, files: false, destination, destinationLevel: 'info' });
  const raised: AlertInput[] = [];
  const sink: AlertSink = { raise: async (a) => void raised.push(a) };
  const proc = new EventEmitter();
  const fatal: string[] = [];
  const uninstall = installCrashHandlers({ logger, proc: proc as unknown as NodeJS.Process, onFatal: (e) => void fatal.push(e), ...(withSink ? { alerts: () => sink } : {}) });
  return { lines, raised, proc, fatal, uninstall };
}

const settle = () => new Promise((r) => setTimeout(r, 20));

describe('crash handlers', () => {
  it('an unhandled rejection is logged with its marker, raised as one alert, and the process keeps running', async () => {
    const t = setup();
    t.proc.emit('unhandledRejection', new TypeError("Cannot read properties of null (reading 'ssl_check')"));
    await settle();
    expect(t.fatal).toEqual([]);
    expect(t.lines.find((l) => l.event === 'unhandledRejection')).toMatchObject({ level: 50, unhandled: true, alerted: true });
    expect(t.raised).toEqual([expect.objectContaining({
      source: 'system', severity: 'warning', title: expect.stringContaining("Cannot read properties of null (reading 'ssl_check')"),
    })]);
    // Two more of the same keep the process up and group under one fingerprint.
    t.proc.emit('unhandledRejection', new TypeError("Cannot read properties of null (reading 'ssl_check')"));
    await settle();
    expect(t.fatal).toEqual([]);
    expect(new Set(t.raised.map((a) => a.fingerprint)).size).toBe(1);
    t.uninstall();
  });

  it('before the bot has an alert sink, the rejection is still logged (unmarked, so the log-line source raises it later) and nothing exits', async () => {
    const t = setup(false);
    t.proc.emit('unhandledRejection', 'plain string reason');
    await settle();
    expect(t.fatal).toEqual([]);
    expect(t.lines.find((l) => l.event === 'unhandledRejection')).not.toHaveProperty('alerted');
    t.uninstall();
  });

  it('an uncaught exception stops the bot once (onFatal), whatever follows', async () => {
    const t = setup();
    t.proc.emit('uncaughtException', new Error('half-updated state'), 'uncaughtException');
    t.proc.emit('uncaughtException', new Error('again'), 'uncaughtException');
    await settle();
    expect(t.fatal).toEqual(['uncaughtException']);
    expect(t.lines.filter((l) => l.event === 'uncaughtException').map((l) => l.level)).toEqual([60, 60]);
    t.uninstall();
  });
});
