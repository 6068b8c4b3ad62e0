// A kill-path world against the fake Kraken (the product's simulator over HTTP, reached through the
// real Kraken client) that the test can stop answering: `stopKraken()` holds CancelAll and OpenOrders,
// whose requests are recorded and answered none until the test ends. The cancel's deadlines and
// pauses run on a clock of the test's own (heldKrakenTime): a call to a held endpoint, once the
// fake Kraken has received it, has its deadline pass on that clock — no test waits real seconds.
import { Writable } from 'node:stream';
import pino from 'pino';
import type { AlertInput } from '../../src/alerts/types.js';
import { buildAppContext, type OwnedContext } from '../../src/app/build-context.js';
import { ManualClock } from '../../src/clock.js';
import { testConfig } from '../../src/config/env.js';
import { DeadlineError } from '../../src/services/kill/deadline.js';
import type { KillTime } from '../../src/services/kill/runtime.js';
import type { useKillTestDb } from './kill-context.js';
import { startFakeKraken, type FakeKraken } from './fake-kraken.js';
import { TEST_API_KEY, TEST_API_SECRET } from './kraken-test-keys.js';
import { recordLiveOrderEver } from './live-order-ever.js';

type KillTestDb = ReturnType<typeof useKillTestDb>;
type Cleanup = Array<() => Promise<unknown> | void>;

/** KILL_CONFIRM_WAIT in the held-Kraken world (unless the test gives its own). */
export const HELD_KRAKEN_WAIT_MS = 5_000;

/** Until `cond` holds, a turn of the event loop at a time (a request reaching the fake Kraken is an I/O event). */
export async function until(cond: () => boolean): Promise<void> {
  while (!cond()) await new Promise((r) => setTimeout(r, 1));
}

/**
 * The cancel's clock: pauses move it, and a call to an endpoint the test holds — once the fake
 * Kraken has received it — has its deadline pass on it. Calls to other endpoints answer as they do.
 */
export function heldKrakenTime(kraken: FakeKraken, held: Set<string>) {
  let now = 0;
  const time: KillTime = {
    now: () => now,
    sleep: async (ms) => void (now += ms),
    within: async <T>(work: Promise<T>, ms: number, what: string): Promise<T> => {
      const endpoint = what.includes('cancel-all') ? 'CancelAll' : what.includes('open-orders') ? 'OpenOrders' : null;
      if (what.startsWith('paper') || endpoint === null || !held.has(endpoint)) return work;
      const seen = kraken.callsTo(endpoint).length;
      let settled = false;
      work.then(() => (settled = true), () => (settled = true));
      await until(() => settled || kraken.callsTo(endpoint).length > seen);
      if (settled) return work;
      now += ms;
      throw new DeadlineError(what, ms);
    },
  };
  return { time, now: () => now };
}

export async function heldKrakenWorld(kill: KillTestDb, cleanup: Cleanup, env: Record<string, string> = {}) {
  const kraken = await startFakeKraken({ apiKey: TEST_API_KEY, secret: TEST_API_SECRET });
  cleanup.push(() => kraken.close());
  kraken.addOrder({ txid: 'OPEN-1', pair: 'XBTUSD', type: 'buy', ordertype: 'limit', price: '40000', vol: '0.01', vol_exec: '0', status: 'open', opentm: 1 });
  await recordLiveOrderEver(kill.db().db);
  const held = new Set<string>();
  const clock = heldKrakenTime(kraken, held);
  const lines: Array<{ level: number; msg: string }> = [];
  const sink = new Writable({
    write(chunk, _enc, cb) {
      for (const line of String(chunk).split('\n')) if (line.trim()) lines.push(JSON.parse(line) as { level: number; msg: string });
      cb();
    },
  });
  const alerts: AlertInput[] = [];
  const ctx: OwnedContext = kill.track(await buildAppContext({
    config: testConfig({
      KRAKEN_API_KEY: TEST_API_KEY, KRAKEN_API_SECRET: TEST_API_SECRET, KRAKEN_API_URL: kraken.url, KRAKEN_RATE_LIMIT: 'false', IS_LIVE: 'true',
      KILL_CONFIRM_WAIT: `${HELD_KRAKEN_WAIT_MS}ms`, KILL_CONFIRM_ATTEMPTS: '3', KILL_DB_TIMEOUT: '8s', ...env,
    }),
    database: kill.db(), clock: new ManualClock('2026-03-02T10:00:00Z'), logger: pino({ level: 'info' }, sink),
    alerts: () => ({ raise: async (a) => void alerts.push(a) }), killTime: clock.time,
  }));
  /** Kraken stops answering CancelAll and OpenOrders (each request recorded, none answered until the test ends). */
  const stopKraken = () => {
    for (const endpoint of ['CancelAll', 'OpenOrders']) {
      held.add(endpoint);
      const release = kraken.hold(endpoint);
      cleanup.push(release);
    }
  };
  return { kraken, ctx, clock, lines, alerts, stopKraken };
}

export const sentTo = (kraken: FakeKraken) => kraken.calls.filter((c) => c.endpoint === 'CancelAll' || c.endpoint === 'OpenOrders').map((c) => c.endpoint);

