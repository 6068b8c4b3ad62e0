// A Kraken that fills, for live-path tests: the fake Kraken (fake-kraken.ts: signatures, nonces,
// permissions, orders, history) behind a small loopback proxy that does what the fake does not yet —
// market orders fill at a price in one or more trades with a taker fee, balances move and are
// enforced (EOrder:Insufficient funds), QueryOrders/OpenOrders/ClosedOrders list trade ids when asked
// trades=true, QueryTrades answers, and faults a real Kraken shows: an AddOrder answer garbled after
// the order was placed, trades listed late. A stand-in until the product simulator lands.
import { createServer, request, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dec } from '../../src/money.js';
import { startFakeKraken, type FakeKraken, type FakeKrakenOptions, type FakeTrade } from './fake-kraken.js';

export type Garble = 'truncated' | 'empty' | 'html';

export interface FillingKrakenOptions extends FakeKrakenOptions {
  /** Taker fee in percent of the cost, charged in the quote currency (Kraken's starter tier: 0.4). */
  feePct?: number;
  /** How many trades a market order fills in (split evenly; the last takes the remainder). */
  tradesPerOrder?: number;
  /** The price a market order fills at (pair id → price); defaults to the fake's ticker. */
  priceOf?: (pairId: string) => string;
}

export interface FillingKraken {
  url: string;
  fake: FakeKraken;
  /** Trades by order id, in fill order. */
  fillsOf(orderId: string): FakeTrade[];
  /** The next AddOrder is placed and filled, but its answer reaches the bot garbled. */
  garbleNextAddOrder(how: Garble): void;
  /** Kraken fills but lists no trades when orders are read (trades=true) until released. */
  holdTradeListing(): void;
  releaseTradeListing(): void;
  /** Every AddOrder the bot sent (its form parameters), refused ones included. */
  addOrders: Array<Record<string, string>>;
  close(): Promise<void>;
}

const PAIRS: Record<string, { base: string; quote: string; altname: string }> = {
  XXBTZUSD: { base: 'XXBT', quote: 'ZUSD', altname: 'XBTUSD' },
  XETHZUSD: { base: 'XETH', quote: 'ZUSD', altname: 'ETHUSD' },
};

const pairIdOf = (name: string) => Object.entries(PAIRS).find(([id, p]) => id === name || p.altname === name)?.[0] ?? name;

export async function startFillingKraken(opts: FillingKrakenOptions = {}): Promise<FillingKraken> {
  const fake = await startFakeKraken(opts);
  const feePct = opts.feePct ?? 0.4;
  const fills = new Map<string, FakeTrade[]>();
  const garbles: Garble[] = [];
  let held = false;
  let seq = 0;
  const addOrders: Array<Record<string, string>> = [];
  const upstream = new URL(fake.url);

  const forward = (req: IncomingMessage, body: string) =>
    new Promise<{ status: number; text: string }>((resolve, reject) => {
      const out = request({ host: upstream.hostname, port: upstream.port, path: req.url, method: req.method, headers: req.headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 500, text: Buffer.concat(chunks).toString('utf8') }));
      });
      out.on('error', reject);
      out.end(body);
    });

  const balance = (asset: string) => dec(fake.state.balances[asset] ?? '0');
  const setBalance = (asset: string, value: ReturnType<typeof dec>) => {
    fake.state.balances[asset] = value.toFixed(10);
  };

  function fill(orderId: string, params: Record<string, string>): void {
    const pairId = pairIdOf(params['pair'] ?? '');
    const pair = PAIRS[pairId]!;
    const price = dec(opts.priceOf?.(pairId) ?? fake.state.tickers[pairId] ?? '0');
    const volume = dec(params['volume'] ?? '0');
    const n = Math.max(1, opts.tradesPerOrder ?? 1);
    const side = params['type'] === 'sell' ? 'sell' : 'buy';
    const parts: FakeTrade[] = [];
    let left = volume;
    for (let i = 0; i < n; i++) {
      const vol = i === n - 1 ? left : volume.div(n).toDecimalPlaces(8, 1);
      left = left.minus(vol);
      const cost = vol.times(price);
      const fee = cost.times(feePct).div(100).toDecimalPlaces(5);
      const trade: FakeTrade = {
        txid: `TFILL${String(++seq).padStart(3, '0')}-AAAAA-BBBBBB`, ordertxid: orderId, pair: pairId, time: Date.now() / 1000 + i * 0.001,
        type: side, ordertype: 'market', price: price.toFixed(), vol: vol.toFixed(8), fee: fee.toFixed(5), cost: cost.toFixed(5),
      };
      parts.push(trade);
      if (side === 'buy') {
        setBalance(pair.quote, balance(pair.quote).minus(cost).minus(fee));
        setBalance(pair.base, balance(pair.base).plus(vol));
      } else {
        setBalance(pair.base, balance(pair.base).minus(vol));
        setBalance(pair.quote, balance(pair.quote).plus(cost).minus(fee));
      }
    }
    fills.set(orderId, parts);
    fake.addTrades(parts);
    const order = fake.state.orders.get(orderId);
    if (order) order.price = price.toFixed();
  }

  /** Order info as Kraken shows it with trades=true: trade ids, cost and fee of what filled. */
  function withTrades(info: Record<string, Record<string, unknown>>): void {
    for (const [txid, o] of Object.entries(info)) {
      const parts = fills.get(txid) ?? [];
      if (parts.length === 0) continue;
      o['cost'] = parts.reduce((acc, t) => acc.plus(t.cost ?? '0'), dec(0)).toFixed(5);
      o['fee'] = parts.reduce((acc, t) => acc.plus(t.fee), dec(0)).toFixed(5);
      if (!held) o['trades'] = parts.map((t) => t.txid);
    }
  }

  function insufficient(params: Record<string, string>): boolean {
    const pair = PAIRS[pairIdOf(params['pair'] ?? '')];
    if (!pair || params['ordertype'] !== 'market') return false;
    const volume = dec(params['volume'] ?? '0');
    if (params['type'] === 'sell') return balance(pair.base).lt(volume);
    const price = dec(opts.priceOf?.(pairIdOf(params['pair']!)) ?? fake.state.tickers[pairIdOf(params['pair']!)] ?? '0');
    return balance(pair.quote).lt(volume.times(price).times(1 + feePct / 100));
  }

  async function handle(req: IncomingMessage, body: string): Promise<{ status: number; text: string; type?: string }> {
    const endpoint = /\/0\/private\/([A-Za-z]+)$/.exec(req.url ?? '')?.[1];
    const params = Object.fromEntries(new URLSearchParams(body));
    if (endpoint === 'AddOrder') {
      const { nonce: _nonce, ...sent } = params;
      addOrders.push(sent);
      // Kraken checks funds before it places anything (a skipped nonce is fine: they only must increase).
      if (insufficient(params)) return { status: 200, text: JSON.stringify({ error: ['EOrder:Insufficient funds'] }) };
    }
    const answer = await forward(req, body);
    if (!endpoint || answer.status !== 200) return answer;
    const json = JSON.parse(answer.text) as { error: string[]; result?: Record<string, unknown> };
    if (endpoint === 'AddOrder' && json.error.length === 0) {
      const txid = (json.result!['txid'] as string[])[0]!;
      if (params['ordertype'] === 'market') fill(txid, params);
      const garble = garbles.shift();
      if (garble === 'truncated') return { status: 200, text: answer.text.slice(0, Math.floor(answer.text.length / 2)) };
      if (garble === 'empty') return { status: 200, text: '' };
      if (garble === 'html') return { status: 200, text: '<html><body><h1>502 Bad Gateway</h1></body></html>', type: 'text/html' };
      return answer;
    }
    if (endpoint === 'QueryTrades' && json.error[0] === 'EGeneral:Unknown method') {
      // The fake checked key, signature, nonce and permission, and has no QueryTrades: answer it here.
      const ids = (params['txid'] ?? '').split(',').map((s) => s.trim()).filter(Boolean);
      const all = [...fills.values()].flat();
      const found = ids.map((id) => all.find((t) => t.txid === id)).filter((t): t is FakeTrade => t !== undefined);
      return {
        status: 200,
        text: JSON.stringify({
          error: [],
          result: Object.fromEntries(found.map((t) => [t.txid, {
            ordertxid: t.ordertxid, postxid: 'TKH2SE-M7IF5-CFI7LT', pair: t.pair, time: t.time, type: t.type, ordertype: 'market', price: t.price,
            cost: t.cost, fee: t.fee, vol: t.vol, margin: '0.00000', misc: '', trade_id: 1, maker: false,
          }])),
        }),
      };
    }
    if (json.error.length === 0 && params['trades'] === 'true' && (endpoint === 'QueryOrders' || endpoint === 'OpenOrders' || endpoint === 'ClosedOrders')) {
      const result = json.result as Record<string, Record<string, Record<string, unknown>>>;
      withTrades(endpoint === 'QueryOrders' ? (result as unknown as Record<string, Record<string, unknown>>) : endpoint === 'OpenOrders' ? result['open']! : result['closed']!);
      return { status: 200, text: JSON.stringify(json) };
    }
    return answer;
  }

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      handle(req, Buffer.concat(chunks).toString('utf8'))
        .then((a) => {
          res.writeHead(a.status, { 'content-type': a.type ?? 'application/json' });
          res.end(a.text);
        })
        .catch((e: unknown) => {
          res.writeHead(500, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ error: [`EGeneral:Internal error: ${(e as Error).message}`] }));
        });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;

  return {
    url: `http://127.0.0.1:${port}`,
    fake,
    fillsOf: (orderId) => fills.get(orderId) ?? [],
    garbleNextAddOrder: (how) => void garbles.push(how),
    holdTradeListing: () => {
      held = true;
    },
    releaseTradeListing: () => {
      held = false;
    },
    addOrders,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await fake.close();
    },
  };
}
