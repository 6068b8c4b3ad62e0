// Owns Kraken's private endpoints as the simulator serves them, after authentication: balances,
// orders, trades, cancels, the dead man's switch, key info. Each endpoint needs the key rights Kraken
// asks for (`EGeneral:Permission denied` otherwise); Withdraw and transfers are never served.
import { randomBytes } from 'node:crypto';
import { balanceOf, holds } from './account.js';
import { addOrder } from './add-order.js';
import { ASSETS } from './catalogue.js';
import { cancelAllAnswer, cancelAllOrdersAfter, cancelOrder } from './cancel.js';
import type { SimContext } from './context.js';
import { fixed } from './format.js';
import { orderJson, tradeJson } from './order-json.js';
import { fail, isOpen, ok, type KrakenAnswer, type SimOrder, type SimTrade } from './types.js';

export const TRADE_KEY_PERMISSIONS = ['query-funds', 'query-open-trades', 'query-closed-trades', 'modify-trades', 'close-trades'];
export const PAGE_SIZE = 50;
/** Kraken: a WebSocket token must open its connection within 15 minutes of being issued. */
export const WS_TOKEN_TTL_MS = 15 * 60_000;

const NEEDS: Record<string, string[]> = {
  BalanceEx: ['query-funds'], Balance: ['query-funds'], TradeBalance: ['query-funds'],
  OpenOrders: ['query-open-trades'], QueryOrders: ['query-open-trades'],
  ClosedOrders: ['query-closed-trades'], TradesHistory: ['query-closed-trades'], QueryTrades: ['query-closed-trades'],
  AddOrder: ['modify-trades'], CancelOrder: ['close-trades'], CancelAll: ['close-trades'], CancelAllOrdersAfter: ['close-trades'],
  WithdrawMethods: ['query-funds', 'withdraw-funds'], WithdrawAddresses: ['query-funds', 'withdraw-funds'],
  GetWebSocketsToken: [],
};

/** The private endpoints the simulator knows (answered, or refused as Kraken would: Withdraw). */
export const PRIVATE_ENDPOINTS = [...Object.keys(NEEDS), 'GetApiKeyInfo', 'Withdraw', 'WalletTransfer'];

const truthy = (v: string | undefined) => v === 'true' || v === '1';

function matchesClient(o: SimOrder, params: Record<string, string>): boolean {
  return (params['cl_ord_id'] === undefined || o.cl_ord_id === params['cl_ord_id'])
    && (params['userref'] === undefined || String(o.userref ?? 0) === params['userref']);
}

/** A `start`/`end` bound: unix seconds, or the id of a trade/order whose time is used. */
function bound(text: string | undefined, timeOf: (id: string) => number | undefined): number | undefined {
  if (text === undefined) return undefined;
  if (/^\d+(\.\d+)?$/.test(text)) return Number(text);
  return timeOf(text);
}

function balances(ctx: SimContext, extended: boolean): KrakenAnswer {
  const held = holds(ctx);
  const assets = new Set([...Object.keys(ctx.state.balances), ...held.keys()]);
  return ok(Object.fromEntries([...assets].map((a) => {
    const places = ASSETS[a]?.decimals ?? 10;
    const balance = fixed(balanceOf(ctx, a), places);
    return [a, extended ? { balance, hold_trade: fixed(held.get(a) ?? 0, places) } : balance];
  })));
}

function closedOrders(ctx: SimContext, params: Record<string, string>): KrakenAnswer {
  const start = bound(params['start'], (id) => ctx.state.orders.get(id)?.opentm);
  const end = bound(params['end'], (id) => ctx.state.orders.get(id)?.opentm);
  const closed = [...ctx.state.orders.values()]
    .filter((o) => !isOpen(o) && matchesClient(o, params))
    .filter((o) => (start === undefined || (o.closetm ?? o.opentm) > start) && (end === undefined || (o.closetm ?? o.opentm) <= end))
    .sort((a, b) => (b.closetm ?? b.opentm) - (a.closetm ?? a.opentm));
  const ofs = Number(params['ofs'] ?? 0) || 0;
  const withTrades = truthy(params['trades']);
  return ok({ closed: Object.fromEntries(closed.slice(ofs, ofs + ctx.pageSize).map((o) => [o.txid, orderJson(ctx, o, withTrades)])), count: closed.length });
}

function queryOrders(ctx: SimContext, params: Record<string, string>): KrakenAnswer {
  const ids = (params['txid'] ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  if (ids.length > 50) return fail('EGeneral:Invalid arguments:txid');
  let found: SimOrder[];
  if (ids.length > 0) {
    found = ids.map((id) => ctx.state.orders.get(id)).filter((o): o is SimOrder => o !== undefined && matchesClient(o, params));
  } else if (params['cl_ord_id'] !== undefined || params['userref'] !== undefined) {
    found = [...ctx.state.orders.values()].filter((o) => matchesClient(o, params));
  } else return fail('EGeneral:Invalid arguments:txid');
  if (found.length === 0) return fail('EOrder:Invalid order');
  const withTrades = truthy(params['trades']);
  return ok(Object.fromEntries(found.map((o) => [o.txid, orderJson(ctx, o, withTrades)])));
}

function queryTrades(ctx: SimContext, params: Record<string, string>): KrakenAnswer {
  const ids = (params['txid'] ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  if (ids.length === 0 || ids.length > 20) return fail('EGeneral:Invalid arguments:txid');
  const byId = new Map(ctx.state.trades.map((t) => [t.txid, t]));
  const found = ids.map((id) => byId.get(id)).filter((t): t is SimTrade => t !== undefined);
  if (found.length === 0) return fail('EQuery:Invalid query');
  return ok(Object.fromEntries(found.map((t) => [t.txid, tradeJson(t)])));
}

function tradesHistory(ctx: SimContext, params: Record<string, string>): KrakenAnswer {
  const timeOf = (id: string) => ctx.state.trades.find((t) => t.txid === id)?.time;
  const start = bound(params['start'], timeOf) ?? -Infinity;
  const end = bound(params['end'], timeOf) ?? Infinity;
  // Newest first; trades in the same instant keep the order they happened in, newest first too.
  const all = ctx.state.trades
    .map((t, i) => ({ t, i }))
    .filter(({ t }) => t.time > start && t.time <= end)
    .sort((a, b) => b.t.time - a.t.time || b.i - a.i)
    .map(({ t }) => t);
  const ofs = Number(params['ofs'] ?? 0) || 0;
  const page = all.slice(ofs, ofs + ctx.pageSize);
  return ok({ trades: Object.fromEntries(page.map((t) => [t.txid, tradeJson(t)])), count: all.length });
}

function apiKeyInfo(ctx: SimContext): KrakenAnswer {
  if (ctx.state.permissions === 'unsupported') return fail('EGeneral:Unknown method');
  const now = String(Math.floor(ctx.now() / 1000));
  return ok({
    apiKeyName: 'simulator-key', apiKey: 'redacted', nonce: '0', nonceWindow: 0, permissions: ctx.state.permissions,
    iban: 'XX00 SIMU LATO R000', validUntil: '0', queryFrom: '0', queryTo: '0', createdTime: now, modifiedTime: now, ipAllowlist: [], lastUsed: now,
  });
}

export function privateAnswer(ctx: SimContext, endpoint: string, params: Record<string, string>): KrakenAnswer {
  if (endpoint === 'GetApiKeyInfo') return apiKeyInfo(ctx);
  if (endpoint === 'Withdraw' || endpoint === 'WalletTransfer') return fail('EGeneral:Permission denied');
  const perms = ctx.state.permissions === 'unsupported' ? TRADE_KEY_PERMISSIONS : ctx.state.permissions;
  const needs = NEEDS[endpoint];
  if (!needs) return fail('EGeneral:Unknown method');
  if (!needs.every((p) => perms.includes(p))) return fail('EGeneral:Permission denied');
  switch (endpoint) {
    case 'BalanceEx':
      return balances(ctx, true);
    case 'Balance':
      return balances(ctx, false);
    case 'OpenOrders': {
      const withTrades = truthy(params['trades']);
      const open = [...ctx.state.orders.values()].filter((o) => isOpen(o) && matchesClient(o, params));
      return ok({ open: Object.fromEntries(open.map((o) => [o.txid, orderJson(ctx, o, withTrades)])) });
    }
    case 'ClosedOrders':
      return closedOrders(ctx, params);
    case 'QueryOrders':
      return queryOrders(ctx, params);
    case 'QueryTrades':
      return queryTrades(ctx, params);
    case 'TradesHistory':
      return tradesHistory(ctx, params);
    case 'AddOrder':
      return addOrder(ctx, params);
    case 'CancelOrder':
      return cancelOrder(ctx, params);
    case 'CancelAll':
      return cancelAllAnswer(ctx);
    case 'CancelAllOrdersAfter':
      return cancelAllOrdersAfter(ctx, params);
    case 'GetWebSocketsToken': {
      // A token in Kraken's shape, which the simulator's executions channel (ws-executions.ts) accepts
      // within 15 minutes of issue, as Kraken does.
      const token = randomBytes(32).toString('base64').replace(/=+$/, '');
      for (const [old, at] of ctx.wsTokens) if (ctx.now() - at > WS_TOKEN_TTL_MS) ctx.wsTokens.delete(old);
      ctx.wsTokens.set(token, ctx.now());
      return ok({ token, expires: 900 });
    }
    case 'WithdrawMethods':
      return ok([{ asset: 'XXBT', method: 'Bitcoin', network: 'Bitcoin', minimum: '0.0004' }]);
    case 'WithdrawAddresses':
      return ok([{ address: 'bc1qsimulator', asset: 'XBT', method: 'Bitcoin', key: 'cold', verified: true }]);
    default:
      return fail('EGeneral:Unknown method');
  }
}
