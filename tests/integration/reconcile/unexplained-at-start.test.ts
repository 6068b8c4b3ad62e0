// Start reconciliation that fails closed, with the shipped `ctb start` in a child process against a
// Kraken stand-in (the simulator) that holds an open order and a fill nobody placed: the armed engine
// halts (reason "reconciliation") with a critical alert listing both, cancels on Kraken as any halt
// does, and runs no strategy while blocked; from an operator's shell without the key `ctb reconcile`
// lists each with what to do, cancel and adopt are carried out by the engine's process, and once the
// last difference is resolved the halt lifts and the engine trades live.
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { runCli } from '../../../src/cli/program.js';
import { execute } from '../../../src/db/client.js';
import { startBotProcess, waitUntil, type BotProcess } from '../../support/bot-process.js';
import { createPostgresTestDb, type TestDatabase } from '../../support/db.js';
import { TEST_API_KEY, TEST_API_SECRET } from '../../support/kraken-test-keys.js';
import { ROUND_TRIP_CANDLES, startSteppedKraken, type SteppedKraken } from '../../support/stepped-kraken.js';
import { writeTradingReplay } from '../../support/trading-replay.js';

const FOREIGN_ORDER = 'OFORGN-AAAAA-BBBBBB';
const FOREIGN_TRADE = 'TFORGN-AAAAA-BBBBBB';

let database: TestDatabase | undefined;
let kraken: SteppedKraken | undefined;
let running: BotProcess | undefined;
afterEach(() => running?.kill('SIGKILL'));
afterAll(async () => {
  await kraken?.close();
  await database?.close();
});

/** The engine logs each order it sends at info level (event "order", JSON when piped). */
const orders = (b: BotProcess) => (b.output().match(/"event":"order"[^\n]*"symbol":"BTC\/USD"/g) ?? []).length;

describe('an armed engine starting with something on Kraken it cannot explain', () => {
  it('halts with a critical alert and runs no strategy; ctb reconcile lists each difference, cancel and adopt resolve them through the engine, and then it trades live', async () => {
    database = await createPostgresTestDb();
    const db = database.db;
    const nowSec = Math.floor(Date.now() / 1000);
    kraken = await startSteppedKraken({
      // Placed by hand on the account: a resting buy far below the market, and a bought 0.01 BTC.
      orders: [{ txid: FOREIGN_ORDER, cl_ord_id: 'by-hand-1', pair: 'XBTUSD', type: 'buy', ordertype: 'limit', price: '30000.0', vol: '0.01000000', vol_exec: '0.00000000', status: 'open', opentm: nowSec - 600 }],
      trades: [{ txid: FOREIGN_TRADE, ordertxid: 'OFORG2-AAAAA-BBBBBB', pair: 'XXBTZUSD', time: nowSec - 300, type: 'buy', ordertype: 'market', price: '59000.0', vol: '0.01000000', fee: '1.53400' }],
      balances: { ZUSD: '10000.0000', XXBT: '0.0100000000' },
    });
    const k = kraken;
    // Live, and reconciled up to an hour ago: Kraken's fills since then must all be explained.
    await db.execute(sql`insert into bot_state (id, mode, reconciled_through) values (1, 'live', now() - interval '1 hour')
      on conflict (id) do update set mode = 'live', reconciled_through = now() - interval '1 hour'`);
    const state = async () => (await execute<{ halted: boolean; halted_reason: string | null; halted_by: string | null; reconciliation_blocked: boolean; reconciliation_details: { differences?: Array<{ kind: string; id: string }> } | null }>(
      db, sql`select halted, halted_reason, halted_by, reconciliation_blocked, reconciliation_details from bot_state where id = 1`))[0]!;

    const dir = mkdtempSync(join(tmpdir(), 'ctb-unexplained-'));
    mkdirSync(join(dir, 'shell'));
    const { strategiesFile } = writeTradingReplay(dir, { roundTrips: 1 });
    const bot = startBotProcess(['start', '--role', 'worker'], {
      PATH: process.env.PATH ?? '', HOME: dir, PORT: '0', HOST: '127.0.0.1', DATA_DIR: join(dir, 'data'), LOG_DIR: join(dir, 'logs'), LOG_LEVEL: 'debug',
      DATABASE_URL: database.url, IS_LIVE: 'true', KRAKEN_API_KEY: TEST_API_KEY, KRAKEN_API_SECRET: TEST_API_SECRET, KRAKEN_API_URL: k.url,
      KRAKEN_RATE_LIMIT: 'false', MARKET_FEED: 'kraken', MARKET_POLL_INTERVAL: '100ms', STRATEGIES_FILE: strategiesFile, RECONCILE_PROBE_INTERVAL: '1s',
    }, dir);
    running = bot;

    // An operator's shell: no Kraken key, not armed — what it cannot do, the engine's process does.
    const ctb = async (argv: string[]) => {
      let out = '';
      let err = '';
      const code = await runCli(argv, {
        env: {
          DATABASE_URL: database!.url, IS_LIVE: 'false', DATA_DIR: join(dir, 'shell', 'data'), LOG_DIR: join(dir, 'shell', 'logs'),
          REPORTS_DIR: join(dir, 'shell', 'reports'), LOG_LEVEL: 'warn', RECONCILE_ANSWER_TIMEOUT: '120s',
        },
        cwd: dir, stdout: { write: (s: string) => (out += s) }, stderr: { write: (s: string) => (err += s) },
      });
      return { code, out, err };
    };

    await waitUntil(async () => (await state()).reconciliation_blocked, 120_000, () => `for the start reconciliation to block:\n${bot.output().slice(-3000)}`);
    const blocked = await state();
    expect(blocked).toMatchObject({ halted: true, halted_reason: 'reconciliation', halted_by: 'system:reconciliation' });
    expect(blocked.reconciliation_details?.differences?.map((d) => `${d.kind} ${d.id}`).sort()).toEqual([`unknown_fill ${FOREIGN_TRADE}`, `unknown_order ${FOREIGN_ORDER}`]);
    // The halt is written first, the alert right after it: wait for the alert, then there is one.
    const blockedAlerts = () => execute<{ severity: string; title: string; details: { differences?: string[] } }>(db, sql`
      select e.severity, e.title, e.details from alert_events e join alert_groups g on g.id = e.group_id where g.fingerprint = 'reconciliation-blocked'`);
    await waitUntil(async () => (await blockedAlerts()).length > 0, 30_000, () => `for the reconciliation alert:\n${bot.output().slice(-3000)}`);
    const alerts = await blockedAlerts();
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({ severity: 'critical', title: expect.stringContaining('2 unexplained difference(s): trading halted') });
    expect(alerts[0]!.details.differences?.join('\n')).toMatch(new RegExp(`unknown_order ${FOREIGN_ORDER}[\\s\\S]*unknown_fill ${FOREIGN_TRADE}|unknown_fill ${FOREIGN_TRADE}[\\s\\S]*unknown_order ${FOREIGN_ORDER}`));
    // A halt means cancel: the engine's process removes what is open on Kraken, this order with it.
    await waitUntil(() => k.sim.state.orders.get(FOREIGN_ORDER)?.status === 'canceled', 60_000, () => `for the halt's cancel on Kraken:\n${bot.output().slice(-3000)}`);

    // The engine runs its feed over two round trips the strategy would trade on: nothing is placed.
    await k.play(2 * ROUND_TRIP_CANDLES);
    expect(k.addOrders()).toBe(0);
    expect(orders(bot)).toBe(0);
    expect(await state()).toMatchObject({ halted: true, reconciliation_blocked: true }); // the cancel alone lifts nothing: a person looks first

    const list = await ctb(['reconcile']);
    expect(list.code).toBe(2); // this shell cannot compare with Kraken itself (no key), and says so
    expect(list.err).toContain('KRAKEN_API_KEY and KRAKEN_API_SECRET are not set');
    expect(list.out).toContain('reconciliation with Kraken: BLOCKED');
    expect(list.out).toContain(`unknown_order ${FOREIGN_ORDER}: open buy 0.01000000 BTC/USD`);
    expect(list.out).toContain(`→ ctb reconcile adopt ${FOREIGN_ORDER}  |  ctb reconcile cancel ${FOREIGN_ORDER}`);
    expect(list.out).toContain(`unknown_fill ${FOREIGN_TRADE}: Kraken filled buy 0.01000000 BTC/USD @ 59000`);
    expect(list.out).toContain(`→ ctb reconcile adopt ${FOREIGN_TRADE}`);
    const resume = await ctb(['resume']);
    expect(resume.code).toBe(1);
    expect(resume.err).toContain('Reconciliation with Kraken has not passed');

    // Cancel, carried out by the engine's process: Kraken no longer lists the order; the fill remains.
    const cancel = await ctb(['reconcile', 'cancel', FOREIGN_ORDER]);
    expect(cancel.code, cancel.out + cancel.err).toBe(0);
    expect(cancel.out).toContain(`Kraken order ${FOREIGN_ORDER} is not open on Kraken: nothing to cancel.`);
    expect(cancel.out).toContain('1 difference(s) remain');
    expect(cancel.out).toMatch(/by the engine's process \(request #\d+\)/);
    expect(await state()).toMatchObject({ halted: true, reconciliation_blocked: true });

    // Adopt, carried out by the engine's process: the foreign buy becomes an external position; nothing remains.
    const adopt = await ctb(['reconcile', 'adopt', FOREIGN_TRADE]);
    expect(adopt.code, adopt.out + adopt.err).toBe(0);
    expect(adopt.out).toContain('the reconciliation halt is lifted');
    const [external] = await execute<{ status: string; mode: string; symbol: string }>(db, sql`select status, mode, symbol from trades where strategy = 'external'`);
    expect(external).toMatchObject({ status: 'open', mode: 'live', symbol: 'BTC/USD' });
    expect(await state()).toMatchObject({ halted: false, reconciliation_blocked: false, reconciliation_details: null });

    // The engine's own gate opens too, and its next signal reaches Kraken.
    await k.play(3 * ROUND_TRIP_CANDLES, { until: () => k.addOrders() > 0 });
    expect(k.addOrders(), bot.output().slice(-3000)).toBeGreaterThan(0);
    expect(orders(bot)).toBeGreaterThan(0);
    expect((await ctb(['reconcile'])).out).toMatch(/reconciliation with Kraken: not blocking live trading — the last reconciliation the bot ran passed, through \d{4}-/);

    bot.kill('SIGTERM');
    expect(await bot.exited).toBe(0);
  }, 360_000);
});
