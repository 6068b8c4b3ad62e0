// `ctb reconcile` checks the quote currency as it checks base assets: what the ledger says the bot
// holds of USD (the latest live equity snapshot's cash, moved by the trades and in-flight fills
// since) against Kraken's USD total (BalanceEx: the balance, of which open orders hold part). Less on
// Kraken fails with a clear line and exit 1; more (a deposit) is shown, not failed; an order resting
// on Kraken with part of it filled moves neither side into a false shortfall. Against the simulator.
import { sql } from 'drizzle-orm';
import { beforeEach, describe, expect, it } from 'vitest';
import { equitySnapshots, fills, orderIntents } from '../../../src/db/schema/index.js';
import { updateBotState } from '../../../src/services/bot-state.js';
import { emptyTablesSql, type TestDatabase } from '../../support/db.js';
import type { FakeKraken } from '../../support/fake-kraken.js';
import { liveKrakenBed } from '../../support/live-kraken-bed.js';
import { control } from '../../support/simulator.js';

const bed = liveKrakenBed('ctb-quote-balance-');
const { ctb } = bed;
let database: TestDatabase;
let kraken: FakeKraken;
const hourAgo = new Date(Date.now() - 3_600_000);

beforeEach(async () => {
  ({ database, kraken } = bed.current);
  await database.db.execute(sql.raw(emptyTablesSql(['equity_snapshots'])));
  const ctx = await bed.context();
  await updateBotState(database.db, ctx.clock, { mode: 'live' });
  await database.db.insert(equitySnapshots).values({ mode: 'live', feed: 'kraken', at: hourAgo, equity: '9509.49', cash: '9509.49', peakEquity: '10000', drawdownPct: '4.9051' });
});

describe('ctb reconcile: the quote currency', () => {
  it('fails with exit 1 and a SHORTFALL line when Kraken holds less USD than the ledger says the bot holds', async () => {
    await control(kraken.simulator, 'POST', 'balances', { USD: '500' });
    const r = await ctb(['reconcile']);
    expect(r.code, r.out + r.err).toBe(1);
    expect(r.out).toMatch(/USD +ledger 9509\.49 +exchange 500 +diff -9009\.49 +exchange holds less/);
    // The simulator KRAKEN_API_URL points at is named as itself, not as Kraken.
    expect(r.out).toContain(`SHORTFALL: The exchange at ${new URL(kraken.url).origin} (KRAKEN_API_URL, not Kraken) holds 9009.49 USD less than the ledger says the bot holds`);
    expect(r.out).toMatch(/RECONCILE FAILED — .*1 balance shortfall\(s\)/);
    expect(r.out).not.toContain('RECONCILE OK');
    const json = await ctb(['reconcile', '--json']);
    expect(json.code).toBe(1);
    expect(JSON.parse(json.out).balances).toContainEqual({ asset: 'USD', ledger: '9509.49', exchange: '500', diff: '-9009.49', tolerance: expect.any(String), status: 'exchange_holds_less' });
  });

  it('shows more USD on Kraken than the ledger (the user’s own deposit) without failing', async () => {
    await control(kraken.simulator, 'POST', 'balances', { USD: '20000' });
    const r = await ctb(['reconcile']);
    expect(r.code, r.out + r.err).toBe(0);
    expect(r.out).toMatch(/USD +ledger 9509\.49 +exchange 20000 +diff 10490\.51 +exchange holds more/);
    expect(r.out).toMatch(/RECONCILE OK — .*0 balance shortfall\(s\)$/m);
  });

  it('finds no shortfall while an entry rests on Kraken partly filled: its fills moved the ledger, its unfilled part is held, not gone', async () => {
    // The bot's limit buy of 0.0322 BTC at 50,000: 0.0107 filled (cost 535, fee 1.391), the rest held on Kraken.
    const txid = 'OBOT01-AAAAA-BBBBBB';
    const clientOrderId = 'a0b1c2d3-0000-4000-8000-000000000011';
    const filledAt = new Date(Date.now() - 600_000);
    const [intent] = await database.db.insert(orderIntents).values({
      clientOrderId, exchangeOrderId: txid, mode: 'live', feed: 'kraken', strategy: 'test-ma', symbol: 'BTC/USD', side: 'buy', purpose: 'entry',
      type: 'limit', quantity: '0.0322', limitPrice: '50000', status: 'open', createdAt: filledAt, updatedAt: filledAt,
    }).returning();
    await database.db.insert(fills).values({
      intentId: intent!.id, clientOrderId, exchangeTradeId: 'TBOT01-AAAAA-BBBBBB', exchangeOrderId: txid, mode: 'live', feed: 'kraken', symbol: 'BTC/USD',
      side: 'buy', quantity: '0.0107', price: '50000', fee: '1.391', feeCurrency: 'USD', filledAt,
    });
    kraken.addTrades([{ txid: 'TBOT01-AAAAA-BBBBBB', ordertxid: txid, pair: 'XXBTZUSD', time: filledAt.getTime() / 1000, type: 'buy', ordertype: 'limit', price: '50000.0', vol: '0.01070000', fee: '1.3910', cost: '535.0000' }]);
    kraken.addOrder({
      txid, cl_ord_id: clientOrderId, pair: 'XBTUSD', type: 'buy', ordertype: 'limit', price: '50000.0', vol: '0.03220000', vol_exec: '0.01070000', status: 'open',
      opentm: filledAt.getTime() / 1000, cost: '535.0000', fee: '1.3910', trades: ['TBOT01-AAAAA-BBBBBB'],
    });
    await control(kraken.simulator, 'POST', 'balances', { USD: '8973.099', BTC: '0.0107' }); // 9509.49 − 535 − 1.391
    const state = await control(kraken.simulator, 'GET', 'state');
    expect(Number(state.json.balances.ZUSD.hold_trade)).toBeGreaterThan(1000); // the unfilled 0.0215 BTC at 50,000 is held

    const r = await ctb(['reconcile']);
    expect(r.code, r.out + r.err).toBe(0);
    expect(r.out).toMatch(/BTC +ledger 0\.0107 +exchange 0\.0107 +diff 0 +ok/);
    expect(r.out).toMatch(/USD +ledger 8973\.099 +exchange 8973\.099 +diff 0 +ok/);
    expect(r.out).toMatch(/RECONCILE OK — 1 matched.*0 balance shortfall\(s\)$/m);
  });

  it('says the quote was not checked when there is no live equity snapshot to take the ledger’s figure from', async () => {
    await database.db.execute(sql`truncate equity_snapshots`);
    const r = await ctb(['reconcile']);
    expect(r.out).toContain('USD    not checked: no live equity snapshot');
    expect(r.out).toMatch(/RECONCILE OK — .*; USD not checked \(no live equity snapshot\)$/m);
  });
});
