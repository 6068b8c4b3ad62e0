// Test helpers for the Kraken simulator: start one in-process (loopback, any port), build the
// project's real KrakenExchange adapter (ccxt) against it, and send raw signed private calls for
// what the adapter does not call yet.
import { onTestFinished } from 'vitest';
import { testConfig } from '../../src/config/env.js';
import { KrakenExchange } from '../../src/exchange/kraken/kraken-exchange.js';
import { nextNonce as krakenNonce } from '../../src/exchange/kraken/nonce.js';
import { silentLogger } from '../../src/logger.js';
import { krakenSignature } from '../../src/simulator/auth.js';
import { KrakenSimulator, type SimulatorOptions } from '../../src/simulator/simulator.js';
import { TEST_API_KEY, TEST_API_SECRET } from './kraken-test-keys.js';

const running: KrakenSimulator[] = [];

/** Closes every simulator this file started (also done when the test that started one ends). */
export async function closeSimulators(): Promise<void> {
  await Promise.all(running.splice(0).map((s) => s.close()));
}

/**
 * A simulator with the test key pair, a fixed BTC price of 50,000 and no pace; closed when the test
 * that started it ends. (A hook registered by the test, not by this module at import: a module is
 * imported once per process, and processes run many test files.)
 */
export async function startSimulator(opts: SimulatorOptions = {}): Promise<KrakenSimulator> {
  const sim = await KrakenSimulator.start({
    apiKey: TEST_API_KEY, secret: TEST_API_SECRET, fixedPrices: { XXBTZUSD: '50000.0' }, pace: 0, historyCandles: 5, ...opts,
  });
  running.push(sim);
  onTestFinished(closeSimulators);
  return sim;
}

/** The project's Kraken adapter (ccxt's kraken client) pointed at the simulator. */
export function adapterFor(sim: KrakenSimulator, opts: { armed?: boolean; timeoutMs?: number; key?: string; secret?: string } = {}): KrakenExchange {
  const config = testConfig({ KRAKEN_API_KEY: opts.key ?? TEST_API_KEY, KRAKEN_API_SECRET: opts.secret ?? TEST_API_SECRET, KRAKEN_API_URL: sim.url });
  return new KrakenExchange(config, {
    logger: silentLogger(), armed: opts.armed ?? true, enableRateLimit: false, ...(opts.timeoutMs !== undefined ? { timeoutMs: opts.timeoutMs } : {}),
  });
}

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * A nonce from the same counter the bot's Kraken client uses in this process (milliseconds, one more
 * than the last when the clock has not moved): a test's call and the adapter's share a key, and a
 * counter of its own could fall behind the adapter's after a burst of calls (Kraken: invalid nonce).
 */
export function nextNonce(): string {
  return String(krakenNonce());
}

/** A private call signed like Kraken asks: returns the HTTP status and the parsed body. */
export async function privateCall(
  sim: KrakenSimulator,
  endpoint: string,
  params: Record<string, string> = {},
  opts: { nonce?: string; key?: string; secret?: string } = {},
): Promise<{ status: number; body: { error: string[]; result?: any } }> {
  const path = `/0/private/${endpoint}`;
  // ccxt's nonces are milliseconds too: 2 ms either side keeps the adapter's and ours increasing.
  await pause(2);
  const nonce = opts.nonce ?? nextNonce();
  const body = new URLSearchParams({ nonce, ...params }).toString();
  const sign = krakenSignature(path, nonce, body, opts.secret ?? TEST_API_SECRET);
  const res = await fetch(`${sim.url}${path}`, {
    method: 'POST', headers: { 'API-Key': opts.key ?? TEST_API_KEY, 'API-Sign': sign, 'content-type': 'application/x-www-form-urlencoded' }, body,
  });
  const text = await res.text();
  await pause(2);
  return { status: res.status, body: JSON.parse(text) as { error: string[]; result?: any } };
}

/** Another program's quick private reads with the key, until Kraken refuses one: the key's call counter is full. */
export async function fillRateCounter(sim: KrakenSimulator): Promise<void> {
  for (let i = 0; i < 20; i++) {
    const r = await privateCall(sim, 'Balance');
    if (r.body.error.includes('EAPI:Rate limit exceeded')) return;
  }
  throw new Error('the rate counter never filled');
}

/** A control API call (JSON). */
export async function control(sim: KrakenSimulator, method: string, route: string, body?: unknown): Promise<{ status: number; json: any }> {
  const res = await fetch(`${sim.url}/_sim/${route}`, {
    method, headers: { 'content-type': 'application/json' }, ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  return { status: res.status, json: await res.json() };
}
