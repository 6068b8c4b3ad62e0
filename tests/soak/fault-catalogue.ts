// Owns what the soak throws at the bot through the simulator's /_sim/faults: every fault kind the
// issue names, on the endpoints the live path uses — the AddOrder whose answer is lost after Kraken
// placed it (truncated, empty, dropped socket, a reply slower than the client waits), 5xx pages,
// nonce errors, "busy", and trouble on the reads the fill follower and the market feed depend on.
import type { FaultSpec } from '../../src/simulator/faults.js';

export interface FaultPick {
  name: string;
  spec: FaultSpec;
}

export const FAULTS: FaultPick[] = [
  { name: 'AddOrder placed, then truncated JSON', spec: { endpoint: 'AddOrder', kind: 'truncated', after: true } },
  { name: 'AddOrder placed, then an empty 200 body', spec: { endpoint: 'AddOrder', kind: 'empty', after: true } },
  { name: 'AddOrder placed, then the socket dropped', spec: { endpoint: 'AddOrder', kind: 'reset', after: true } },
  { name: 'AddOrder placed, answered after the client gave up (12 s)', spec: { endpoint: 'AddOrder', kind: 'latency', ms: 12_000 } },
  { name: 'AddOrder socket dropped before Kraken saw it', spec: { endpoint: 'AddOrder', kind: 'reset' } },
  { name: 'AddOrder 502 (HTML page)', spec: { endpoint: 'AddOrder', kind: 'http_5xx', status: 502 } },
  { name: 'AddOrder EAPI:Invalid nonce', spec: { endpoint: 'AddOrder', kind: 'error', message: 'EAPI:Invalid nonce' } },
  { name: 'AddOrder EService:Busy', spec: { endpoint: 'AddOrder', kind: 'error', message: 'EService:Busy' } },
  { name: 'QueryOrders truncated', spec: { endpoint: 'QueryOrders', kind: 'truncated' } },
  { name: 'QueryOrders 503 (JSON)', spec: { endpoint: 'QueryOrders', kind: 'http_5xx', status: 503, json: true } },
  { name: 'QueryOrders socket dropped', spec: { endpoint: 'QueryOrders', kind: 'reset', times: 2 } },
  { name: 'QueryTrades empty body', spec: { endpoint: 'QueryTrades', kind: 'empty' } },
  { name: 'QueryTrades EService:Unavailable', spec: { endpoint: 'QueryTrades', kind: 'error', message: 'EService:Unavailable' } },
  { name: 'OpenOrders 520 (HTML page)', spec: { endpoint: 'OpenOrders', kind: 'http_5xx', status: 520 } },
  { name: 'ClosedOrders truncated', spec: { endpoint: 'ClosedOrders', kind: 'truncated' } },
  { name: 'BalanceEx truncated', spec: { endpoint: 'BalanceEx', kind: 'truncated' } },
  { name: 'CancelAllOrdersAfter EService:Unavailable', spec: { endpoint: 'CancelAllOrdersAfter', kind: 'error', message: 'EService:Unavailable' } },
  { name: 'TradesHistory 502', spec: { endpoint: 'TradesHistory', kind: 'http_5xx', status: 502 } },
  { name: 'QueryOrders EAPI:Invalid nonce ×2', spec: { endpoint: 'QueryOrders', kind: 'error', message: 'EAPI:Invalid nonce', times: 2 } },
  { name: 'OpenOrders EAPI:Invalid nonce', spec: { endpoint: 'OpenOrders', kind: 'error', message: 'EAPI:Invalid nonce' } },
  { name: 'every call 2 s slower ×6', spec: { endpoint: '*', kind: 'latency', ms: 2_000, times: 6 } },
  { name: 'market feed OHLC 502 ×3', spec: { endpoint: 'OHLC', kind: 'http_5xx', status: 502, times: 3 } },
  { name: 'market feed OHLC truncated', spec: { endpoint: 'OHLC', kind: 'truncated' } },
];
