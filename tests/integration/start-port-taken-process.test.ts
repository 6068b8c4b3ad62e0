// A second real `ctb start` (the shipped binary, its own process) where the first already runs: on the
// same DATA_DIR and the same PORT — the demo started twice — it is refused for the directory, naming the
// running bot (the more useful of its two conflicts); on a DATA_DIR of its own but the first's PORT, for
// the port, before it opens a database. Either way: one error line (exit 1 for the directory in use, a state;
// exit 2 for the PORT setting), and the first keeps serving
// (/healthz answers, its engine lease untouched). start-port-taken.test.ts holds the port refusal in-process.
import { mkdtempSync, rmSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startBotProcess, type BotProcess } from '../support/bot-process.js';
import { freePort } from '../support/free-port.js';

// One first bot serves both tests (each second start is refused before it opens anything, so the first
// is as it was): started once, and stopped gracefully (exit 0) after both.
const seconds: BotProcess[] = [];
afterEach(() => {
  for (const bot of seconds.splice(0)) bot.kill('SIGKILL');
});

let dir: string;
let port: number;
let firstEnv: Record<string, string>;
let first: BotProcess;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ctb-port-taken-'));
  port = await freePort();
  firstEnv = env('first', port);
  first = startBotProcess(['start', '--feed', 'replay'], firstEnv, dir);
  await first.waitFor(/engine lease taken/, 120_000);
}, 150_000);
afterAll(async () => {
  try {
    first?.kill('SIGTERM');
    if (first) expect(await first.exited).toBe(0);
  } finally {
    first?.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
}, 60_000);

function env(name: string, port: number): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '', HOME: dir, MARKET_FEED: 'replay', PORT: String(port), HOST: '127.0.0.1',
    DATA_DIR: join(dir, name, 'data'), LOG_DIR: join(dir, name, 'logs'), LOG_LEVEL: 'info', LOG_FORMAT: 'json',
  };
}

function second(e: Record<string, string>): BotProcess {
  const b = startBotProcess(['start', '--feed', 'replay'], e, dir);
  seconds.push(b);
  return b;
}

async function health(port: number): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`http://127.0.0.1:${port}/healthz`);
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

const portRefusal = (port: number) =>
  `error: port ${port} on 127.0.0.1 is already in use (another ctb start, such as the demo, or another server); set PORT to a free port (e.g. PORT=3001) and start again.`;

/** The second bot's output: its first line (configuration read) at most, then the one error line. */
function refusalOf(b: BotProcess): string {
  const lines = b.output().trim().split('\n');
  expect(lines.length, b.output()).toBeLessThanOrEqual(2);
  if (lines.length === 2) expect(JSON.parse(lines[0]!)).toMatchObject({ event: 'starting' });
  expect(b.output()).not.toMatch(/database ready|ctb running on port|engine lease taken/);
  return lines.at(-1)!;
}

describe('a second ctb start (child process) while the first runs', () => {
  it('on the same DATA_DIR and the same PORT: exit 1 (the running bot is a state that refuses it) with one line naming the running bot and what to do; the first keeps serving', async () => {
    const before = await health(port);
    expect(before.status).toBe(200);

    const refused = second(firstEnv);
    expect(await refused.exited).toBe(1);
    expect(refusalOf(refused)).toMatch(new RegExp(`^error: DATA_DIR ${firstEnv.DATA_DIR} is already in use by pid ${first.pid} on host ${hostname()} \\(ctb start --role all\\) since 20.*: one bot per embedded database\\. Stop that bot first`));

    expect(first.proc.exitCode).toBeNull();
    const after = await health(port);
    expect(after.status).toBe(200);
    expect(after.body['engine']).toMatchObject({ pid: first.pid });
  }, 240_000);

  it('on its own DATA_DIR but the first one\'s PORT: the same refusal before it opens its database; the first keeps serving', async () => {
    const refused = second(env('b', port));
    expect(await refused.exited).toBe(2);
    expect(refusalOf(refused)).toBe(portRefusal(port));

    expect(first.proc.exitCode).toBeNull();
    const after = await health(port);
    expect(after.status).toBe(200);
    expect(after.body['engine']).toMatchObject({ pid: first.pid });
  }, 240_000);
});
