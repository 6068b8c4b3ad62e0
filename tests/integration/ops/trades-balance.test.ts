// /trades and /balance (and `ctb trades`, `ctb balance`): what an operator sees of open trades and
// balances, with mark prices from Kraken's public ticker (the fake Kraken behind the real adapter),
// and for the replay book the marks of its latest equity snapshot — the figures `ctb stats` shows.
import { createServer, type AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import { NEXT_COMMANDS } from '../../../src/app/start-banner.js';
import { runCli } from '../../../src/cli/program.js';
import { execute } from '../../../src/db/client.js';
import { equitySnapshots, paperBalances } from '../../../src/db/schema/index.js';
import { systemClock } from '../../../src/clock.js';
import { updateBotState } from '../../../src/services/bot-state.js';
import { createPostgresTestDb, emptyTablesSql, type TestDatabase } from '../../support/db.js';
import { recordingIo } from '../../support/cli-io.js';
import { ctbInShell } from '../../support/ctb-shell.js';
import { holdLease } from '../../support/held-lease.js';
import { testConfig } from '../../../src/config/env.js';
import { startFakeKraken, type FakeKraken } from '../../support/fake-kraken.js';
import { TEST_API_KEY, TEST_API_SECRET } from '../../support/kraken-test-keys.js';
import { startSlackHarness, USERS, type SlackHarness } from '../../support/slack-harness.js';
import { insertTrade } from '../../support/trade-rows.js';

let database: TestDatabase;
let kraken: FakeKraken;
let h: SlackHarness;
const keys = () => ({ KRAKEN_API_KEY: TEST_API_KEY, KRAKEN_API_SECRET: TEST_API_SECRET });

beforeAll(async () => {
  database = await createPostgresTestDb();
  kraken = await startFakeKraken({ apiKey: TEST_API_KEY, secret: TEST_API_SECRET, tickers: { XXBTZUSD: '61000.0' }, balances: { ZUSD: '5000.0000', XXBT: '0.0500000000' } });
  h = await startSlackHarness({ database, env: { KRAKEN_API_URL: kraken.url, KRAKEN_RATE_LIMIT: 'false', ...keys() } });
}, 120_000);
afterAll(async () => {
  await h?.close();
  await kraken?.close();
  await database?.close();
});
beforeEach(async () => {
  await execute(database.db, sql.raw(emptyTablesSql(['trades', 'paper_balances', 'equity_snapshots'])));
  kraken.calls.length = 0;
});

async function cli(argv: string[], env: Record<string, string> = {}) {
  const io = recordingIo({ DATABASE_URL: database.url, KRAKEN_API_URL: kraken.url, KRAKEN_RATE_LIMIT: 'false', ...env });
  const code = await runCli(argv, io);
  return { code, out: io.out(), err: io.err() };
}

async function seed() {
  const paper = await insertTrade(database.db, { quantity: '0.02', entryPrice: '60000', entryFee: '3' });
  const live = await insertTrade(database.db, { mode: 'live', quantity: '0.01', entryPrice: '59000', entryFee: '1.5' });
  const replay = await insertTrade(database.db, { feed: 'replay', strategy: 'replay-ma', quantity: '0.1', entryPrice: '40000' });
  const closed = await insertTrade(database.db, { status: 'closed', realizedPnl: '-2.5' });
  await database.db.insert(paperBalances).values([{ asset: 'USD', total: '8797', updatedAt: new Date() }, { asset: 'BTC', total: '0.02', updatedAt: new Date() }]);
  return { paper, live, replay, closed };
}

describe('ctb trades', () => {
  it('the command the start banner suggests shows what the banner says: open positions and the last closed trades', async () => {
    const [command, says] = NEXT_COMMANDS.find(([c]) => c.startsWith('ctb trades'))!;
    expect(says).toMatch(/open positions .*and the last (\d+ )?closed trades/);
    const { paper, closed } = await seed();
    const r = await cli(command.split(' ').slice(1));
    expect(r.code).toBe(0);
    expect(r.out).toMatch(new RegExp(`^│ #${paper.id} `, 'm'));
    expect(r.out).toMatch(/^Last 1 closed:$/m);
    expect(r.out).toMatch(new RegExp(`^│ #${closed.id} `, 'm'));
  });

  it('lists open trades with Kraken marks, unrealised PnL after the entry fee, %, totals per book; a replay trade with no snapshot has no mark', async () => {
    const { paper, live, replay } = await seed();
    const r = await cli(['trades']);
    expect(r.code).toBe(0);
    const line = (id: number) => r.out.split('\n').find((l) => l.startsWith(`│ #${id} `))!;
    // (61000 − 60000) × 0.02 − 3 = +17, on a cost of 1200 → +1.42%
    expect(line(paper.id)).toMatch(/paper[\s│]+BTC\/USD[\s│]+long[\s│]+0\.02[\s│]+60,000\.00[\s│]+61,000\.00 \(kraken\)[\s│]+\+17\.00[\s│]+\+1\.42%[\s│]+\d+[dhm].*btc-ma-cross/);
    // (61000 − 59000) × 0.01 − 1.5 = +18.5
    expect(line(live.id)).toMatch(/live[\s│]+BTC\/USD[\s│]+long[\s│]+0\.01[\s│]+59,000\.00[\s│]+61,000\.00 \(kraken\)[\s│]+\+18\.50[\s│]+\+3\.14%/);
    expect(line(replay.id)).toMatch(/replay[\s│]+BTC\/USD[\s│]+long[\s│]+0\.1[\s│]+40,000\.00[\s│]+—[\s│]+—[\s│]+—/);
    expect(r.out).toMatch(/^paper: 1 open, cost 1,200.00, unrealised \+17\.00$/m);
    expect(r.out).toMatch(/^replay: 1 open, cost 4,000\.00, unrealised — \(1 without a mark price\)$/m);
    expect(r.out).not.toMatch(/closed:/);
    // One public ticker call for the one pair, no private call at all.
    expect(kraken.calls.filter((c) => c.api === 'private')).toEqual([]);
    expect(kraken.callsTo('Ticker')).toHaveLength(1);
  });

  it("values a replay trade at its book's latest equity snapshot: the mark, unrealised PnL and value stats and balance show", async () => {
    // The replay book holds one trade: 0.1 BTC at 40,000, entry fee 3. Its snapshot after the entry
    // says the position is worth 10,150 − 6,000 = 4,150, i.e. 41,500 a BTC.
    const replay = await insertTrade(database.db, { feed: 'replay', strategy: 'replay-ma', quantity: '0.1', entryPrice: '40000', entryFee: '3' });
    await database.db.insert(paperBalances).values([{ asset: 'USD', total: '6000', updatedAt: new Date() }, { asset: 'BTC', total: '0.1', updatedAt: new Date() }]);
    await database.db.insert(equitySnapshots).values({ mode: 'paper', feed: 'replay', at: new Date('2026-03-02T08:01:00Z'), equity: '10150', cash: '6000', peakEquity: '10150', drawdownPct: '0' });

    const r = await cli(['trades']);
    // (41500 − 40000) × 0.1 − 3 = +147, on a cost of 4000 → +3.68%
    expect(r.out.split('\n').find((l) => l.startsWith(`│ #${replay.id} `))).toMatch(/replay[\s│]+BTC\/USD[\s│]+long[\s│]+0\.1[\s│]+40,000\.00[\s│]+41,500\.00 \(snapshot\)[\s│]+\+147\.00[\s│]+\+3\.68%/);
    expect(r.out).toMatch(/^replay: 1 open, cost 4,000\.00, unrealised \+147\.00$/m);
    expect(r.out).not.toMatch(/without a mark/);
    const json = JSON.parse((await cli(['trades', '--json'])).out);
    expect(json.open[0]).toMatchObject({ id: replay.id, mark: { price: '41500', at: '2026-03-02T08:01:00.000Z', source: 'snapshot' }, unrealizedPnl: '147', unrealizedPct: '3.68' });
    expect(json.totals).toEqual([{ book: 'replay', open: 1, costBasis: '4000', unrealizedPnl: '147', unmarked: 0 }]);

    // The same figures in stats and balance, at the same moment.
    const stats = JSON.parse((await cli(['stats', '--json'])).out);
    expect(stats.books.find((b: { book: string }) => b.book === 'replay').pnl).toMatchObject({ unrealized: '147', unrealizedMarkedAt: '2026-03-02T08:01:00.000Z' });
    // Marked: the replay's snapshot, months old by the wall clock, is not fresh (docs/stats.md).
    expect((await cli(['stats'])).out).toMatch(/^│ unrealised PnL[\s│]+0\.00[\s│]+0\.00[\s│]+\+147\.00\* │$/m);
    expect((await cli(['balance'])).out).toMatch(/^│ BTC[\s│]+0\.1[\s│]+4,150\.00 │$/m); // 0.1 × 41,500
    expect(kraken.calls).toEqual([]);
  });

  it('prices the replay book by one rule in trades, balance and stats: not at all once a trade exited after its snapshot', async () => {
    // Two replay trades of 0.1 BTC at 40,000 (fees 0). The snapshot at 08:01 holds both: cash 2,000,
    // equity 10,300 (0.2 × 41,500). One exits at 08:05 at 41,600: cash 6,160, 0.1 BTC left. The
    // snapshot's 8,300 of holdings is no longer the book's: dividing it by the 0.1 left would say
    // 83,000 a BTC. Neither command may show a price, nor a book total.
    const open = await insertTrade(database.db, { feed: 'replay', strategy: 'replay-ma', quantity: '0.1', entryPrice: '40000', entryFee: '0' });
    await insertTrade(database.db, {
      feed: 'replay', strategy: 'replay-ma', status: 'closed', quantity: '0.1', entryPrice: '40000', entryFee: '0',
      exitPrice: '41600', exitFee: '0', exitAt: new Date('2026-03-02T08:05:00Z'), realizedPnl: '160',
    });
    await database.db.insert(equitySnapshots).values({ mode: 'paper', feed: 'replay', at: new Date('2026-03-02T08:01:00Z'), equity: '10300', cash: '2000', peakEquity: '10300', drawdownPct: '0' });
    await database.db.insert(paperBalances).values([{ asset: 'USD', total: '6160', updatedAt: new Date() }, { asset: 'BTC', total: '0.1', updatedAt: new Date() }]);

    const json = JSON.parse((await cli(['trades', '--json'])).out);
    expect(json.open).toMatchObject([{ id: open.id, mark: null, unrealizedPnl: null }]);
    expect(json.totals).toEqual([{ book: 'replay', open: 1, costBasis: '4000', unrealizedPnl: null, unmarked: 1 }]);
    expect((await cli(['balance'])).out).toMatch(/^paper value: — \(no replay price for a held asset/m);
    // Stats neither: 10,300 − 2,000 − 4,000 = 4,300 would count the exited trade's 4,150 as a gain.
    const stats = JSON.parse((await cli(['stats', '--json'])).out);
    expect(stats.books.find((b: { book: string }) => b.book === 'replay').pnl).toMatchObject({ unrealized: null, unrealizedMarkedAt: null });
    expect(kraken.calls).toEqual([]);
  });

  it('never presents a book total as complete while one of its trades has no mark', async () => {
    // No snapshot of the replay book since this trade opened (the one there predates it): stats has
    // no figure for the book, and trades neither — not 0.00.
    await insertTrade(database.db, { feed: 'replay', strategy: 'replay-ma', quantity: '0.1', entryPrice: '40000', entryAt: new Date('2026-03-02T08:00:00Z') });
    await database.db.insert(equitySnapshots).values({ mode: 'paper', feed: 'replay', at: new Date('2026-03-02T07:59:00Z'), equity: '10000', cash: '10000', peakEquity: '10000', drawdownPct: '0' });
    const r = await cli(['trades']);
    expect(r.out).toMatch(/^replay: 1 open, cost 4,000\.00, unrealised — \(1 without a mark price\)$/m);
    expect(r.out).not.toMatch(/unrealised [-+]?\d/);
    const json = JSON.parse((await cli(['trades', '--json'])).out);
    expect(json.totals).toEqual([{ book: 'replay', open: 1, costBasis: '4000', unrealizedPnl: null, unmarked: 1 }]);
    const stats = JSON.parse((await cli(['stats', '--json'])).out);
    expect(stats.books.find((b: { book: string }) => b.book === 'replay').pnl.unrealized).toBeNull();

    // One marked trade and one unmarked in a book: the marked one's PnL is shown, the book's total is not.
    const btc = await insertTrade(database.db, { quantity: '0.02', entryPrice: '60000', entryFee: '3' });
    await insertTrade(database.db, { symbol: 'XYZ/USD', quantity: '1', entryPrice: '100', entryFee: '1' }); // a pair Kraken does not price
    const mixed = JSON.parse((await cli(['trades', '--json'])).out);
    expect(mixed.open.find((t: { id: number }) => t.id === btc.id).unrealizedPnl).toBe('17');
    expect(mixed.totals).toContainEqual({ book: 'paper', open: 2, costBasis: '1300', unrealizedPnl: null, unmarked: 1 });
    expect((await cli(['trades'])).out).toMatch(/^paper: 2 open, cost 1,300\.00, unrealised — \(1 without a mark price\)$/m);
  });

  it('--closed N adds the last N closed trades; --json gives the same result as data', async () => {
    const { closed } = await seed();
    const r = await cli(['trades', '--closed', '5']);
    expect(r.out).toMatch(new RegExp(`Last 1 closed:[\\s\\S]*#${closed.id}[\\s│]+paper[\\s│]+BTC/USD[\\s│]+0\\.02[\\s│]+60,000\\.00[\\s│]+60,500\\.00[\\s│]+-2\\.50`));
    const json = JSON.parse((await cli(['trades', '--json'])).out);
    expect(json).toMatchObject({ ok: true, closed: null, totals: expect.arrayContaining([{ book: 'live', open: 1, costBasis: '590', unrealizedPnl: '18.5', unmarked: 0 }]) });
  });

  it('refuses a bad --closed with what is expected, on one line naming the argument (exit 2)', async () => {
    for (const bad of ['0', 'ten', '1000']) {
      const r = await cli(['trades', '--closed', bad]);
      expect(r.code).toBe(2);
      expect(r.err).toMatch(/^error: Bad arguments for trades: closed: .*(at least 1|whole number|at most 100)[^\n]*\n\(run ctb trades --help for its usage and options\)\n$/);
      expect(r.err).not.toMatch(/[✖→]/);
    }
    const json = JSON.parse((await cli(['trades', '--closed', '0', '--json'])).out);
    expect(json).toMatchObject({ ok: false, code: 'bad_arguments', expected: 'at least 1 closed trade' });
  });

  it('says so plainly when nothing is open, and where the closed trades are', async () => {
    expect((await cli(['trades'])).out).toBe('No open trades. (ctb trades --closed 10 lists the last 10 closed trades.)\n');
    expect((await cli(['trades', '--closed', '3'])).out).toMatch(/^No open trades\.\n/);
  });
});

describe('ctb balance', () => {
  it('shows only the paper book without a key', async () => {
    await seed();
    const r = await cli(['balance']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^Paper book — 2 open trade\(s\):/); // the paper and replay books both trade on paper
    expect(r.out).toMatch(/^│ BTC[\s│]+0\.02[\s│]+1,220\.00 │$/m);
    expect(r.out).toMatch(/^paper value: 10,017\.00 USD$/m);
    expect(r.out).toMatch(/Kraken: no key set/);
  });

  it("splits Kraken's balances into bot-managed (USD and what open live trades hold) and the rest of the account", async () => {
    await seed();
    const r = await cli(['balance'], keys());
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^│ BTC[\s│]+0\.05[\s│]+0\.05[\s│]+0[\s│]+0\.01[\s│]+0\.04[\s│]+3,050\.00 │$/m);
    // USD is money: to the cent in every column; --json keeps the amounts as read.
    expect(r.out).toMatch(/^│ USD[\s│]+5,000\.00[\s│]+5,000\.00[\s│]+0\.00[\s│]+5,000\.00[\s│]+0\.00[\s│]+5,000\.00 │$/m);
    expect(r.out).toMatch(/bot-managed value: 5,610\.00\s+whole account: 8,050\.00/);
    expect(kraken.callsTo('BalanceEx')).toHaveLength(1);
    expect(kraken.orderChangingCalls()).toEqual([]);
    await database.db.update(paperBalances).set({ total: '8797.1234567' }).where(sql`asset = 'USD'`);
    const text = (await cli(['balance'])).out;
    expect(text).toMatch(/^│ USD[\s│]+8,797\.12[\s│]+8,797\.12 │$/m);
    const json = JSON.parse((await cli(['balance', '--json'])).out);
    expect(json.paper.assets).toContainEqual(expect.objectContaining({ asset: 'USD', total: '8797.1234567' }));
  });

  it('during the replay demo, with no key and no position, asks Kraken nothing and labels the replay book', async () => {
    await database.db.insert(paperBalances).values([{ asset: 'USD', total: '10012.5', updatedAt: new Date() }, { asset: 'BTC', total: '0', updatedAt: new Date() }]);
    await database.db.insert(equitySnapshots).values({ mode: 'paper', feed: 'replay', at: new Date('2024-01-02T00:00:00Z'), equity: '10012.5', cash: '10012.5', peakEquity: '10020', drawdownPct: '0.07' });
    const r = await cli(['balance']); // the operator's shell has no MARKET_FEED: the book's own feed decides
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^Paper book on the replay feed \(simulated prices, not Kraken's\) — 0 open trade\(s\):/);
    expect(r.out).toMatch(/^paper value: 10,012\.50 USD$/m);
    expect(r.err).toBe('');
    expect(kraken.calls).toEqual([]);
  });

  it("values a replay book's holding at its latest equity snapshot, never at Kraken's price", async () => {
    await database.db.insert(paperBalances).values([{ asset: 'USD', total: '6000', updatedAt: new Date() }, { asset: 'BTC', total: '0.1', updatedAt: new Date() }]);
    await database.db.insert(equitySnapshots).values({ mode: 'paper', feed: 'replay', at: new Date('2024-01-02T00:00:00Z'), equity: '10100', cash: '6000', peakEquity: '10100', drawdownPct: '0' });
    const r = await cli(['balance']);
    expect(r.out).toMatch(/^│ BTC[\s│]+0\.1[\s│]+4,100\.00 │$/m);
    expect(r.out).toMatch(/^paper value: 10,100\.00 USD$/m);
    expect(kraken.calls).toEqual([]);
    // Traded since the snapshot (cash differs): no price is better than a wrong one.
    await database.db.update(paperBalances).set({ total: '5000' }).where(sql`asset = 'USD'`);
    expect((await cli(['balance'])).out).toMatch(/^paper value: — \(no replay price for a held asset/m);
    expect(kraken.calls).toEqual([]);
  });

  it('fails (exit 1) and says why when Kraken cannot be read', async () => {
    kraken.failNext('BalanceEx', 'EService:Unavailable', 1);
    const r = await cli(['balance'], keys());
    expect(r.code).toBe(1);
    // The fake behind KRAKEN_API_URL is named as itself: its balances are not Kraken's.
    expect(r.out).toContain(`The exchange at ${new URL(kraken.url).origin} (KRAKEN_API_URL, not Kraken): could not read the balances — `);
    expect(r.out).toMatch(/could not read the balances — .*unavailable/i);
  });

  it('names where Kraken was asked and why no answer came when nothing listens at KRAKEN_API_URL (exit 1)', async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));
    const r = await cli(['balance'], { ...keys(), KRAKEN_API_URL: `http://127.0.0.1:${port}` });
    expect(r.code).toBe(1);
    expect(r.out).toContain(`could not read the balances — Could not reach Kraken at http://127.0.0.1:${port}/ (fetch failed: connect ECONNREFUSED 127.0.0.1:${port}). `
      + 'Check that this host can reach Kraken (KRAKEN_API_URL; DNS, firewall, proxy).');
    expect(r.out).not.toMatch(/NetworkError|retry with backoff/);
  });
});

describe('/trades and /balance in Slack', () => {
  it('a reader sees the open trades (only they see it) and the balance', async () => {
    const { paper } = await seed();
    await h.slash('/trades', '', { user: USERS.reader });
    await h.idle();
    const reply = h.responses().at(-1)!;
    expect(reply.response_type).toBe('ephemeral');
    expect(String(reply.text)).toMatch(/^\[PAPER\] 3 open trade\(s\): paper unrealised \+17\.00, live unrealised \+18\.50, replay unrealised — \(1 unmarked\)/);
    expect(JSON.stringify(reply.blocks)).toContain(`\`#${paper.id}\` *BTC/USD* long 0.02 @ 60,000.00 → mark 61,000.00: *+17.00* (+1.42%)`);

    await h.slash('/trades', 'closed 3', { user: USERS.reader });
    await h.idle();
    expect(JSON.stringify(h.responses().at(-1)!.blocks)).toContain('*Last 1 closed*');

    await h.slash('/balance', '', { user: USERS.reader });
    await h.idle();
    expect(String(h.responses().at(-1)!.text)).toContain(`Balance: paper 10,017.00 USD; the exchange at ${new URL(kraken.url).origin} (KRAKEN_API_URL, not Kraken) bot-managed 5,610.00, account 8,050.00`);
  });

  it('while live, says that the open paper positions listed are set aside, not sold, in ctb trades and /trades', async () => {
    const { paper, replay } = await seed();
    // The replay book's position is set aside too, named as the replay book's; the live trade is not listed.
    const note = `The bot is live: 2 open paper and replay positions set aside, not sold (#${paper.id} BTC/USD 0.02 paper, #${replay.id} BTC/USD 0.1 replay): simulated, so Kraken holds none of it; `
      + 'no live order sells them and the live caps and exposure leave them out; they stay open in the paper and replay books.';
    expect((await cli(['trades'])).out).not.toContain('set aside');
    await updateBotState(database.db, systemClock, { mode: 'live' });
    try {
      const r = await cli(['trades']);
      expect(r.out).toContain(`\n${note}\n`);
      expect(JSON.parse((await cli(['trades', '--json'])).out).paperSetAside).toBe(note);
      await h.slash('/trades', '', { user: USERS.reader });
      await h.idle();
      expect(JSON.stringify(h.responses().at(-1)!.blocks)).toContain(JSON.stringify(`:information_source: ${note}`).slice(1, -1));
    } finally {
      await updateBotState(database.db, systemClock, { mode: 'paper' });
    }
  });

  it('says nothing is set aside while the engine holding the lease runs without IS_LIVE: it trades, and sells, the paper book', async () => {
    await seed();
    await updateBotState(database.db, systemClock, { mode: 'live' });
    /** `ctb trades --json` in another shell while an engine on worker-1 holds the lease, armed or not. */
    const setAsideWhileHeld = async (armed: boolean) => {
      const claim = { holderId: `worker-1:4242:${armed}`, host: 'worker-1', pid: 4242, role: 'worker', feed: 'kraken', armed, hasKrakenKeys: true };
      const stop = await holdLease(database.db, claim, testConfig().ENGINE_LEASE_TTL);
      try {
        const r = await ctbInShell(['trades', '--json'], { DATABASE_URL: database.url, KRAKEN_API_URL: kraken.url, KRAKEN_RATE_LIMIT: 'false' });
        expect(r.code, r.stderr).toBe(0);
        return (JSON.parse(r.stdout) as { paperSetAside: string | null }).paperSetAside;
      } finally {
        await stop();
        await database.db.execute(sql`delete from engine_lease`);
      }
    };
    try {
      expect(await setAsideWhileHeld(false)).toBeNull();
      expect(await setAsideWhileHeld(true)).toMatch(/^The bot is live: 2 open paper and replay positions set aside, not sold/);
    } finally {
      await updateBotState(database.db, systemClock, { mode: 'paper' });
    }
  }, 60_000);

  it('answers bad text with the usage', async () => {
    await h.slash('/trades', 'everything', { user: USERS.reader });
    await h.idle();
    expect(String(h.responses().at(-1)!.text)).toMatch(/takes nothing, or `closed <n>` — got "everything"/);
    await h.slash('/trades', 'closed lots', { user: USERS.reader });
    await h.idle();
    expect(JSON.stringify(h.responses().at(-1)!.blocks)).toMatch(/Bad arguments for trades/);
  });
});
