// The CLI beside a trading bot on the embedded database (PGlite), as it fails: a real `ctb start --feed
// replay` child on a fresh DATA_DIR trades while CLI commands run — `ctb mode status` and `ctb trades`
// in child processes (each from its one-command script), `ctb stats` and `ctb audit-log` in this
// process (runCli, each run its own connection to the bot's socket, as a child's is: a child for each
// of those twelve runs cost the file some 3 CPU-s more in all) — and in-process socket clients send
// parameterised queries (named and unnamed statements) and read-only transactions.
// PGlite is one session: each client's protocol cycle or transaction must run alone, neither interleaved
// with another client's nor with the bot's own queries. Every answer must be right, no command may fail,
// and the bot keeps writing all along (its lease heartbeat advances, its orders continue). A client that
// sits in an open transaction is cut off with a clear error after the idle bound it is configured
// with (PGLITE_IDLE_IN_TRANSACTION), and the bot goes on.
import { spawn } from 'node:child_process';
import { connect } from 'node:net';
import { mkdtempSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import postgres from 'postgres';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from '../../../src/cli/program.js';
import { readLock } from '../../../src/db/pglite-lock.js';
import { BIN, startBotProcess, waitUntil, type BotProcess } from '../../support/bot-process.js';
import { writeTradingReplay } from '../../support/trading-replay.js';

interface Run { args: string[]; code: number | null; stdout: string; stderr: string }

function ctb(args: string[], env: Record<string, string>, cwd: string): Promise<Run> {
  return new Promise((resolve) => {
    // A command stuck on a confused session would hang the test: 60 s is far beyond a healthy one.
    const child = spawn(process.execPath, [BIN, ...args], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += String(d)));
    child.stderr.on('data', (d) => (stderr += String(d)));
    child.on('exit', (code) => resolve({ args, code, stdout, stderr }));
  });
}

/** `ctb args` run here, as runCli runs it in the binary, with the child's environment and directory. */
async function ctbHere(args: string[], env: Record<string, string>, cwd: string): Promise<Run> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(args, {
    env: { ...env }, cwd,
    stdout: { write: (text: string, done?: (err?: Error | null) => void) => { stdout += text; done?.(); return true; } },
    stderr: { write: (text: string) => (stderr += text) },
  });
  return { args, code, stdout, stderr };
}

const orders = (b: BotProcess) => (b.output().match(/"event":"order"[^\n]*"symbol":"BTC\/USD"/g) ?? []).length;

const running: BotProcess[] = [];
afterEach(() => {
  for (const b of running.splice(0)) b.kill('SIGKILL');
});

describe('CLI and socket clients beside a trading bot on PGlite', () => {
  it('gets every answer right, with no error, while the bot keeps writing; an idle transaction is cut off, not the bot', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ctb-sock-'));
    // 250 round trips (9,500 candles) play for at least 190 s at 20 ms a candle, past the test's 180 s
    // timeout, so the bot trades until the end however slowly it runs: the 38,000 candles of 1000
    // cost its start some 0.6 CPU-s more to write and parse.
    const { replayFile, strategiesFile } = writeTradingReplay(dir, { roundTrips: 250 });
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '', HOME: dir, MARKET_FEED: 'replay', REPLAY_FILE: replayFile, STRATEGIES_FILE: strategiesFile,
      REPLAY_INTERVAL: '20ms', PORT: '0', HOST: '127.0.0.1', DATA_DIR: join(dir, 'data'), LOG_DIR: join(dir, 'logs'), LOG_LEVEL: 'info',
      RISK_MAX_ORDERS_PER_MINUTE: '1000', RISK_DAILY_LOSS_PCT: '100', RISK_MAX_DRAWDOWN_PCT: '100', RISK_HARD_DRAWDOWN_PCT: '100',
      // The idle bound the idle client below is cut off after: shorter than the shipped 5s, which the
      // rounds' clients (each message answered before the next is sent) stay well within all the same.
      PGLITE_IDLE_IN_TRANSACTION: '2s',
    };
    const bot = startBotProcess(['start', '--feed', 'replay'], env, dir);
    running.push(bot);
    await bot.waitFor(/ctb running on port/, 120_000);
    await bot.waitFor(/engine lease taken/);
    await bot.waitFor(/"event":"order"/, 60_000);
    const socketPath = readLock(env.DATA_DIR!)?.socketPath;
    expect(socketPath).toBeTruthy();

    // Named prepared statements (postgres.js's default) and unnamed ones (prepare: false).
    const clients = [true, false, true, false].map((prepare) =>
      postgres({ path: socketPath!, username: 'postgres', database: 'postgres', max: 1, onnotice: () => {}, prepare }));
    const heartbeat = async () => new Date((await clients[0]!`select heartbeat_at from engine_lease`)[0]!.heartbeat_at as string).getTime();
    const startBeat = await heartbeat();
    const startOrders = orders(bot);

    const failures: string[] = [];
    let cliRuns = 0;
    let clientRuns = 0;
    // A set amount of work side by side with the bot — each command CLI_ROUNDS times, each client
    // CLIENT_ROUNDS rounds, three and five times the floors asserted below — bounded by 35 s on a
    // machine too loaded to do it all (the floors then still hold or the test fails). A wall-clock
    // window alone made the work, and the CPU it took from the rest of the suite, grow with idle cores.
    const CLI_ROUNDS = 6;
    const CLIENT_ROUNDS = 25;
    const until = Date.now() + 35_000;
    // The point is the bot writing beside them: the work goes on past its set amount until the bot
    // has written a heartbeat and an order since it began (a quick machine may finish it sooner).
    let botWrote = false;
    const more = (i: number, rounds: number) => Date.now() < until && (i < rounds || !botWrote);
    const watchBot = async () => {
      while (!botWrote && Date.now() < until) {
        await new Promise((r) => setTimeout(r, 250));
        botWrote = orders(bot) > startOrders && (await heartbeat()) > startBeat;
      }
    };

    const cliLoop = async (args: string[], check: (r: Run) => void, run = ctb) => {
      for (let i = 0; more(i, CLI_ROUNDS); i++) {
        const r = await run(args, env, dir);
        cliRuns++;
        try {
          expect(r.code, r.stderr).toBe(0);
          check(r);
        } catch (err) {
          failures.push(`ctb ${args.join(' ')}: ${(err as Error).message.split('\n')[0]} ${r.stderr.slice(0, 300)}`);
        }
      }
    };
    const clientLoop = async (sql: postgres.Sql, n: number) => {
      for (let i = 0; more(i, CLIENT_ROUNDS); i++) {
        let timer: NodeJS.Timeout | undefined;
        try {
          await Promise.race([round(sql, n, i), new Promise((_, reject) => (timer = setTimeout(() => reject(new Error('no answer within 20 s')), 20_000)))]);
          clientRuns++;
        } catch (err) {
          failures.push(`client ${n}: ${(err as Error).message.split('\n')[0]}`);
          if ((err as Error).message.startsWith('no answer')) return;
        } finally {
          clearTimeout(timer);
        }
      }
    };
    const round = async (sql: postgres.Sql, n: number, i: number) => {
      const a = n * 1000 + i;
      const [row] = await sql`select ${a}::int + ${7}::int as sum, ${'c' + a}::text as tag, ${a % 2 === 0}::bool as even`;
      expect(row).toEqual({ sum: a + 7, tag: `c${a}`, even: a % 2 === 0 });
      const inTx = await sql.begin('read only', async (tx) => {
        const [ro] = await tx`select current_setting('transaction_read_only') as ro, ${a}::int as a`;
        await tx`select count(*)::int as n from order_intents where id > ${0}`;
        const [again] = await tx`select ${'x' + a}::text as x`;
        return { ro: ro!.ro, a: ro!.a, x: again!.x };
      });
      expect(inTx).toEqual({ ro: 'on', a, x: `x${a}` });
    };

    await Promise.all([
      cliLoop(['mode', 'status', '--json'], (r) => expect(JSON.parse(r.stdout).engine).toMatchObject({ state: 'running', pid: bot.pid, host: hostname() })),
      cliLoop(['stats', '--json'], (r) => expect(typeof JSON.parse(r.stdout)).toBe('object'), ctbHere),
      cliLoop(['trades', '--json'], (r) => expect(typeof JSON.parse(r.stdout)).toBe('object')),
      cliLoop(['audit-log'], (r) => expect(r.stdout.length).toBeGreaterThan(0), ctbHere),
      clientLoop(clients[0]!, 1),
      clientLoop(clients[1]!, 2),
      clientLoop(clients[2]!, 3),
      clientLoop(clients[3]!, 4),
      watchBot(),
    ]);
    console.log(`${cliRuns} CLI runs, ${clientRuns} client rounds, ${failures.length} failures; orders ${startOrders} -> ${orders(bot)}`);

    expect(failures, `${failures.length} failures in ${cliRuns} CLI runs and ${clientRuns} client rounds:\n${failures.slice(0, 10).join('\n')}`).toEqual([]);
    expect(cliRuns).toBeGreaterThan(8);
    expect(clientRuns).toBeGreaterThan(20);
    const loopBeat = await heartbeat();
    expect(loopBeat).toBeGreaterThan(startBeat);
    expect(orders(bot)).toBeGreaterThan(startOrders);

    // A client that opens a transaction and then says nothing is cut off after the idle bound with a
    // clear error; the bot's writes wait at most that long and go on.
    // (A raw protocol client, to read the server's last words: postgres.js reports only CONNECTION_CLOSED.)
    const idleStarted = Date.now();
    const lastWords = await new Promise<string>((resolve) => {
      const sock = connect(socketPath!);
      let got = '';
      sock.on('data', (d) => (got += d.toString('latin1')));
      sock.on('close', () => resolve(got));
      sock.on('error', () => {});
      const params = Buffer.from('user\0postgres\0database\0postgres\0\0');
      const startup = Buffer.alloc(8);
      startup.writeInt32BE(8 + params.length, 0);
      startup.writeInt32BE(196608, 4);
      const begin = Buffer.from('BEGIN\0');
      const q = Buffer.alloc(5);
      q[0] = 0x51;
      q.writeInt32BE(4 + begin.length, 1);
      sock.write(Buffer.concat([startup, params, q, begin]));
    });
    const idleHeldMs = Date.now() - idleStarted;
    expect(lastWords).toMatch(/25P03.*held the bot's embedded database \(one session\) for more than 2000 ms \(PGLITE_IDLE_IN_TRANSACTION\) without sending anything/);
    expect(idleHeldMs).toBeGreaterThanOrEqual(2_000);
    expect(idleHeldMs).toBeLessThan(30_000);
    const beatAfterIdle = await heartbeat();
    // The bot goes on writing: its lease heartbeat moves past the one read after the cut-off.
    await waitUntil(async () => (await heartbeat()) > beatAfterIdle, 30_000, () => `for the bot's heartbeat to move past ${new Date(beatAfterIdle).toISOString()} after the idle client was cut off`);
    const endBeat = await heartbeat();
    await Promise.all(clients.map((c) => c.end({ timeout: 5 })));
    expect(endBeat).toBeGreaterThan(beatAfterIdle);
    expect(orders(bot)).toBeGreaterThan(startOrders);
    expect(bot.output()).not.toMatch(/read-only transaction|current transaction is aborted|prepared statement/);
    expect(bot.proc.exitCode).toBeNull();

    bot.kill('SIGTERM');
    expect(await bot.exited).toBe(0);
  }, 180_000);
});
