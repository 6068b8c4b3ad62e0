import { describe, expect, it } from 'vitest';
import { adapterFor, control, privateCall, startSimulator } from '../../support/simulator.js';

const marketBuy = (clientOrderId: string) => ({ clientOrderId, symbol: 'BTC/USD', side: 'buy' as const, type: 'market' as const, quantity: '0.01' });

async function raw(url: string): Promise<{ status: number; type: string | null; text: string }> {
  const res = await fetch(url);
  return { status: res.status, type: res.headers.get('content-type'), text: await res.text() };
}

describe('faults injected into the simulator', () => {
  it('delays an answer (latency), which the adapter sees as a timeout', async () => {
    const sim = await startSimulator();
    await control(sim, 'POST', 'faults', { endpoint: 'Time', kind: 'latency', ms: 150 });
    const started = Date.now();
    await raw(`${sim.url}/0/public/Time`);
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
    const kraken = adapterFor(sim, { timeoutMs: 1500 }); // room for a loaded machine; the delay is well past it
    await kraken.loadMarkets();
    await control(sim, 'POST', 'faults', { endpoint: 'BalanceEx', kind: 'latency', ms: 4000 });
    await expect(kraken.fetchBalances()).rejects.toMatchObject({ kind: 'retryable', code: 'timeout' });
  });

  it('answers an HTTP 5xx with an HTML body like Cloudflare\'s, which the adapter treats as unavailable', async () => {
    const sim = await startSimulator();
    await control(sim, 'POST', 'faults', { endpoint: 'SystemStatus', kind: 'http_5xx', times: 2 });
    const res = await raw(`${sim.url}/0/public/SystemStatus`);
    expect([res.status, res.type]).toEqual([502, 'text/html']);
    expect(res.text).toContain('<center>cloudflare</center>');
    await expect(adapterFor(sim).fetchSystemStatus()).rejects.toMatchObject({ kind: 'retryable', code: 'exchange_unavailable' });
    expect(await adapterFor(sim).fetchSystemStatus()).toBe('online'); // two hits, then normal
  });

  it('garbles a body: truncated JSON, or an empty 200', async () => {
    const sim = await startSimulator();
    await control(sim, 'POST', 'faults', [{ endpoint: 'Time', kind: 'truncated' }, { endpoint: 'Time', kind: 'empty' }]);
    const truncated = await raw(`${sim.url}/0/public/Time`);
    expect(truncated.status).toBe(200);
    expect(() => JSON.parse(truncated.text)).toThrow();
    expect(truncated.text.startsWith('{"error":[]')).toBe(true);
    expect(await raw(`${sim.url}/0/public/Time`)).toMatchObject({ status: 200, text: '' });
    expect(JSON.parse((await raw(`${sim.url}/0/public/Time`)).text).error).toEqual([]);
  });

  it('drops the socket (reset), which the adapter sees as a network error', async () => {
    const sim = await startSimulator();
    await control(sim, 'POST', 'faults', { endpoint: 'Time', kind: 'reset' });
    await expect(fetch(`${sim.url}/0/public/Time`)).rejects.toThrow();
    await control(sim, 'POST', 'faults', { endpoint: 'BalanceEx', kind: 'reset' });
    const kraken = adapterFor(sim);
    await kraken.loadMarkets();
    await expect(kraken.fetchBalances()).rejects.toMatchObject({ kind: 'retryable', code: 'network' });
  });

  it('answers Kraken errors: EAPI:Invalid nonce, EService:Unavailable, EService:Busy — without processing the call', async () => {
    const sim = await startSimulator();
    const kraken = adapterFor(sim);
    await kraken.loadMarkets();
    await control(sim, 'POST', 'faults', [
      // Sent three times (a refused nonce is sent again with a fresh one, twice): refused each time.
      { endpoint: 'AddOrder', kind: 'error', message: 'EAPI:Invalid nonce', times: 3 },
      { endpoint: 'AddOrder', kind: 'error', message: 'EService:Unavailable' },
      { endpoint: 'AddOrder', kind: 'error', message: 'EService:Busy' },
    ]);
    await expect(kraken.createOrder(marketBuy('c-1'))).rejects.toMatchObject({ kind: 'retryable', code: 'invalid_nonce' });
    // Kraken documents EService:Unavailable as its matching engine or API being offline: nothing placed.
    await expect(kraken.createOrder(marketBuy('c-2'))).rejects.toMatchObject({ kind: 'rejected', code: 'exchange_unavailable', exchangeCode: 'EService:Unavailable' });
    await expect(kraken.createOrder(marketBuy('c-3'))).rejects.toMatchObject({ kind: 'retryable', code: 'exchange_unavailable', exchangeCode: 'EService:Busy' });
    expect(sim.state.orders.size).toBe(0);
  });

  it.each([
    ['truncated JSON', { kind: 'truncated' }],
    ['an empty 200', { kind: 'empty' }],
    ['a dropped connection', { kind: 'reset' }],
    ['an HTML 502', { kind: 'http_5xx' }],
    ['EService:Busy', { kind: 'error', message: 'EService:Busy' }],
  ])('places the order, then answers %s: the order exists on the exchange though the client could not read the answer', async (_name, fault) => {
    const sim = await startSimulator();
    const kraken = adapterFor(sim);
    await kraken.loadMarkets();
    await control(sim, 'POST', 'faults', { endpoint: 'AddOrder', after: true, ...fault });
    await kraken.createOrder(marketBuy('placed-1')).catch(() => undefined); // what the client makes of it is the bot's business
    expect([...sim.state.orders.values()].map((o) => [o.cl_ord_id, o.status])).toEqual([['placed-1', 'closed']]);
    expect(sim.state.trades).toHaveLength(1);
    expect(await kraken.fetchOrderByClientId('placed-1', 'BTC/USD')).toMatchObject({ status: 'closed', filledQuantity: '0.01' });
  });

  it('places the order and answers after the client gave up (latency after processing)', async () => {
    const sim = await startSimulator();
    const kraken = adapterFor(sim, { timeoutMs: 1500 });
    await kraken.loadMarkets();
    await control(sim, 'POST', 'faults', { endpoint: 'AddOrder', kind: 'latency', ms: 4000, after: true });
    await expect(kraken.createOrder(marketBuy('slow-1'))).rejects.toMatchObject({ code: 'timeout' });
    expect([...sim.state.orders.values()].map((o) => o.cl_ord_id)).toEqual(['slow-1']);
  });

  it('hits with a probability, repeatably under a seed', async () => {
    const hits = async () => {
      const sim = await startSimulator({ seed: 7 });
      await control(sim, 'POST', 'faults', { endpoint: 'Time', kind: 'error', message: 'EService:Busy', probability: 0.5 });
      const out: boolean[] = [];
      for (let i = 0; i < 40; i++) out.push(JSON.parse((await raw(`${sim.url}/0/public/Time`)).text).error.length > 0);
      return out;
    };
    const first = await hits();
    expect(first.filter(Boolean).length).toBeGreaterThan(5);
    expect(first.filter(Boolean).length).toBeLessThan(35);
    expect(await hits()).toEqual(first);
  });

  it('lists and clears faults, and names a bad fault', async () => {
    const sim = await startSimulator();
    await control(sim, 'POST', 'faults', { endpoint: '*', kind: 'error', message: 'EService:Unavailable', times: 3 });
    expect((await control(sim, 'GET', 'faults')).json.faults).toEqual([expect.objectContaining({ endpoint: '*', kind: 'error', left: 3 })]);
    expect((await control(sim, 'DELETE', 'faults')).json).toEqual({ cleared: 1 });
    expect((await privateCall(sim, 'BalanceEx')).body.error).toEqual([]);
    const bad = await control(sim, 'POST', 'faults', { endpoint: 'AddOrder', kind: 'error' });
    expect(bad.status).toBe(400);
    expect(bad.json.error).toMatch(/message/);
    const badKind = await control(sim, 'POST', 'faults', { endpoint: 'AddOrder', kind: 'meteor' });
    expect(badKind.status).toBe(400);
    expect(badKind.json.error).toMatch(/kind/);
  });

  it('refuses a fault for an endpoint it does not serve (a misspelling would never hit), listing the valid names', async () => {
    const sim = await startSimulator();
    const typo = await control(sim, 'POST', 'faults', { endpoint: 'AddOrdr', kind: 'reset' });
    expect(typo.status).toBe(400);
    expect(typo.json.error).toMatch(/unknown endpoint "AddOrdr" \(did you mean AddOrder\?\); expected one of: \*, Time, .*OHLC, BalanceEx, .*AddOrder, CancelOrder, CancelAll, CancelAllOrdersAfter/);
    const inList = await control(sim, 'POST', 'faults', [{ endpoint: 'OpenOrders', kind: 'reset' }, { endpoint: 'Nope', kind: 'reset' }]);
    expect(inList.status).toBe(400);
    expect((await control(sim, 'GET', 'faults')).json.faults).toEqual([]);
  });

  it('is not reachable through Kraken\'s paths: /0/private/_sim and friends are unknown methods', async () => {
    const sim = await startSimulator();
    expect((await privateCall(sim, '_sim')).status).toBe(404);
    const res = await raw(`${sim.url}/0/public/_sim/state`);
    expect([res.status, JSON.parse(res.text)]).toEqual([404, { error: ['EGeneral:Unknown method'] }]);
  });
});
