// Owns the control API under /_sim/ — for tests, soak runs and people in another process: read the
// simulator's state, inject faults, move the price or step the market, change the system status,
// set balances, reset. Kraken's client paths (/0/public, /0/private) never reach it. Every body is
// JSON and every bad one is answered 400 naming what is wrong.
import { z } from 'zod';
import { holds } from './account.js';
import { ASSETS, assetIdOf, pairOf, PAIRS } from './catalogue.js';
import { faultSpecSchema } from './faults.js';
import { fixed, positiveDecimal } from './format.js';
import { TIERS } from './rate-limits.js';
import type { KrakenSimulator } from './simulator.js';
import { isOpen, SYSTEM_STATUSES } from './types.js';

export const CONTROL_ROUTES = [
  'GET    /_sim/state                 prices, balances and holds, order and trade counts, status, dead man, faults, counters',
  'GET    /_sim/orders[?status=open]  orders as the simulator keeps them',
  'GET    /_sim/trades                every fill (trade ids, prices, fees)',
  'GET    /_sim/calls[?endpoint=E]    the most recent Kraken calls received (no nonces, no keys)',
  'GET    /_sim/faults                faults waiting to hit',
  'POST   /_sim/faults                {"endpoint":"AddOrder","kind":"truncated","after":true,"times":1}',
  '                                   kinds: latency (ms), http_5xx (status, json, message), truncated, empty, reset, error (message);',
  '                                   times N, or probability p (0–1); after:true = process the call, then answer with the fault',
  'DELETE /_sim/faults                clear every fault',
  'POST   /_sim/price                 {"pair":"BTC/USD","price":"64000"} fixes a price; {"pair":"BTC/USD","replay":true} resumes the replay',
  'POST   /_sim/advance               {"candles":10} closes candles now (orders trade against them)',
  'POST   /_sim/pace                  {"pace":2} candles per second (0 = only /_sim/advance)',
  'POST   /_sim/status                {"status":"cancel_only"} online | maintenance | cancel_only | post_only',
  'POST   /_sim/balances              {"USD":"5000","BTC":"0.1"} sets balances',
  'POST   /_sim/rate-limits           {"enabled":true,"tier":"starter"}',
  'POST   /_sim/ws                    {"drop":true,"refuseMs":5000} drops every executions socket (and refuses new ones that long);',
  '                                   {"rejectTokens":true} refuses every token on subscribe (false to accept again)',
  'POST   /_sim/reset                 back to the starting balances: no orders, trades, faults; status online',
];

class Reply {
  constructor(readonly status: number, readonly json: unknown) {}
}
const bad = (message: string): Reply => new Reply(400, { error: message });

function parseBody<T extends z.ZodType>(schema: T, body: string): z.output<T> | Reply {
  let raw: unknown = {};
  if (body.trim() !== '') {
    try {
      raw = JSON.parse(body);
    } catch {
      return bad('The body is not JSON: send a JSON object (content-type application/json).');
    }
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) return bad(z.prettifyError(parsed.error));
  return parsed.data;
}

const isReply = (v: unknown): v is Reply => v instanceof Reply;

const pairField = z.string().optional().refine((p) => p === undefined || pairOf(p) !== undefined, {
  message: `expected a pair such as BTC/USD (known: ${Object.values(PAIRS).map((p) => p.symbol).join(', ')})`,
});
const amountField = z.string().refine((v) => /^\d+(\.\d+)?$/.test(v), 'expected a decimal amount such as "1000.5"');

const schemas = {
  price: z.object({ pair: pairField, price: z.string().optional(), replay: z.boolean().optional() }).strict()
    .refine((b) => (b.price === undefined) !== (b.replay === undefined), 'send either "price" (a positive decimal) or "replay": true'),
  advance: z.object({ candles: z.number().int().min(1).max(100_000) }).strict(),
  pace: z.object({ pace: z.number().min(0).max(1000) }).strict(),
  status: z.object({ status: z.enum(SYSTEM_STATUSES as [string, ...string[]]) }).strict(),
  balances: z.record(z.string(), amountField),
  rateLimits: z.object({ enabled: z.boolean().optional(), tier: z.enum(TIERS as [string, ...string[]]).optional() }).strict(),
  reset: z.object({ balances: z.record(z.string(), amountField).optional() }).strict(),
  ws: z.object({ drop: z.boolean().optional(), refuseMs: z.number().int().min(0).max(3_600_000).optional(), rejectTokens: z.boolean().optional() }).strict()
    .refine((b) => b.drop !== undefined || b.rejectTokens !== undefined, 'send "drop": true (with "refuseMs" if new sockets should be refused meanwhile) and/or "rejectTokens": true|false')
    .refine((b) => b.refuseMs === undefined || b.drop === true, '"refuseMs" goes with "drop": true'),
  fault: faultSpecSchema,
  faultList: z.array(faultSpecSchema).max(100),
};

function assetBalances(raw: Record<string, string>): Record<string, string> | Reply {
  const out: Record<string, string> = {};
  for (const [name, amount] of Object.entries(raw)) {
    const id = assetIdOf(name);
    if (!id) return bad(`Unknown asset "${name}": expected one of ${Object.values(ASSETS).map((a) => a.altname).join(', ')} (or USD, BTC).`);
    out[id] = amount;
  }
  return out;
}

export function stateSummary(sim: KrakenSimulator): Record<string, unknown> {
  const { ctx, state } = sim;
  const held = holds(ctx);
  const orders = [...state.orders.values()];
  return {
    systemStatus: state.systemStatus,
    pace: sim.pace,
    marketEnded: ctx.path.ended,
    candlesClosed: ctx.path.closedCandles,
    prices: Object.fromEntries(Object.values(PAIRS).map((p) => [p.symbol, { pair: p.id, price: state.tickers[p.id], mode: ctx.path.mode(p.id) }])),
    balances: Object.fromEntries(Object.entries(state.balances).map(([a, b]) => [a, { balance: b, hold_trade: fixed(held.get(a) ?? 0, ASSETS[a]?.decimals ?? 10) }])),
    orders: { open: orders.filter(isOpen).length, total: orders.length },
    trades: state.trades.length,
    deadMan: state.deadMan,
    faults: sim.faults.list(),
    fees: { makerPct: ctx.fills.makerFeePct.toFixed(), takerPct: ctx.fills.takerFeePct.toFixed() },
    slippageBps: ctx.fills.slippage.mul(10_000).toNumber(),
    fillSlices: ctx.fills.fillSlices,
    rateLimits: { enabled: ctx.rates.enabled, tier: ctx.rates.tier, counters: ctx.rates.snapshot(ctx.now()) },
    calls: sim.calls.length,
    executionsChannel: { url: sim.wsUrl, connections: sim.executions.connections, subscribed: sim.executions.subscribers, rejectTokens: sim.executions.rejectTokens },
  };
}

function post(sim: KrakenSimulator, route: string, body: string): Reply {
  switch (route) {
    case 'faults': {
      // One fault or a list of them; parsed apart so an error names the field, not the union.
      const b = body.trim().startsWith('[') ? parseBody(schemas.faultList, body) : parseBody(schemas.fault, body);
      if (isReply(b)) return b;
      const ids = (Array.isArray(b) ? b : [b]).map((f) => sim.faults.add(f));
      return new Reply(200, { added: ids, faults: sim.faults.list() });
    }
    case 'price': {
      const b = parseBody(schemas.price, body);
      if (isReply(b)) return b;
      const pair = pairOf(b.pair ?? 'BTC/USD')!;
      if (b.replay) {
        if (!sim.ctx.path.resumeReplay(pair.id)) return bad(`${pair.symbol} has no replay candles: it can only take a fixed price.`);
        return new Reply(200, { pair: pair.symbol, mode: 'replay', price: sim.state.tickers[pair.id] });
      }
      const price = positiveDecimal(b.price);
      if (!price) return bad(`price: expected a positive decimal such as "64000.5", got "${b.price}"`);
      const move = sim.setPrice(pair.id, price);
      return new Reply(200, { pair: pair.symbol, mode: 'fixed', price: fixed(move.close, pair.pairDecimals) });
    }
    case 'advance': {
      const b = parseBody(schemas.advance, body);
      if (isReply(b)) return b;
      sim.advance(b.candles);
      return new Reply(200, { candlesClosed: sim.ctx.path.closedCandles, marketEnded: sim.ctx.path.ended, prices: { ...sim.state.tickers } });
    }
    case 'pace': {
      const b = parseBody(schemas.pace, body);
      if (isReply(b)) return b;
      sim.setPace(b.pace);
      return new Reply(200, { pace: sim.pace });
    }
    case 'status': {
      const b = parseBody(schemas.status, body);
      if (isReply(b)) return b;
      sim.setSystemStatus(b.status as (typeof SYSTEM_STATUSES)[number]);
      return new Reply(200, { systemStatus: sim.state.systemStatus });
    }
    case 'balances': {
      const b = parseBody(schemas.balances, body);
      if (isReply(b)) return b;
      const balances = assetBalances(b);
      if (isReply(balances)) return balances;
      sim.setBalances(balances);
      return new Reply(200, { balances: sim.state.balances });
    }
    case 'rate-limits': {
      const b = parseBody(schemas.rateLimits, body);
      if (isReply(b)) return b;
      if (b.enabled !== undefined) sim.ctx.rates.enabled = b.enabled;
      if (b.tier !== undefined) {
        sim.ctx.rates.tier = b.tier as (typeof TIERS)[number];
        sim.ctx.rates.reset();
      }
      return new Reply(200, { enabled: sim.ctx.rates.enabled, tier: sim.ctx.rates.tier });
    }
    case 'ws': {
      const b = parseBody(schemas.ws, body);
      if (isReply(b)) return b;
      if (b.rejectTokens !== undefined) sim.executions.rejectTokens = b.rejectTokens;
      const dropped = b.drop ? sim.executions.drop(b.refuseMs ?? 0) : 0;
      if (b.drop) sim.event(`executions channel: ${dropped} socket(s) dropped${b.refuseMs ? `, new ones refused for ${b.refuseMs} ms` : ''}`);
      return new Reply(200, { dropped, refuseMs: b.refuseMs ?? 0, rejectTokens: sim.executions.rejectTokens });
    }
    case 'reset': {
      const b = parseBody(schemas.reset, body);
      if (isReply(b)) return b;
      const balances = b.balances ? assetBalances(b.balances) : undefined;
      if (isReply(balances)) return balances;
      sim.reset(balances);
      return new Reply(200, stateSummary(sim));
    }
    default:
      return new Reply(404, { error: `No control route POST /_sim/${route}.`, routes: CONTROL_ROUTES });
  }
}

export function handleControl(sim: KrakenSimulator, method: string, url: URL, body: string): { status: number; json: unknown } {
  const route = url.pathname.replace(/^\/_sim\/?/, '');
  if (method === 'GET') {
    switch (route) {
      case '':
        return new Reply(200, { routes: CONTROL_ROUTES });
      case 'state':
        return new Reply(200, stateSummary(sim));
      case 'orders': {
        const status = url.searchParams.get('status');
        const orders = [...sim.state.orders.values()].filter((o) => status === null || (status === 'open' ? isOpen(o) : o.status === status));
        return new Reply(200, { orders });
      }
      case 'trades':
        return new Reply(200, { trades: sim.state.trades });
      case 'calls': {
        const endpoint = url.searchParams.get('endpoint');
        const limit = Math.min(10_000, Number(url.searchParams.get('limit') ?? 200) || 200);
        return new Reply(200, { calls: sim.calls.filter((c) => endpoint === null || c.endpoint === endpoint).slice(-limit) });
      }
      case 'faults':
        return new Reply(200, { faults: sim.faults.list() });
      default:
        return new Reply(404, { error: `No control route GET /_sim/${route}.`, routes: CONTROL_ROUTES });
    }
  }
  if (method === 'DELETE' && route === 'faults') return new Reply(200, { cleared: sim.faults.clear() });
  if (method === 'POST') return post(sim, route, body);
  return new Reply(405, { error: `${method} is not served under /_sim/.`, routes: CONTROL_ROUTES });
}
