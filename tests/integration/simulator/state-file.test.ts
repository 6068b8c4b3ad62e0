import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { KrakenSimulator } from '../../../src/simulator/simulator.js';
import { TEST_API_SECRET } from '../../support/kraken-test-keys.js';
import { adapterFor, closeSimulators, nextNonce, privateCall, startSimulator } from '../../support/simulator.js';

const dirs: string[] = [];
afterEach(async () => {
  await closeSimulators(); // they save on close: before their directory goes
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
const stateFile = () => {
  const dir = mkdtempSync(join(tmpdir(), 'ctb-sim-'));
  dirs.push(dir);
  return join(dir, 'sim.json');
};

describe("the simulator's --state-file", () => {
  it("keeps orders, fills, balances, nonces and the market across the simulator's own restart", async () => {
    const file = stateFile();
    const first = await startSimulator({ stateFile: file });
    const kraken = adapterFor(first);
    const resting = await kraken.createOrder({ clientOrderId: 'keep-1', symbol: 'BTC/USD', side: 'buy', type: 'limit', quantity: '0.01', limitPrice: '40000.0' });
    await kraken.createOrder({ clientOrderId: 'keep-2', symbol: 'BTC/USD', side: 'buy', type: 'market', quantity: '0.01' });
    first.setPrice('BTC/USD', '52000');
    const usedNonce = nextNonce();
    expect((await privateCall(first, 'BalanceEx', {}, { nonce: usedNonce })).body.error).toEqual([]);
    const balances = { ...first.state.balances };
    await first.close();
    expect(statSync(file).mode & 0o777).toBe(0o600);

    const second = await startSimulator({ stateFile: file });
    expect(second.state.balances).toEqual(balances);
    expect(second.state.orders.get(resting.exchangeOrderId)).toMatchObject({ status: 'open', cl_ord_id: 'keep-1' });
    expect(second.state.trades).toHaveLength(1);
    expect(second.state.tickers['XXBTZUSD']).toBe('52000.0');
    expect((await privateCall(second, 'BalanceEx', {}, { nonce: usedNonce })).body.error).toEqual(['EAPI:Invalid nonce']);
    expect(await adapterFor(second).fetchOrderByClientId('keep-2', 'BTC/USD')).toMatchObject({ status: 'closed' });
  });

  it('does not write a secret given on the command line, and keeps a generated one so the bot\'s environment stays valid', async () => {
    const given = stateFile();
    const sim = await startSimulator({ stateFile: given });
    await sim.close();
    expect(readFileSync(given, 'utf8')).not.toContain(TEST_API_SECRET);
    const generated = stateFile();
    const sim2 = new KrakenSimulator({ apiKey: 'SIMgeneratedkey123', secret: TEST_API_SECRET, stateFile: generated, keepKeysInStateFile: true });
    await sim2.close();
    expect(JSON.parse(readFileSync(generated, 'utf8')).keys).toEqual({ apiKey: 'SIMgeneratedkey123', secret: TEST_API_SECRET });
  });

  it('refuses a damaged state file with its name and what to do', async () => {
    const file = stateFile();
    writeFileSync(file, '{"version":1,"balances":');
    let thrown: unknown;
    try {
      new KrakenSimulator({ stateFile: file });
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toMatchObject({ kind: 'config', message: expect.stringMatching(/state file .*sim\.json cannot be read/), hint: expect.stringMatching(/delete this one/) });
  });
});
