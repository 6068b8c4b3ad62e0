// Owns the soak's Kraken: `ctb simulate-kraken` in its own process (so its account outlives every
// restart of the bot), the environment lines it prints for the bot, the fault hits it reports, and
// a small client of its control API (/_sim/*).
import type { FaultSpec } from '../../src/simulator/faults.js';
import type { SimOrder, SimTrade } from '../../src/simulator/types.js';
import { startChild, type Env, type LongChild } from './child.js';

export interface SimStateView {
  systemStatus: string;
  pace: number;
  candlesClosed: number;
  prices: Record<string, { pair: string; price: string; mode: string }>;
  balances: Record<string, { balance: string; hold_trade: string }>;
  orders: { open: number; total: number };
  trades: number;
  faults: Array<FaultSpec & { id: number }>;
}

export interface SimProcess {
  child: LongChild;
  url: string;
  /** KRAKEN_API_URL, KRAKEN_API_KEY, KRAKEN_API_SECRET, MARKET_FEED as the simulator printed them. */
  botEnv: Env;
  /** "fault on AddOrder: truncated (after processing)" lines as they were printed, with when. */
  faultHits(): Array<{ at: number; text: string }>;
  /** When the simulator last received a call to `endpoint` (epoch ms), or 0. */
  lastCallAt(endpoint: string): Promise<number>;
  state(): Promise<SimStateView>;
  orders(): Promise<SimOrder[]>;
  trades(): Promise<SimTrade[]>;
  addFault(spec: FaultSpec): Promise<void>;
  clearFaults(): Promise<void>;
  setStatus(status: 'online' | 'cancel_only' | 'post_only' | 'maintenance'): Promise<void>;
  setPace(pace: number): Promise<void>;
  stop(): Promise<void>;
}

export interface SimFlags {
  pace: number;
  seed: number;
  usd: number;
  fillSlices: number;
}

export async function startSimProcess(flags: SimFlags, cwd: string): Promise<SimProcess> {
  const hits: Array<{ at: number; text: string }> = [];
  const child = startChild([
    'simulate-kraken', '--port', '0', '--pace', String(flags.pace), '--balances', `USD=${flags.usd},BTC=0`,
    '--rate-limits', 'on', '--fill-slices', String(flags.fillSlices), '--seed', String(flags.seed),
  ], {}, cwd, (line) => {
    const hit = /\] (fault on .*)$/.exec(line);
    if (hit) hits.push({ at: Date.now(), text: hit[1]! });
  });
  // A generous bound: it only catches a simulator that never starts (a loaded machine is slow, not this slow).
  await child.waitFor(/^MARKET_FEED=kraken$/m, 180_000);
  const botEnv = Object.fromEntries(child.output().split('\n').filter((l) => /^(KRAKEN_API_(URL|KEY|SECRET)|MARKET_FEED)=/.test(l))
    .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
  const url = botEnv['KRAKEN_API_URL']!;
  const call = async <T>(method: string, route: string, body?: unknown): Promise<T> => {
    const res = await fetch(`${url}/_sim/${route}`, {
      method, headers: { 'content-type': 'application/json' }, ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const json = (await res.json()) as T;
    if (!res.ok) throw new Error(`simulator ${method} /_sim/${route} → ${res.status}: ${JSON.stringify(json)}`);
    return json;
  };
  return {
    child, url, botEnv,
    faultHits: () => [...hits],
    lastCallAt: async (endpoint) => (await call<{ calls: Array<{ at: number }> }>('GET', `calls?endpoint=${endpoint}&limit=1`)).calls.at(-1)?.at ?? 0,
    state: () => call<SimStateView>('GET', 'state'),
    orders: async () => (await call<{ orders: SimOrder[] }>('GET', 'orders')).orders,
    trades: async () => (await call<{ trades: SimTrade[] }>('GET', 'trades')).trades,
    addFault: async (spec) => void (await call('POST', 'faults', spec)),
    clearFaults: async () => void (await call('DELETE', 'faults')),
    setStatus: async (status) => void (await call('POST', 'status', { status })),
    setPace: async (pace) => void (await call('POST', 'pace', { pace })),
    async stop() {
      child.signal('SIGTERM');
      await child.exited;
    },
  };
}
