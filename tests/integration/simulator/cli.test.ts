import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { testConfig } from '../../../src/config/env.js';
import { KrakenExchange } from '../../../src/exchange/kraken/kraken-exchange.js';
import { runCli } from '../../../src/cli/program.js';
import { silentLogger } from '../../../src/logger.js';

const BIN = fileURLToPath(new URL('../../../bin/ctb.js', import.meta.url));
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

const ctb = (args: string[]) => spawnSync(process.execPath, [BIN, ...args], { cwd: ROOT, encoding: 'utf8', timeout: 100_000 });

let child: ChildProcess | undefined;
afterEach(() => {
  if (child && child.exitCode === null) child.kill('SIGKILL');
  child = undefined;
});

/** Starts `ctb simulate-kraken` and waits for its environment lines. */
async function startCli(args: string[]): Promise<{ env: Record<string, string>; stdout: () => string; stderr: () => string; exited: Promise<number | null> }> {
  const proc = spawn(process.execPath, [BIN, 'simulate-kraken', ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  child = proc;
  let out = '';
  let err = '';
  proc.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  proc.stderr!.on('data', (c: Buffer) => (err += c.toString()));
  const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
  const started = Date.now();
  while (!out.includes('MARKET_FEED=kraken')) {
    if (proc.exitCode !== null || Date.now() - started > 100_000) throw new Error(`the simulator did not start:\n${out}\n${err}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  const env = Object.fromEntries(out.split('\n').filter((l) => /^[A-Z_]+=/.test(l)).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
  return { env, stdout: () => out, stderr: () => err, exited };
}

// Each run of the binary compiles the CLI through tsx: 10–30 s on a loaded two-core machine.
const SLOW = 120_000;

describe('ctb simulate-kraken', () => {
  it('documents itself: the env lines, the control API, the WebSocket executions channel and its faults', () => {
    const run = ctb(['simulate-kraken', '--help']);
    expect(run.status).toBe(0);
    expect(run.stdout).toContain('KRAKEN_API_URL=http://127.0.0.1:PORT');
    expect(run.stdout).toContain('POST   /_sim/faults');
    expect(run.stdout).toContain('ws://127.0.0.1:PORT/v2');
    expect(run.stdout).toContain('POST   /_sim/ws');
    expect(run.stdout).toContain('--rate-limits <on|off>');
  }, SLOW);

  it('refuses a bad flag with a message naming it, exit 2 (the binary)', () => {
    const run = ctb(['simulate-kraken', '--pace', 'fast']);
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/--pace: expected candles per second from 0 to 1000/);
    expect(run.stdout).not.toContain('KRAKEN_API_SECRET=');
  }, SLOW);

  it('says a bad flag the way every usage error is said: error:, what is wrong, where to read the usage', async () => {
    const out: string[] = [];
    const err: string[] = [];
    const code = await runCli(['simulate-kraken', '--port', 'abc'], { env: {}, cwd: ROOT, stdout: { write: (t: string) => out.push(t) }, stderr: { write: (t: string) => err.push(t) } });
    expect(code).toBe(2);
    expect(err.join('')).toBe('error: --port: expected a port from 1 to 65535 (0: any free port), got "abc"\n(run ctb simulate-kraken --help for its usage and options)\n');
    expect(out.join('')).toBe('');
  });

  it.each([
    [['--port', '99999'], /--port: expected a port/],
    [['--balances', 'DOGE=5'], /--balances: unknown asset "DOGE"/],
    [['--api-key', 'abcdefgh12345678'], /--api-key and --secret go together/],
    [['--fees', 'maker=abc'], /--fees: maker: expected a percentage/],
    [['--rate-limits', 'maybe'], /--rate-limits: expected on or off/],
    [['--tier', 'gold'], /--tier: expected starter, intermediate, pro/],
    [['--price', 'BTC/EUR=1'], /--price: unknown pair "BTC\/EUR"/],
  ])('refuses %j with a message naming the flag (exit 2)', async (args, message) => {
    const out: string[] = [];
    const err: string[] = [];
    const code = await runCli(['simulate-kraken', ...args], { env: {}, cwd: ROOT, stdout: { write: (t: string) => out.push(t) }, stderr: { write: (t: string) => err.push(t) } });
    expect(code).toBe(2);
    expect(err.join('')).toMatch(message);
    expect(out.join('')).not.toContain('KRAKEN_API_SECRET=');
  });

  it('starts on 127.0.0.1, prints the bot\'s environment (the secret only there), serves the adapter, and stops on SIGTERM', async () => {
    const sim = await startCli(['--port', '0', '--pace', '0', '--history', '10', '--balances', 'USD=2500,BTC=0.25']);
    expect(sim.env['KRAKEN_API_URL']).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(sim.env['KRAKEN_API_KEY']).toMatch(/^SIM/);
    // The feed's poll fitted to the pace (here candles close only when told: polled every second).
    expect(sim.env['MARKET_POLL_INTERVAL']).toBe('1s');
    const secret = sim.env['KRAKEN_API_SECRET']!;
    expect(Buffer.from(secret, 'base64').length).toBe(64);
    expect(sim.stdout().split(secret).length - 1).toBe(1); // printed once, in its env line
    const config = testConfig({ KRAKEN_API_URL: sim.env['KRAKEN_API_URL'], KRAKEN_API_KEY: sim.env['KRAKEN_API_KEY'], KRAKEN_API_SECRET: secret });
    const kraken = new KrakenExchange(config, { logger: silentLogger(), armed: true, enableRateLimit: false });
    expect(await kraken.fetchBalances()).toEqual(expect.arrayContaining([{ asset: 'USD', total: '2500', used: '0', free: '2500' }, { asset: 'BTC', total: '0.25', used: '0', free: '0.25' }]));
    await kraken.createOrder({ clientOrderId: 'cli-1', symbol: 'BTC/USD', side: 'sell', type: 'market', quantity: '0.01' });
    const state = (await (await fetch(`${sim.env['KRAKEN_API_URL']}/_sim/state`)).json()) as { trades: number; orders: { total: number } };
    expect(state).toMatchObject({ trades: 1, orders: { total: 1 } });
    child!.kill('SIGTERM');
    expect(await sim.exited).toBe(0);
    expect(sim.stderr()).not.toContain(secret);
    expect(sim.stdout()).toContain('simulator stopped');
  }, SLOW);
});
