// A deferred logger (the CLI's: pino is made when a line is first written) writes what an eager
// one writes: the same lines to the same destinations and files, its children's bindings, the
// error-line tap, redaction and level changes; and its files exist from the start either way. A
// child made on first use (a Slack request's logger) writes what the parent's child() writes, and
// is not made while nothing is written.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { testConfig } from '../../../src/config/env.js';
import { childOnFirstUse, createLogger, errorLineTap, type Logger } from '../../../src/logger.js';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function sink() {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      chunks.push(String(chunk));
      done();
    },
  });
  return { stream, lines: () => chunks.join('').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>) };
}

async function eventually(done: () => boolean): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!done() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
}

/** Writes the same entries through a logger made eager or deferred; returns what reached each place. */
async function run(deferred: boolean) {
  const dir = mkdtempSync(join(tmpdir(), `ctb-deferred-${deferred}-`));
  dirs.push(dir);
  const out = sink();
  const logger: Logger = createLogger({
    config: testConfig({ LOG_DIR: dir, LOG_LEVEL: 'info' }), stdout: false, destination: out.stream, destinationLevel: 'warn', deferred,
  });
  // Nothing written yet: the files are opened all the same.
  const opened = () => ['system.log', 'anomalies.log'].filter((f) => existsSync(join(dir, f)));
  await eventually(() => opened().length === 2);
  const filesAtStart = opened();
  const tapped: string[] = [];
  const detach = errorLineTap(logger)!.attach((line) => tapped.push(line));
  // A child made before anything is written, as the alert sink makes its own at start.
  const child = logger.child({ alertPipeline: true });
  logger.info({ n: 1 }, 'first');
  child.warn({ token: 'xoxb-0123456789-abcdef' }, 'from the child');
  logger.level = 'warn';
  logger.info('dropped: below the new level');
  logger.error({ err: new Error('boom') }, 'failed');
  detach();
  const strip = (l: Record<string, unknown>) => {
    const { time: _time, pid: _pid, hostname: _hostname, ...rest } = l;
    if (rest.err) rest.err = { ...(rest.err as Record<string, unknown>), stack: undefined };
    return rest;
  };
  await eventually(() => readFileSync(join(dir, 'system.log'), 'utf8').split('\n').filter(Boolean).length === 3);
  const file = (f: string) => readFileSync(join(dir, f), 'utf8').split('\n').filter(Boolean).map((l) => strip(JSON.parse(l) as Record<string, unknown>));
  return {
    filesAtStart,
    destination: out.lines().map(strip),
    system: file('system.log'),
    anomalies: file('anomalies.log'),
    tapped: tapped.map((l) => strip(JSON.parse(l) as Record<string, unknown>)),
    level: logger.level,
  };
}

describe('a deferred logger', () => {
  it('writes what an eager logger writes, everywhere, and opens its files at the start all the same', async () => {
    const eager = await run(false);
    const deferred = await run(true);
    expect(deferred).toEqual(eager);
    // Control: the comparison saw real lines (the child's bindings, the redacted token, the level change).
    expect(eager.filesAtStart).toEqual(['system.log', 'anomalies.log']);
    expect(eager.system.map((l) => l.msg)).toEqual(['first', 'from the child', 'failed']);
    expect(eager.destination.map((l) => l.msg)).toEqual(['from the child', 'failed']);
    expect(eager.anomalies[0]).toMatchObject({ alertPipeline: true, token: '[redacted]' });
    expect(eager.tapped.map((l) => l.msg)).toEqual(['failed']);
    expect(eager.level).toBe('warn');
  });
});

describe('a child made on first use', () => {
  it('writes what the parent\'s child writes (bindings, redaction), and calls child() only once a line is written', async () => {
    const out = sink();
    const parent: Logger = createLogger({ config: testConfig({ LOG_LEVEL: 'info' }), stdout: false, files: false, destination: out.stream, destinationLevel: 'info' });
    const made: unknown[] = [];
    const child = parent.child.bind(parent);
    parent.child = ((bindings: Record<string, unknown>) => (made.push(bindings), child(bindings))) as Logger['child'];
    const lazy = childOnFirstUse(parent, { slackUser: 'U1', delivery: 'command:t1' });
    // Handed around in contexts as a request's logger is ({ ...ctx, logger }): nothing made yet.
    const ctx = { ...{ service: 'ctb' }, logger: lazy };
    const copy = { ...ctx };
    expect(made).toEqual([]);
    copy.logger.warn({ token: 'xoxb-0123456789-abcdef' }, 'from the request');
    parent.child({ slackUser: 'U2' }).warn('eager');
    expect(made).toEqual([{ slackUser: 'U1', delivery: 'command:t1' }, { slackUser: 'U2' }]);
    await eventually(() => out.lines().length === 2);
    expect(out.lines()).toMatchObject([
      { slackUser: 'U1', delivery: 'command:t1', token: '[redacted]', msg: 'from the request' },
      { slackUser: 'U2', msg: 'eager' },
    ]);
    expect(lazy.level).toBe('info');
  });
});
