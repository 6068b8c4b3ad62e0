// The simulator's WebSocket v2 executions channel, spoken to as Kraken's is: a token from
// GetWebSocketsToken is required (one it did not issue is refused), the subscription answers with a
// snapshot of open orders and the last trades, every order event and fill is an update in Kraken's
// format (exec_id = the trade id TradesHistory lists), a heartbeat comes every second, ping gets pong,
// and the control API drops sockets (refusing new ones a while) and refuses tokens.
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { control, privateCall, startSimulator } from '../../support/simulator.js';
import type { KrakenSimulator } from '../../../src/simulator/simulator.js';

type Msg = Record<string, any>;

const sockets: WebSocket[] = [];
afterEach(() => {
  for (const s of sockets.splice(0)) s.terminate();
});

/** A socket that keeps every message it receives; `next` waits for one that matches. */
async function connect(sim: KrakenSimulator): Promise<{ ws: WebSocket; got: Msg[]; next: (match: (m: Msg) => boolean, ms?: number) => Promise<Msg> }> {
  const ws = new WebSocket(sim.wsUrl);
  sockets.push(ws);
  const got: Msg[] = [];
  const waiters = new Set<() => void>();
  ws.on('message', (d) => {
    got.push(JSON.parse(d.toString()) as Msg);
    for (const w of [...waiters]) w();
  });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  let seen = 0;
  const next = (match: (m: Msg) => boolean, ms = 5_000) => new Promise<Msg>((resolve, reject) => {
    const check = () => {
      while (seen < got.length) {
        const m = got[seen++]!;
        if (match(m)) {
          waiters.delete(check);
          clearTimeout(timer);
          return resolve(m);
        }
      }
    };
    const timer = setTimeout(() => {
      waiters.delete(check);
      reject(new Error(`no matching message in ${ms} ms; got ${JSON.stringify(got.slice(-5))}`));
    }, ms);
    waiters.add(check);
    check();
  });
  return { ws, got, next };
}

async function token(sim: KrakenSimulator): Promise<string> {
  const { body } = await privateCall(sim, 'GetWebSocketsToken');
  return body.result.token as string;
}

const subscribe = (ws: WebSocket, tokenText: string) =>
  ws.send(JSON.stringify({ method: 'subscribe', params: { channel: 'executions', token: tokenText, snap_orders: true, snap_trades: true }, req_id: 7 }));

describe('the simulator’s executions channel', () => {
  it('refuses a token it did not issue, and subscribes with one from GetWebSocketsToken', async () => {
    const sim = await startSimulator();
    const c = await connect(sim);
    subscribe(c.ws, 'bm90LWlzc3VlZC1ieS10aGUtc2ltdWxhdG9y');
    expect(await c.next((m) => m['method'] === 'subscribe')).toMatchObject({ method: 'subscribe', req_id: 7, success: false, error: 'ESession:Invalid session' });
    subscribe(c.ws, await token(sim));
    expect(await c.next((m) => m['method'] === 'subscribe')).toMatchObject({ success: true, result: { channel: 'executions', snapshot: true } });
    expect(await c.next((m) => m['channel'] === 'executions')).toMatchObject({ type: 'snapshot', data: [] });
  });

  it('snapshots open orders and the last trades, then streams each order event and fill in Kraken’s format', async () => {
    const sim = await startSimulator({ fillSlices: 2 });
    const sold = await privateCall(sim, 'AddOrder', { pair: 'XBTUSD', type: 'buy', ordertype: 'market', volume: '0.01', cl_ord_id: 'first-buy' });
    expect(sold.body.error).toEqual([]);
    const c = await connect(sim);
    subscribe(c.ws, await token(sim));
    const snap = await c.next((m) => m['channel'] === 'executions' && m['type'] === 'snapshot');
    const [open, trade] = snap['data'] as Msg[];
    expect(open).toMatchObject({ exec_type: 'new', order_status: 'partially_filled', order_id: sold.body.result.txid[0], cl_ord_id: 'first-buy', symbol: 'BTC/USD', side: 'buy', order_qty: 0.01, cum_qty: 0.005 });
    expect(trade).toMatchObject({ exec_type: 'trade', exec_id: sim.state.trades[0]!.txid, order_id: sold.body.result.txid[0], last_qty: 0.005, last_price: 50000, fees: [{ asset: 'USD' }] });
    // The rest of the order fills on the next tick: a trade, then the completion.
    sim.advance(1);
    const fill = await c.next((m) => m['type'] === 'update' && m['data'][0].exec_type === 'trade');
    const done = await c.next((m) => m['type'] === 'update' && m['data'][0].exec_type === 'filled');
    const second = sim.state.trades[1]!;
    expect(fill['data'][0]).toMatchObject({
      exec_id: second.txid, trade_id: second.trade_id, last_qty: Number(second.vol), last_price: Number(second.price), liquidity_ind: 't',
      fees: [{ asset: 'USD', qty: Number(second.fee) }], order_status: 'partially_filled', cum_qty: 0.01,
    });
    expect(done['data'][0]).toMatchObject({ order_status: 'filled', cum_qty: 0.01, order_id: sold.body.result.txid[0] });
    expect(Date.parse(done['data'][0].timestamp)).not.toBeNaN();
    // A new order: pending_new then new; its cancel: canceled with what filled (nothing).
    const limit = await privateCall(sim, 'AddOrder', { pair: 'XBTUSD', type: 'buy', ordertype: 'limit', price: '40000', volume: '0.01' });
    expect((await c.next((m) => m['type'] === 'update'))['data'][0]).toMatchObject({ exec_type: 'pending_new', order_id: limit.body.result.txid[0], limit_price: 40000 });
    expect((await c.next((m) => m['type'] === 'update'))['data'][0]).toMatchObject({ exec_type: 'new', order_status: 'new' });
    await privateCall(sim, 'CancelOrder', { txid: limit.body.result.txid[0] });
    expect((await c.next((m) => m['type'] === 'update'))['data'][0]).toMatchObject({ exec_type: 'canceled', order_status: 'canceled', cum_qty: 0, reason: 'User requested' });
  });

  it('sends a heartbeat every second to a subscriber and answers ping with pong', async () => {
    const sim = await startSimulator();
    const c = await connect(sim);
    subscribe(c.ws, await token(sim));
    await c.next((m) => m['type'] === 'snapshot');
    await c.next((m) => m['channel'] === 'heartbeat', 2_500);
    c.ws.send(JSON.stringify({ method: 'ping', req_id: 42 }));
    expect(await c.next((m) => m['method'] === 'pong')).toMatchObject({ method: 'pong', req_id: 42 });
  });

  it('drops every socket on the control API’s fault and refuses new ones for refuseMs; refuses every token while told to', async () => {
    const sim = await startSimulator();
    const c = await connect(sim);
    subscribe(c.ws, await token(sim));
    await c.next((m) => m['type'] === 'snapshot');
    const closed = new Promise<void>((resolve) => c.ws.once('close', () => resolve()));
    expect((await control(sim, 'POST', 'ws', { drop: true, refuseMs: 1_000 })).json).toMatchObject({ dropped: 1 });
    await closed;
    await expect(connect(sim)).rejects.toThrow(/503/);
    await new Promise((r) => setTimeout(r, 1_100));
    const again = await connect(sim);
    expect((await control(sim, 'POST', 'ws', { rejectTokens: true })).json).toMatchObject({ rejectTokens: true });
    subscribe(again.ws, await token(sim));
    expect(await again.next((m) => m['method'] === 'subscribe')).toMatchObject({ success: false, error: 'ESession:Invalid session' });
    expect((await control(sim, 'POST', 'ws', { refuseMs: 10 })).status).toBe(400);
    expect((await control(sim, 'GET', 'state')).json.executionsChannel).toMatchObject({ connections: 1, subscribed: 0, rejectTokens: true });
  });
});
