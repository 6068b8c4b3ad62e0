// Kill latency bench: the time from a /kill request arriving at the bot to Kraken's CancelAll
// request arriving at a local fake Kraken — through POST /kill (bearer token) and through a signed
// Slack /kill on the real Bolt receiver — with PostgreSQL healthy, and with it stalled (a TCP proxy
// that stops forwarding bytes: every query hangs). The bot is armed (IS_LIVE=true) with the real
// Kraken adapter (ccxt, rate limiter off as for any local fake) and runs as a web process.
// "Arriving" is measured inside the process on both ends: the HTTP server's request event and the
// fake Kraken's request event (performance.now()). Prints p50/p99/max per case; floor: p99 < 100 ms.
//   node --import tsx bench/kill.ts [--n 200] [--warmup 10]
import { randomBytes } from 'node:crypto';
import { availableParallelism, loadavg } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Feature } from '../src/app/feature.js';
import { connectPostgres } from '../src/db/client.js';
import { killFeature } from '../src/services/kill/kill-feature.js';
import { createPostgresTestDb } from '../tests/support/db.js';
import { startFakeKraken } from '../tests/support/fake-kraken.js';
import { TEST_API_KEY, TEST_API_SECRET } from '../tests/support/kraken-test-keys.js';
import { signedHeaders } from '../tests/support/slack-signing.js';
import { OPS_CHANNEL, SIGNING_SECRET, startSlackHarness, TEAM_ID, USERS } from '../tests/support/slack-harness.js';
import { startStallProxy } from '../tests/support/stall-proxy.js';

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const N = arg('n', 200);
const WARMUP = arg('warmup', 10);
const TOKEN = `bench-kill-token-${randomBytes(12).toString('hex')}`;
const FLOOR_P99_MS = 100;

const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;

async function main() {
  const cancelArrivals: number[] = [];
  const kraken = await startFakeKraken({
    apiKey: TEST_API_KEY, secret: TEST_API_SECRET,
    onRequestStart: (path, at) => {
      if (path.endsWith('/0/private/CancelAll')) cancelArrivals.push(at);
    },
  });
  const admin = await createPostgresTestDb();
  const proxy = await startStallProxy();
  // The bot reaches PostgreSQL only through the proxy, so stalling it stalls every query the bot makes.
  const database = connectPostgres(proxy.urlFor(admin.url), { max: 10 });

  const botArrivals = new Map<string, number>();
  const arrivalProbe: Feature = {
    name: 'bench-arrivals', roles: ['all', 'web', 'worker'],
    async start(_ctx, http) {
      http.server.prependListener('request', (req) => {
        const id = req.headers['x-bench-id'];
        if (typeof id === 'string') botArrivals.set(id, performance.now());
      });
    },
  };
  const h = await startSlackHarness({
    database,
    env: {
      IS_LIVE: 'true', KRAKEN_API_KEY: TEST_API_KEY, KRAKEN_API_SECRET: TEST_API_SECRET, KRAKEN_API_URL: kraken.url, KRAKEN_RATE_LIMIT: 'false',
      KILL_HTTP_TOKEN: TOKEN, KILL_DB_TIMEOUT: '2s', LOG_LEVEL: 'fatal',
    },
    features: [arrivalProbe, killFeature],
  });

  const inFlight: Array<Promise<unknown>> = [];
  const viaHttp = (id: string) =>
    fetch(`${h.url}/kill`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json', 'x-bench-id': id }, body: JSON.stringify({ reason: `bench ${id}` }) })
      .then((r) => r.text());
  const viaSlack = (id: string) => {
    const body = new URLSearchParams({
      token: 'legacy', team_id: TEAM_ID, team_domain: 'bench', channel_id: OPS_CHANNEL, channel_name: 'ops', user_id: USERS.operator, user_name: 'ops',
      command: '/kill', text: `bench ${id}`, api_app_id: 'A0BENCH', is_enterprise_install: 'false',
      response_url: `${h.fake.url.replace(/\/api\/$/, '')}/respond/${id}`, trigger_id: `trg${id}`,
    }).toString();
    return fetch(`${h.url}/slack/events`, {
      method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-bench-id': id, ...signedHeaders(SIGNING_SECRET, body) }, body,
    }).then((r) => r.text());
  };

  /**
   * Healthy database: each kill is let finish (its response, and the Slack work it started) before
   * the next one, as kills are not fired back to back in an incident; otherwise the previous kill's
   * database writes and replies compete with the next one's cancel for this process's event loop.
   * Stalled database: a kill's remaining work only waits (on the database deadline), so the next
   * one goes after a short pause without waiting for it.
   */
  async function measure(label: string, send: (id: string) => Promise<unknown>, settle: boolean): Promise<number[]> {
    const samples: number[] = [];
    for (let i = 0; i < WARMUP + N; i++) {
      const id = `${label.replace(/\W+/g, '')}${i}${randomBytes(3).toString('hex')}`;
      const before = cancelArrivals.length;
      // Responses are not awaited here: with the database stalled a kill answers only after its
      // database deadline; the next kill must not wait for that to be measured.
      const sent = send(id).catch(() => undefined);
      inFlight.push(sent);
      const deadline = performance.now() + 10_000;
      while (cancelArrivals.length === before && performance.now() < deadline) await sleep(0.2);
      const arrivedAtBot = botArrivals.get(id);
      if (cancelArrivals.length === before || arrivedAtBot === undefined) throw new Error(`${label}: no CancelAll within 10 s of request ${i}`);
      if (i >= WARMUP) samples.push(cancelArrivals[before]! - arrivedAtBot);
      if (settle) {
        await sent;
        await h.idle();
      }
      await sleep(settle ? 5 : 20);
    }
    return samples.sort((a, b) => a - b);
  }

  const rows: Array<{ label: string; samples: number[] }> = [];
  try {
    rows.push({ label: 'POST /kill, database healthy', samples: await measure('http-healthy', viaHttp, true) });
    rows.push({ label: 'Slack /kill, database healthy', samples: await measure('slack-healthy', viaSlack, true) });
    proxy.set('stall');
    rows.push({ label: 'POST /kill, database stalled', samples: await measure('http-stalled', viaHttp, false) });
    rows.push({ label: 'Slack /kill, database stalled', samples: await measure('slack-stalled', viaSlack, false) });
  } finally {
    proxy.set('forward');
  }

  const load = loadavg().map((l) => l.toFixed(2)).join(' ');
  console.log(`kill bench: ${N} kills per case after ${WARMUP} warm-up, ${availableParallelism()} cores, load average ${load}`);
  console.log('time from the /kill request arriving at the bot to CancelAll arriving at the local fake Kraken (ms)');
  let pass = true;
  for (const { label, samples } of rows) {
    const p99 = pct(samples, 99);
    const ok = p99 < FLOOR_P99_MS;
    pass &&= ok;
    console.log(`  ${label.padEnd(32)} p50 ${pct(samples, 50).toFixed(2).padStart(7)}   p99 ${p99.toFixed(2).padStart(7)}   max ${samples.at(-1)!.toFixed(2).padStart(7)}   ${ok ? 'ok' : 'OVER'} (floor p99 < ${FLOOR_P99_MS})`);
  }
  console.log(pass ? 'PASS: every case is under the floor' : 'FAIL: a case is over the floor');

  await Promise.race([Promise.all(inFlight), sleep(15_000)]);
  await h.close().catch(() => {});
  await database.close().catch(() => {});
  await proxy.close();
  await kraken.close();
  await admin.close();
  process.exit(pass ? 0 : 1);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
