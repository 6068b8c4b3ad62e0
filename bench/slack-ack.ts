// Slack ack bench, open loop: signed slash commands sent at fixed rates (default 100 and 300 req/s)
// by this process — the load generator, its own process — to the bot (the web role as it ships:
// every feature of the role, the shipped logger at its level; the real Bolt HTTPReceiver on the
// bot's HTTP server behind its request gate, the bot's own listener table, PostgreSQL) and, in the
// same run, to a bare Bolt app configured like the bot (HTTPReceiver, processBeforeResponse off,
// conversation store off, Bolt's signature check off and one HMAC check in front, as the bot's
// gate) whose only listener acks. Open loop: each request leaves at its scheduled time (never before it), whether or
// not earlier ones were answered, and its latency counts from that scheduled time, so a server that falls behind is charged for the queue it builds (no coordinated
// omission). The bot does its acked work (the reply through response_url) while the load runs; a
// round ends when that work is finished, and its CPU is counted. Each server is its own process; so
// is the fake Slack that takes the bot's replies. Rounds alternate bare/bot at each rate so both see
// the same machine load. Prints per round and pooled p50/p99/max of the time to the HTTP ack, CPU per
// request (user + system of the server process over the round, work after the ack included), the
// load average before and after, and checks every request was answered exactly once. The bot's
// replies are timed too, from each request's due time to its arrival at the fake Slack (no floor:
// it shows what the bot's group commit of claims and trail rows adds under load).
// Floors (issue 15), at every rate: bot p99 ≤ 1.5× bare p99; bot CPU per request ≤ 3× bare's.
// Each round also prints how long each server's main thread and the generator waited for a core
// (runnable, not running: the machine's share of the latency) and each server's GC pauses; --timeline splits the slowest 1 % of each round
// into their parts (bench/slack-ack-timeline.ts; the per-request stamps cost each server a little).
//   npm run bench:slack-ack -- [--rates 100,300] [--seconds 10] [--rounds 3] [--command "/golive status"] [--against DIR] [--timeline]
import { fork, type ChildProcess } from 'node:child_process';
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { Agent, createServer, request } from 'node:http';
import { availableParallelism, loadavg } from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { gcLine, observeGc, schedstat, slowestLine, stampRequests, takeRecords, waitLine, type Arrival, type ClientTimes, type GcPause } from './slack-ack-timeline.js';

const SECRET = 'bench-signing-secret-0123456789abcdef';
const TOKEN = 'xoxb-0000-bench-not-a-real-token';

const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : fallback;
};
const RATES = arg('rates', '100,300').split(',').map(Number).filter((r) => r > 0);
const SECONDS = Number(arg('seconds', '10'));
const ROUNDS = Number(arg('rounds', '3'));
const [COMMAND, ...TEXT] = arg('command', '/golive status').split(' ');
const TIMELINE = process.argv.includes('--timeline');

/** What a server recorded over a round (its GC pauses always; request stamps with --timeline). */
type Records = { pauses: GcPause[]; arrivals: Arrival[] };
type Msg = { kind: 'ready'; port: number; url?: string } | { kind: 'idle'; ms: number; cpuMs: number; waitMs?: number; turns?: number; loop: { p99: number; max: number }; records?: Records } | { kind: 'count'; replies: number; calls: number; arrivals: Record<string, number> } | { kind: 'done' };

function send(child: ChildProcess, msg: unknown): void {
  child.send(msg as never);
}

function next(child: ChildProcess, kind: Msg['kind']): Promise<Msg> {
  return new Promise((resolve, reject) => {
    const onMessage = (m: Msg) => {
      if (m.kind !== kind) return;
      child.off('message', onMessage);
      child.off('exit', onExit);
      resolve(m);
    };
    const onExit = (code: number | null) => reject(new Error(`child exited (${code}) while waiting for ${kind}`));
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}

// ---------------------------------------------------------------- children
let cpuMark = process.cpuUsage();
// Sampled every 20 ms, in the servers only: at a 1 ms resolution the sampler's own timer cost each
// server about 30 ms of CPU a second here (0.1 ms per request at 300 req/s, 0.3 at 100), added
// alike to bare and bot, which pulled their CPU ratio towards 1. The stalls it is there to show
// (the machine, not the code, holding a request) are tens of milliseconds long.
const loopDelay = monitorEventLoopDelay({ resolution: 20 });
if (process.argv[2] === 'bot' || process.argv[2] === 'bare') {
  loopDelay.enable();
  observeGc();
  if (process.env.BENCH_TIMELINE === '1') stampRequests();
}
/** The event loop's delay (p99, max in ms) since the last call: how long a ready request could wait. */
function loopSince(): { p99: number; max: number } {
  const out = { p99: loopDelay.percentile(99) / 1e6, max: loopDelay.max / 1e6 };
  loopDelay.reset();
  return out;
}
let waitMark = schedstat();
/**
 * How long this process's main thread (the one that reads requests) was runnable but not running
 * since the last call, in ms (Linux's /proc/thread-self/schedstat; NaN elsewhere): the time it
 * waited for one of the machine's cores, whoever held them.
 */
function waitSince(): { waitMs: number; turns: number } {
  const now = schedstat();
  const d = { waitMs: now[1] - waitMark[1], turns: now[2] - waitMark[2] };
  waitMark = now;
  return d;
}
/** CPU time (user + system) this process used since the last call, in ms. */
function cpuSince(): number {
  const d = process.cpuUsage(cpuMark);
  cpuMark = process.cpuUsage();
  return (d.user + d.system) / 1000;
}

async function runBare(): Promise<void> {
  const { App, HTTPReceiver } = await import('@slack/bolt');
  // Configured like the bot's (src/slack/create-app.ts): no conversation store, ack before the work,
  // Bolt's own signature check off and one check in front of it (read the body once, one HMAC, a
  // constant-time compare, the timestamp both ways), as the bot's gate does. Bolt's check costs
  // about 18 µs more a request (a parse for the SSL check, two more HMACs and random bytes for its
  // comparison): left on, it made the bare app dearer and so flattered the bot's CPU ratio by ~5 %.
  const receiver = new HTTPReceiver({ signingSecret: SECRET, endpoints: '/slack/events', processBeforeResponse: false, signatureVerification: false });
  const app = new App({ receiver, token: TOKEN, tokenVerificationEnabled: false, botId: 'B0BENCH', botUserId: 'UBOT0BENCH', convoStore: false, extendedErrorHandler: true });
  app.command(/.*/, async ({ ack }) => {
    await ack();
  });
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      const ts = req.headers['x-slack-request-timestamp'];
      const given = Buffer.from(String(req.headers['x-slack-signature'] ?? ''));
      const expected = Buffer.from(`v0=${createHmac('sha256', SECRET).update(`v0:${String(ts)}:${raw.toString('utf8')}`).digest('hex')}`);
      if (Math.abs(Number(ts) - Date.now() / 1000) > 300 || given.length !== expected.length || !timingSafeEqual(given, expected)) {
        res.writeHead(401);
        res.end();
        return;
      }
      // Bolt reads the body already read (rawBody) instead of the drained stream.
      (req as typeof req & { rawBody?: Buffer }).rawBody = raw;
      receiver.requestListener(req, res);
    });
  });
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  process.on('message', (m: { kind: string }) => {
    if (m.kind === 'idle') send(process as unknown as ChildProcess, { kind: 'idle', ms: 0, cpuMs: cpuSince(), ...waitSince(), loop: loopSince(), records: takeRecords() });
    if (m.kind === 'stop') server.close(() => process.exit(0));
  });
  send(process as unknown as ChildProcess, { kind: 'ready', port: (server.address() as { port: number }).port });
}

// Slack's side of the bot's replies: in production Slack's servers take them, not this machine, so
// the stand-in does as little as it can (count, answer ok) to leave the CPU to the bot under test.
async function runFake(): Promise<void> {
  let replies = 0;
  let calls = 0;
  // When each reply arrived (wall clock, ms, as the generator's schedule is kept), by trigger id.
  let arrivals: Record<string, number> = {};
  const ok = Buffer.from(JSON.stringify({ ok: true, channel: 'C0BENCH', ts: '1700000000.000100' }));
  const server = createServer((req, res) => {
    calls += 1;
    const respond = req.url?.indexOf('/respond/') ?? -1;
    if (respond >= 0) {
      replies += 1;
      arrivals[req.url!.slice(respond + 9)] = performance.timeOrigin + performance.now();
    }
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': ok.length });
      res.end(ok);
    });
  });
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  process.on('message', (m: { kind: string }) => {
    if (m.kind === 'count') {
      send(process as unknown as ChildProcess, { kind: 'count', replies, calls, arrivals });
      replies = 0;
      calls = 0;
      arrivals = {};
    }
    if (m.kind === 'stop') server.close(() => process.exit(0));
  });
  send(process as unknown as ChildProcess, { kind: 'ready', port: 0, url: `http://127.0.0.1:${(server.address() as { port: number }).port}/api/` });
}

async function runBot(): Promise<void> {
  const { startBot } = await import('../src/app/runtime.js');
  const { features } = await import('../src/app/features.js');
  const { readEnv } = await import('../src/config/env.js');
  const { createSlackFeature } = await import('../src/slack/feature.js');
  const { createLogger } = await import('../src/logger.js');
  const { mkdtempSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const dir = mkdtempSync(join(tmpdir(), 'ctb-bench-slack-'));
  // The environment `ctb start --role web` reads: shipped defaults for everything not named here
  // (LOG_LEVEL info, LOG_FORMAT auto: JSON on this pipe, LOG_DIR files written).
  const config = readEnv({
    DATABASE_URL: process.env.BENCH_DATABASE_URL, SLACK_BOT_TOKEN: TOKEN, SLACK_SIGNING_SECRET: SECRET, SLACK_API_URL: process.env.BENCH_SLACK_URL,
    SLACK_OPERATORS: 'UOPERATOR1', SLACK_APPROVERS: 'UAPPROVER1,UAPPROVER2', DATA_DIR: join(dir, 'data'), LOG_DIR: join(dir, 'logs'),
    HOST: '127.0.0.1', PORT: '0', MARKET_FEED: 'replay',
  });
  let slack: { idle(): Promise<void> } | undefined;
  // The shipped feature list of the web role (health, metrics, alerts, kill, mode, Slack, summaries);
  // the Slack feature is the shipped one with a hook that hands the bench its in-flight count.
  const feature = createSlackFeature({ identity: { botId: 'B0BENCH', botUserId: 'UBOT0BENCH', teamId: 'T0BENCH' }, onStarted: (s) => (slack = s) });
  // The logger as `ctb start` makes it: the running bot is the process that rotates LOG_DIR.
  const bot = await startBot({ config, logger: createLogger({ config, rotate: true }), role: 'web', feed: 'replay', port: 0, features: features.map((f) => (f.name === 'slack' ? feature : f)) });
  process.on('message', (m: { kind: string }) => {
    if (m.kind === 'idle') {
      const t0 = performance.now();
      void slack!.idle().then(() => send(process as unknown as ChildProcess, { kind: 'idle', ms: performance.now() - t0, cpuMs: cpuSince(), ...waitSince(), loop: loopSince(), records: takeRecords() }));
    }
    if (m.kind === 'stop') {
      void bot.stop().then(() => {
        // Its data and logs: a bench leaves nothing behind in the temp directory.
        rmSync(dir, { recursive: true, force: true });
        process.exit(0);
      });
    }
  });
  send(process as unknown as ChildProcess, { kind: 'ready', port: bot.port });
}

// ---------------------------------------------------------------- load generator
const agent = new Agent({ keepAlive: true, maxSockets: 512 });

function slashBody(responseBase: string, trigger: string): string {
  return new URLSearchParams({
    token: 'legacy', team_id: 'T0BENCH', team_domain: 'bench', channel_id: 'C0BENCH', channel_name: 'bench',
    user_id: 'UREADER1', user_name: 'bench', command: COMMAND!, text: TEXT.join(' '), api_app_id: 'A0BENCH',
    is_enterprise_install: 'false', response_url: `${responseBase}respond/${trigger}`, trigger_id: trigger,
  }).toString();
}

interface Signed {
  trigger: string;
  body: string;
  headers: Record<string, string | number>;
}

/** A request as Slack signs it (body, timestamp, signature): made before the round, so sending costs only the send. */
function signed(trigger: string, body: string): Signed {
  const ts = String(Math.floor(Date.now() / 1000));
  return {
    trigger,
    body,
    headers: {
      'content-type': 'application/x-www-form-urlencoded', 'content-length': Buffer.byteLength(body),
      'x-slack-request-timestamp': ts, 'x-slack-signature': `v0=${createHmac('sha256', SECRET).update(`v0:${ts}:${body}`).digest('hex')}`,
    },
  };
}

/** Sends one request now; resolves with the time from `scheduledAt` to the end of its HTTP 200. */
function post(port: number, req: Signed, scheduledAt: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const r = request({ host: '127.0.0.1', port, path: '/slack/events', method: 'POST', agent, headers: req.headers }, (res) => {
      res.resume();
      res.on('end', () => (res.statusCode === 200 ? resolve(performance.now() - scheduledAt) : reject(new Error(`HTTP ${res.statusCode}`))));
    });
    r.on('error', reject);
    r.end(req.body);
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Open loop: request i is due at start + i / rate and leaves then, answered or not; its latency
 * counts from when it was due (a server that falls behind is charged for its queue, and so is a
 * generator starved of CPU by it). It never leaves before it is due: a timer can fire up to a
 * millisecond early by performance.now() (libuv's clock is whole milliseconds, read at the start of
 * the loop's turn), and a request sent early had its latency counted from a later instant than its
 * send — a fast answer came out negative (p50 −0.1 ms at 300 req/s). `lags` is how late each left.
 */
async function round(port: number, responseBase: string, rate: number, total: number): Promise<{ latencies: number[]; lags: number[]; due: Map<string, number>; client: ClientTimes[]; unanswered: number }> {
  const unanswered: string[] = [];
  const requests = Array.from({ length: total }, (_, i) => {
    const trigger = `trg${randomBytes(8).toString('hex')}${i}`;
    return signed(trigger, slashBody(responseBase, trigger));
  });
  const pending: Promise<number>[] = [];
  const lags: number[] = [];
  // Each request's due time on the wall clock, to time its reply's arrival at the fake Slack.
  const due = new Map<string, number>();
  // With --timeline: each request's due, sent and answered times, by trigger id.
  const client: ClientTimes[] = [];
  const start = performance.now() + 5;
  for (let i = 0; i < total; i++) {
    const at = start + (i * 1000) / rate;
    for (let wait = at - performance.now(); wait > 0; wait = at - performance.now()) await sleep(wait);
    lags.push(performance.now() - at);
    due.set(requests[i]!.trigger, performance.timeOrigin + at);
    const sent = performance.now();
    const trigger = requests[i]!.trigger;
    // A request the server never answered (its connection reset, an HTTP error) is charged as never
    // answered: counted, said, and the floors fail — not an unhandled rejection that ends the run
    // while the round still sends (and leaves the servers running).
    const answered = post(port, requests[i]!, at).catch((err: unknown) => {
      unanswered.push(err instanceof Error ? err.message : String(err));
      return Number.POSITIVE_INFINITY;
    });
    if (TIMELINE) void answered.then((ms) => client.push({ trigger, due: performance.timeOrigin + at, sent: performance.timeOrigin + sent, answered: performance.timeOrigin + at + ms }), () => undefined);
    pending.push(answered);
  }
  const latencies = await Promise.all(pending);
  if (unanswered.length > 0) console.log(`${rate} req/s: ${unanswered.length} of ${total} requests to port ${port} NOT ANSWERED (first: ${unanswered[0]}); counted as never answered`);
  return { latencies, lags, due, client, unanswered: unanswered.length };
}

const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? 0;
const ms = (v: number) => `${v.toFixed(1)} ms`;
/** How late the generator sent (p50/p99 ms): part of every latency, the same for both targets unless one starves it. */
const lagLine = (lags: number[]) => {
  const s = [...lags].sort((x, y) => x - y);
  return `${pct(s, 50).toFixed(2)}/${pct(s, 99).toFixed(2)} ms`;
};
/** A request's reply at the fake Slack, counted from when the request was due: p50/p99 ms. */
const replyLine = (times: number[]) => {
  const s = [...times].sort((x, y) => x - y);
  return `${pct(s, 50).toFixed(1)}/${pct(s, 99).toFixed(1)} ms`;
};
/** The median pair ratios of the rounds in which the bot ran second (or first), and how many. */
function orderLine(pairs: { cpu: number[]; p99: number[]; botSecond: boolean[] }, botSecond: boolean): string {
  const pick = (xs: number[]) => xs.filter((_, i) => pairs.botSecond[i] === botSecond).sort((x, y) => x - y);
  const cpu = pick(pairs.cpu);
  const p99 = pick(pairs.p99);
  const mid = (xs: number[]) => (xs.length === 0 ? '—' : xs[Math.floor(xs.length / 2)]!.toFixed(3));
  return `bot ${botSecond ? 'second' : 'first'}: CPU ${mid(cpu)} p99 ${mid(p99)} (${cpu.length})`;
}
const loadLine = () => `${loadavg().map((l) => l.toFixed(2)).join(', ')} on ${availableParallelism()} cores`;

/** A bot under test: the one this checkout ships, or (--against) another checkout's, for an A/B in one run. */
interface BotTarget {
  name: string;
  child: ChildProcess;
  port: number;
  log: { lines: number; shown: number };
}

interface Measured {
  latencies: number[];
  lags: number[];
  cpuMs: number;
  loopMax: number;
  drainMs: number;
  replies: number;
  /** Request due → its reply at the fake Slack (ms), for the bot. */
  replyLatencies: number[];
  logLines: number;
  /** The server's records over the round (absent from a bot whose bench predates them, under --against). */
  records?: Records;
  client: ClientTimes[];
  /** The server's main thread runnable but not running over the round, ms, and its turns on a core (NaN off Linux, or from a bot whose bench predates it). */
  waitMs: number;
  turns: number;
  /** The generator's own thread runnable but not running while it sent this round's requests, ms. */
  genWaitMs: number;
}

async function main(): Promise<void> {
  const { createPostgresTestDb } = await import('../tests/support/db.js');
  const database = await createPostgresTestDb();
  const self = fileURLToPath(import.meta.url);
  // --against DIR: a second bot from another checkout of this repository (its bench/slack-ack.ts in
  // the bot role, so its own src/), measured in the same rounds: paired A/B of two builds.
  const againstDir = arg('against', '');
  // A run that adds work beside the servers (--timeline's stamps, --against's third server) prints its figures, not a verdict.
  // So does one with a profiler or GC tracing in a server (BENCH_PROFILE, BENCH_TRACE_GC), which the shipped bot has not.
  const profiled = [process.env.BENCH_PROFILE ? `BENCH_PROFILE=${process.env.BENCH_PROFILE} (--cpu-prof)` : '', process.env.BENCH_TRACE_GC ? `BENCH_TRACE_GC=${process.env.BENCH_TRACE_GC} (--trace-gc)` : ''].filter(Boolean).join(', ');
  const unjudged = TIMELINE || againstDir !== '' || profiled !== '';
  const profile = (role: string) => (process.env.BENCH_PROFILE === role ? ['--cpu-prof', '--cpu-prof-dir=/tmp/ctb-slack-ack-prof'] : process.env.BENCH_TRACE_GC === role ? ['--trace-gc'] : []);
  const spawn = (role: string, env: Record<string, string> = {}, script = self, label = role) =>
    fork(script, [role], { execArgv: ['--import', 'tsx', ...profile(label)], env: { ...process.env, ...env, BENCH_TIMELINE: TIMELINE ? '1' : '0' }, stdio: ['ignore', role === 'bot' ? 'pipe' : 'inherit', 'inherit', 'ipc'] });
  const fake = spawn('fake');
  const fakeReady = (await next(fake, 'ready')) as { url: string };
  const bare = spawn('bare');
  const botEnv = { BENCH_DATABASE_URL: database.url, BENCH_SLACK_URL: fakeReady.url };
  const botChildren = [{ name: 'bot', child: spawn('bot', botEnv) }];
  if (againstDir) botChildren.push({ name: 'base', child: spawn('bot', botEnv, `${againstDir.replace(/\/$/, '')}/bench/slack-ack.ts`, 'base') });
  const bareReady = (await next(bare, 'ready')) as { port: number };
  const bots: BotTarget[] = [];
  for (const { name, child } of botChildren) {
    // The bot logs as it ships (JSON lines on standard output, as under a process manager): counted
    // per round, and any warning or error shown, since a bot that logs per request pays for it.
    const log = { lines: 0, shown: 0 };
    let partial = '';
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      const lines = (partial + chunk).split('\n');
      partial = lines.pop() ?? '';
      log.lines += lines.length;
      for (const line of lines) {
        if (/"level":(4|5|6)0/.test(line) && log.shown < 5) {
          log.shown += 1;
          console.error(`${name} log: ${line.slice(0, 300)}`);
        }
      }
    });
    bots.push({ name, child, log, port: ((await next(child, 'ready')) as { port: number }).port });
  }
  const bot = bots[0]!;
  const responseBase = fakeReady.url.replace(/api\/$/, '');
  const children = [...bots.map((b) => b.child), bare, fake];

  let unansweredTotal = 0;
  const measureBare = async (rate: number, total: number): Promise<Measured> => {
    send(bare, { kind: 'idle' });
    await next(bare, 'idle');
    const gen = schedstat()[1];
    const { latencies, lags, client, unanswered } = await round(bareReady.port, responseBase, rate, total);
    unansweredTotal += unanswered;
    const genWaitMs = schedstat()[1] - gen;
    send(bare, { kind: 'idle' });
    const idle = (await next(bare, 'idle')) as { cpuMs: number; waitMs?: number; turns?: number; loop: { p99: number; max: number }; records?: Records };
    return { latencies, lags, cpuMs: idle.cpuMs, loopMax: idle.loop.max, drainMs: 0, replies: 0, replyLatencies: [], logLines: 0, records: idle.records, client, waitMs: idle.waitMs ?? Number.NaN, turns: idle.turns ?? Number.NaN, genWaitMs };
  };
  const measureBot = async (target: BotTarget, rate: number, total: number): Promise<Measured> => {
    send(target.child, { kind: 'idle' });
    await next(target.child, 'idle');
    send(fake, { kind: 'count' });
    await next(fake, 'count');
    const linesBefore = target.log.lines;
    const gen = schedstat()[1];
    const { latencies, lags, due, client, unanswered } = await round(target.port, responseBase, rate, total);
    unansweredTotal += unanswered;
    const genWaitMs = schedstat()[1] - gen;
    send(target.child, { kind: 'idle' });
    const drained = (await next(target.child, 'idle')) as { ms: number; cpuMs: number; waitMs?: number; turns?: number; loop: { p99: number; max: number }; records?: Records };
    send(fake, { kind: 'count' });
    const counted = (await next(fake, 'count')) as { replies: number; arrivals: Record<string, number> };
    const replyLatencies = Object.entries(counted.arrivals).flatMap(([trigger, at]) => (due.has(trigger) ? [at - due.get(trigger)!] : []));
    return { latencies, lags, cpuMs: drained.cpuMs, loopMax: drained.loop.max, drainMs: drained.ms, replies: counted.replies, replyLatencies, logLines: target.log.lines - linesBefore, records: drained.records, client, waitMs: drained.waitMs ?? Number.NaN, turns: drained.turns ?? Number.NaN, genWaitMs };
  };

  try {
    console.log(`Slack ack bench, open loop: signed \`${[COMMAND, ...TEXT].join(' ')}\` at ${RATES.join(' and ')} req/s for ${SECONDS} s per target per round, ${ROUNDS} rounds (+1 warm-up at the first rate, discarded), bare/bot alternating; shipped bot configuration (the sources under tsx, Node's source maps off as in the built ctb), except that its replies go over plain HTTP to a local stand-in for Slack (Slack's are HTTPS: TLS costs the bot more than counted here); both servers observe their GC pauses (perf_hooks)` +
      (profiled ? `; ${profiled} in a server, which the shipped bot does not run with: the floors are not judged` : '') +
      (TIMELINE ? '; --timeline: both servers stamp every request and read /proc for it, which the shipped bot does not: latency and CPU here are not the floors\' and the floors are not judged' : '') +
      (againstDir ? `; A/B: a second bot ("base") from ${againstDir} in the same rounds, bot and base in alternating order — a third server on the cores, so the floors are not judged` : ''));
    console.log(`load average before: ${loadLine()}`);
    const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)] ?? 0;
    const mean = (xs: number[]) => xs.reduce((a, x) => a + x, 0) / Math.max(1, xs.length);
    let pass = true;
    let warmed = false;
    for (const rate of RATES) {
      const total = Math.round(rate * SECONDS);
      const all = { bare: [] as number[], bot: [] as number[], base: [] as number[] };
      const cpu = { bare: [] as number[], bot: [] as number[], base: [] as number[] };
      // Each pair's ratios, and which bot ran second in its round (see the A/B pooled line).
      const pairs = { cpu: [] as number[], p99: [] as number[], botSecond: [] as boolean[] };
      const drains: number[] = [];
      const replyTimes = { bot: [] as number[], base: [] as number[] };
      let replies = 0;
      for (let r = warmed ? 1 : 0; r <= ROUNDS; r += 1) {
        const b = await measureBare(rate, total);
        // With --against, the two bots run back to back in alternating order (the pair saw the same load).
        const order = r % 2 === 0 ? bots : [...bots].reverse();
        const got = new Map<string, Measured>();
        for (const target of order) got.set(target.name, await measureBot(target, rate, total));
        const t = got.get('bot')!;
        const sorted = (xs: number[]) => [...xs].sort((x, y) => x - y);
        const sb = sorted(b.latencies);
        const st = sorted(t.latencies);
        const lowest = Math.min(sb[0]!, ...[...got.values()].map((m) => Math.min(...m.latencies)));
        if (lowest < 0) throw new Error(`a negative latency (${lowest} ms): a request left before it was due`);
        if (r === 0) {
          warmed = true;
          console.log(`warm-up at ${rate} req/s: bare p99 ${ms(pct(sb, 99))}, bot p99 ${ms(pct(st, 99))} (discarded)`);
          continue;
        }
        all.bare.push(...b.latencies);
        all.bot.push(...t.latencies);
        drains.push(t.drainMs);
        cpu.bare.push(b.cpuMs / total);
        cpu.bot.push(t.cpuMs / total);
        replies += t.replies;
        replyTimes.bot.push(...t.replyLatencies);
        console.log(`${rate} req/s round ${r}: bare p50 ${ms(pct(sb, 50))} p99 ${ms(pct(sb, 99))} | bot p50 ${ms(pct(st, 50))} p99 ${ms(pct(st, 99))}` +
          ` | bot finished its acked work ${ms(t.drainMs)} after the last ack | replies ${t.replies}/${total}, at Slack p50/p99 ${replyLine(t.replyLatencies)}` +
          ` | CPU per request: bare ${(b.cpuMs / total).toFixed(2)} ms, bot ${(t.cpuMs / total).toFixed(2)} ms | event-loop delay max: bare ${ms(b.loopMax)}, bot ${ms(t.loopMax)}` +
          ` | bot log lines ${t.logLines} | sent late by p50/p99: bare ${lagLine(b.lags)}, bot ${lagLine(t.lags)}` +
          ` | waited for a core (runnable, not running): bare's main thread ${waitLine(b.waitMs, b.turns)}, bot's ${waitLine(t.waitMs, t.turns)}, the generator in bare's round ${waitLine(b.genWaitMs)}, in bot's ${waitLine(t.genWaitMs)} | load ${loadLine()}`);
        // Each server's GC pauses over the round and, with --timeline, what its slowest 1 % were made of.
        const servers: Array<[string, Measured]> = [['bare', b], ...bots.map((x): [string, Measured] => [x.name, got.get(x.name)!])];
        for (const [name, m] of servers) {
          if (m.records) console.log(`${rate} req/s round ${r} ${name}: GC ${gcLine(m.records.pauses)}${TIMELINE ? ` | ${slowestLine(m.client, m.records)}` : ''}`);
        }
        const base = got.get('base');
        if (base) {
          const sa = sorted(base.latencies);
          all.base.push(...base.latencies);
          replyTimes.base.push(...base.replyLatencies);
          cpu.base.push(base.cpuMs / total);
          pairs.cpu.push(t.cpuMs / base.cpuMs);
          pairs.p99.push(pct(st, 99) / pct(sa, 99));
          pairs.botSecond.push(order[1]?.name === 'bot');
          console.log(`${rate} req/s round ${r} A/B (${order.map((x) => x.name).join(' then ')}): base p50 ${ms(pct(sa, 50))} p99 ${ms(pct(sa, 99))} | CPU per request base ${(base.cpuMs / total).toFixed(2)} ms, bot ${(t.cpuMs / total).toFixed(2)} ms` +
            ` | bot/base CPU ${(t.cpuMs / base.cpuMs).toFixed(3)} p99 ${(pct(st, 99) / pct(sa, 99)).toFixed(3)} | replies ${base.replies}/${total}, at Slack p50/p99 ${replyLine(base.replyLatencies)} | base log lines ${base.logLines} | sent late p50/p99 ${lagLine(base.lags)} | waited for a core: base's main thread ${waitLine(base.waitMs, base.turns)}, the generator in base's round ${waitLine(base.genWaitMs)}`);
        }
      }
      const sb = all.bare.sort((x, y) => x - y);
      const st = all.bot.sort((x, y) => x - y);
      const ratio = pct(st, 99) / pct(sb, 99);
      const cpuRatio = mean(cpu.bot) / mean(cpu.bare);
      const once = replies === st.length;
      const ok = ratio <= 1.5 && cpuRatio <= 3 && once;
      pass &&= ok;
      console.log(`${rate} req/s pooled: bare p50 ${ms(pct(sb, 50))} p99 ${ms(pct(sb, 99))} max ${ms(sb.at(-1) ?? 0)} | bot p50 ${ms(pct(st, 50))} p99 ${ms(pct(st, 99))} max ${ms(st.at(-1) ?? 0)}` +
        ` | p99 bot/bare ${ratio.toFixed(2)}× [≤ 1.5×] | CPU per request bare ${mean(cpu.bare).toFixed(2)} ms, bot ${mean(cpu.bot).toFixed(2)} ms = ${cpuRatio.toFixed(2)}× [≤ 3×]` +
        ` | replies ${replies}/${st.length} (${once ? 'each once' : 'NOT each once'}), at Slack p50/p99 ${replyLine(replyTimes.bot)} (no floor) | bot drain median ${ms(median(drains))} | ${unjudged ? 'not judged' : ok ? 'PASS' : 'FAIL'}`);
      if (bots.length > 1) {
        const sa = all.base.sort((x, y) => x - y);
        console.log(`${rate} req/s A/B pooled: base p99 ${ms(pct(sa, 99))} CPU ${mean(cpu.base).toFixed(3)} ms, bot p99 ${ms(pct(st, 99))} CPU ${mean(cpu.bot).toFixed(3)} ms` +
          ` | replies at Slack p50/p99 base ${replyLine(replyTimes.base)}, bot ${replyLine(replyTimes.bot)} | pair ratios bot/base, median of ${pairs.cpu.length}: CPU ${median(pairs.cpu).toFixed(3)} p99 ${median(pairs.p99).toFixed(3)}` +
          ` | by order (the one run second in a round has paid more CPU here; an odd --rounds has the bot second once more): ${orderLine(pairs, true)}, ${orderLine(pairs, false)} | pooled p99 ${(pct(st, 99) / pct(sa, 99)).toFixed(3)} | base vs bare: p99 ${(pct(sa, 99) / pct(sb, 99)).toFixed(2)}× CPU ${(mean(cpu.base) / mean(cpu.bare)).toFixed(2)}×`);
      }
    }
    console.log(`load average after: ${loadLine()}`);
    if (unansweredTotal > 0) {
      pass = false;
      console.log(`${unansweredTotal} requests were NOT ANSWERED over the run (lines above): every request answered once fails`);
    }
    const verdict = TIMELINE ? 'NOT JUDGED (--timeline adds work to every request)' : againstDir ? 'NOT JUDGED (--against runs a third server beside bare and bot)' : profiled ? `NOT JUDGED (${profiled})` : pass ? 'PASS' : 'FAIL';
    console.log(`floors (at every rate: bot p99 ≤ 1.5× bare, CPU per request ≤ 3× bare, every request answered once): ${verdict}`);
    process.exitCode = pass && !unjudged ? 0 : 1;
  } finally {
    for (const c of children) send(c, { kind: 'stop' });
    await Promise.all(children.map((c) => new Promise((resolve) => (c.exitCode !== null ? resolve(null) : c.once('exit', resolve)))));
    agent.destroy();
    await database.close();
  }
}

const role = process.argv[2] ?? 'main';
// Both servers run the sources under tsx, which turns Node's source-map support on; the built `ctb`
// runs without it (no --enable-source-maps). With it on, every stack trace made while serving a
// request is mapped through the source maps, a cost the shipped bot does not pay: turned off here, as
// it ships, for the bot and the bare app alike.
if (role === 'bot' || role === 'bare') process.setSourceMapsEnabled(false);
const run = role === 'bot' ? runBot : role === 'bare' ? runBare : role === 'fake' ? runFake : main;
run().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
