// An entry still in flight on Kraken with part of it filled: its fills are booked, its trade row is
// not written until the order resolves — and the BTC it bought is the bot's all the same. `ctb
// balance` counts it as bot-managed (with a note saying why), `ctb trades` lists the order with what
// it filled, `ctb stats` counts it open and in exposure: one rule (services/trades/in-flight.ts), so
// no operator is led to think the bot's BTC is someone else's. An exit in flight that has sold part
// of its trade leaves the trade open, holding the rest: `ctb trades`, `ctb stats` and the Slack /stats
// view count what it still holds. Against the simulator.
import { beforeEach, describe, expect, it } from 'vitest';
import { computeStats } from '../../../src/services/stats/compute-stats.js';
import { equitySnapshots, fills, orderIntents, trades } from '../../../src/db/schema/index.js';
import { windowFor } from '../../../src/domain/stats-periods.js';
import { renderStats } from '../../../src/slack/views/stats.js';
import type { TestDatabase } from '../../support/db.js';
import type { FakeKraken } from '../../support/fake-kraken.js';
import { liveKrakenBed } from '../../support/live-kraken-bed.js';
import { control } from '../../support/simulator.js';

const bed = liveKrakenBed('ctb-in-flight-views-');
const { ctb } = bed;
let database: TestDatabase;
let kraken: FakeKraken;

beforeEach(() => {
  ({ database, kraken } = bed.current);
});

async function entryInFlight() {
  // The bot's limit buy of 0.0322 BTC at 50,000: 0.0107 filled (cost 535, fee 1.391), the rest resting on Kraken.
  const txid = 'OBOT01-AAAAA-BBBBBB';
  const clientOrderId = 'a0b1c2d3-0000-4000-8000-000000000021';
  const at = new Date(Date.now() - 600_000);
  const [intent] = await database.db.insert(orderIntents).values({
    clientOrderId, exchangeOrderId: txid, mode: 'live', feed: 'kraken', strategy: 'test-ma', symbol: 'BTC/USD', side: 'buy', purpose: 'entry',
    type: 'limit', quantity: '0.0322', limitPrice: '50000', status: 'open', createdAt: at, updatedAt: at,
  }).returning();
  await database.db.insert(fills).values({
    intentId: intent!.id, clientOrderId, exchangeTradeId: 'TBOT01-AAAAA-BBBBBB', exchangeOrderId: txid, mode: 'live', feed: 'kraken', symbol: 'BTC/USD',
    side: 'buy', quantity: '0.0107', price: '50000', fee: '1.391', feeCurrency: 'USD', filledAt: at,
  });
  kraken.addOrder({
    txid, cl_ord_id: clientOrderId, pair: 'XBTUSD', type: 'buy', ordertype: 'limit', price: '50000.0', vol: '0.03220000', vol_exec: '0.01070000', status: 'open',
    opentm: at.getTime() / 1000, cost: '535.0000', fee: '1.3910',
  });
  await control(kraken.simulator, 'POST', 'balances', { USD: '9463.609', BTC: '0.0107' });
}

describe('an entry in flight, partly filled', () => {
  beforeEach(entryInFlight);

  it('ctb balance counts its BTC as bot-managed, with a note, not as the rest of the account', async () => {
    const r = await ctb(['balance']);
    expect(r.code, r.out + r.err).toBe(0);
    expect(r.out).toContain('(KRAKEN_API_URL, not Kraken) — 0 open live trade(s), 1 live order(s) in flight with fills;');
    const btc = r.out.split('\n').find((l) => l.startsWith('│ BTC '))!;
    // TOTAL, FREE, IN ORDERS, BOT-MANAGED (with its note mark), OTHER.
    expect(btc).toMatch(/│ BTC +│ +0\.0107 │ +0\.0107 │ +0 │ +0\.0107 \* │ +0 │/);
    expect(r.out).toContain('* BTC bot-managed: order in flight, partly filled — the bot bought it');
    const json = await ctb(['balance', '--json']);
    expect(JSON.parse(json.out).kraken.assets).toContainEqual(expect.objectContaining({ asset: 'BTC', botManaged: '0.0107', other: '0', note: 'order in flight, partly filled', shortfall: false }));
  });

  it('ctb trades lists the order with what it filled of what it asked', async () => {
    const r = await ctb(['trades']);
    expect(r.code, r.out + r.err).toBe(0);
    expect(r.out).toContain('Open trades (1):');
    expect(r.out.split('\n').find((l) => l.startsWith('│ in flight '))).toMatch(/live[\s│]+BTC\/USD[\s│]+long[\s│]+0\.0107 of 0\.0322[\s│]+50,000\.00/);
    expect(r.out).toContain('in flight: BTC/USD entry (order intent 1) — order in flight, partly filled');
    expect(r.out).toMatch(/live: 1 open, cost 535\.00/);
  });

  it('ctb stats counts it open and in the live exposure', async () => {
    const r = await ctb(['stats', '--json']);
    expect(r.code, r.out + r.err).toBe(0);
    const live = JSON.parse(r.out).books.find((b: { book: string }) => b.book === 'live');
    expect(live.trades.open).toBe(1);
    expect(live.exposure.costBasis).toBe('535');
  });
});

describe('an exit in flight, partly filled', () => {
  beforeEach(async () => {
    // An open live trade of 0.0322 BTC bought at 50,000; its market sell is in flight on Kraken and
    // has sold 0.0107 at 52,000 (fee 1.446), the rest still to come.
    const at = new Date(Date.now() - 600_000);
    await database.db.insert(trades).values({
      mode: 'live', feed: 'kraken', strategy: 'test-ma', symbol: 'BTC/USD', status: 'open', quantity: '0.0322', entryPrice: '50000', entryFee: '4.186',
      entryIntentId: 1, entryAt: new Date(at.getTime() - 3_600_000),
    });
    const [trade] = await database.db.select().from(trades);
    const txid = 'OBOT02-AAAAA-BBBBBB';
    const clientOrderId = 'a0b1c2d3-0000-4000-8000-000000000022';
    const [intent] = await database.db.insert(orderIntents).values({
      clientOrderId, exchangeOrderId: txid, mode: 'live', feed: 'kraken', strategy: 'test-ma', symbol: 'BTC/USD', side: 'sell', purpose: 'exit',
      tradeId: trade!.id, type: 'market', quantity: '0.0322', status: 'open', createdAt: at, updatedAt: at,
    }).returning();
    await database.db.insert(fills).values({
      intentId: intent!.id, clientOrderId, exchangeTradeId: 'TBOT02-AAAAA-BBBBBB', exchangeOrderId: txid, mode: 'live', feed: 'kraken', symbol: 'BTC/USD',
      side: 'sell', quantity: '0.0107', price: '52000', fee: '1.446', feeCurrency: 'USD', filledAt: at,
    });
    kraken.addOrder({
      txid, cl_ord_id: clientOrderId, pair: 'XBTUSD', type: 'sell', ordertype: 'market', price: '0', vol: '0.03220000', vol_exec: '0.01070000', status: 'open',
      opentm: at.getTime() / 1000, cost: '556.4000', fee: '1.4460',
    });
    await control(kraken.simulator, 'POST', 'balances', { USD: '10554.954', BTC: '0.0215' });
  });

  it('ctb trades lists the trade by what it still holds, and what its exit sold of what it asked', async () => {
    const r = await ctb(['trades']);
    expect(r.code, r.out + r.err).toBe(0);
    expect(r.out.split('\n').find((l) => l.startsWith('│ #1 '))).toMatch(/live[\s│]+BTC\/USD[\s│]+long[\s│]+0\.0215 \(0\.0107 of 0\.0322 sold\)[\s│]+50,000\.00/);
    expect(r.out).toContain('in flight: BTC/USD exit of #1 (order intent 1) — exit in flight, partly filled: 0.0107 sold, the trade holds the 0.0215 left');
    expect(r.out).toMatch(/live: 1 open, cost 1,075\.00/);
    const json = JSON.parse((await ctb(['trades', '--json'])).out);
    expect(json.open[0]).toMatchObject({ id: 1, quantity: '0.0215', inFlight: { intentId: 1, purpose: 'exit', ordered: '0.0322', filled: '0.0107', note: 'exit in flight, partly filled' } });
  });

  it('ctb trades and ctb stats agree on its unrealised PnL: the whole trade, the part sold at what it sold for, until the exit is booked', async () => {
    // The engine's snapshot after that fill, BTC at Kraken's 50,000: cash as if the exit were unsettled
    // (its proceeds not in it yet), the whole trade at the mark, the exit's fills at their price less
    // their fee — equity − cash = 0.0322 × 50,000 + 0.0107 × (52,000 − 50,000) − 1.446 = 1,629.954.
    await database.db.insert(equitySnapshots).values({
      mode: 'live', feed: 'kraken', at: new Date(Date.now() - 60_000), equity: '10554.954', cash: '8925', peakEquity: '10554.954', drawdownPct: '0',
    });
    // 1,629.954 less the whole trade's cost (1,610) and entry fee (4.186): 21.4 gained on the part sold,
    // less its exit fee, less the entry fee; the 0.0215 still held is at its entry price.
    const truth = '15.768';
    const stats = JSON.parse((await ctb(['stats', '--json'])).out).books.find((b: { book: string }) => b.book === 'live');
    expect(stats.pnl.unrealized).toBe(truth);
    const trades = JSON.parse((await ctb(['trades', '--json'])).out);
    expect(trades.open[0]).toMatchObject({ id: 1, quantity: '0.0215', mark: { price: '50000', source: 'kraken' }, unrealizedPnl: truth, inFlight: { purpose: 'exit' } });
    expect(trades.totals).toContainEqual(expect.objectContaining({ book: 'live', unrealizedPnl: truth }));
  });

  it('ctb stats and the Slack /stats view count in exposure only what the trade still holds', async () => {
    const r = await ctb(['stats', '--json']);
    expect(r.code, r.out + r.err).toBe(0);
    const live = JSON.parse(r.out).books.find((b: { book: string }) => b.book === 'live');
    expect(live.trades.open).toBe(1);
    expect(live.exposure.costBasis).toBe('1075');
    const ctx = await bed.context();
    const report = await computeStats(ctx, { window: windowFor('all', ctx.clock.now()), period: 'all' });
    expect(JSON.stringify(renderStats(report).blocks)).toContain(':red_circle: *Live*');
    expect(JSON.stringify(renderStats(report).blocks)).toContain('*Exposure*\\n1,075.00"');
  });
});

describe('an exit sent to Kraken, nothing filled yet', () => {
  it('ctb trades marks the trade "exit in flight", whole and open at the mark, with the unrealised PnL ctb stats gives', async () => {
    const at = new Date(Date.now() - 600_000);
    await database.db.insert(trades).values({
      mode: 'live', feed: 'kraken', strategy: 'test-ma', symbol: 'BTC/USD', status: 'open', quantity: '0.0322', entryPrice: '50000', entryFee: '4.186',
      entryIntentId: 1, entryAt: new Date(at.getTime() - 3_600_000),
    });
    const txid = 'OBOT03-AAAAA-BBBBBB';
    const clientOrderId = 'a0b1c2d3-0000-4000-8000-000000000023';
    await database.db.insert(orderIntents).values({
      clientOrderId, exchangeOrderId: txid, mode: 'live', feed: 'kraken', strategy: 'test-ma', symbol: 'BTC/USD', side: 'sell', purpose: 'exit',
      tradeId: 1, type: 'market', quantity: '0.0322', status: 'sent', createdAt: at, updatedAt: at,
    });
    kraken.addOrder({
      txid, cl_ord_id: clientOrderId, pair: 'XBTUSD', type: 'sell', ordertype: 'market', price: '0', vol: '0.03220000', vol_exec: '0.00000000', status: 'open',
      opentm: at.getTime() / 1000, cost: '0', fee: '0',
    });
    await control(kraken.simulator, 'POST', 'balances', { USD: '8385.814', BTC: '0.0322' });
    // The engine's snapshot: the whole trade at Kraken's 50,000.
    await database.db.insert(equitySnapshots).values({ mode: 'live', feed: 'kraken', at: new Date(Date.now() - 60_000), equity: '9995.814', cash: '8385.814', peakEquity: '9995.814', drawdownPct: '0' });
    const r = await ctb(['trades']);
    expect(r.code, r.out + r.err).toBe(0);
    expect(r.out).toContain('in flight: BTC/USD exit of #1 (order intent 1) — exit in flight, nothing filled yet: the trade holds all 0.0322 and is valued at the mark until the order resolves');
    const json = JSON.parse((await ctb(['trades', '--json'])).out);
    expect(json.open[0]).toMatchObject({ id: 1, quantity: '0.0322', unrealizedPnl: '-4.186', inFlight: { intentId: 1, purpose: 'exit', ordered: '0.0322', filled: '0', note: 'exit in flight, nothing filled yet' } });
    const live = JSON.parse((await ctb(['stats', '--json'])).out).books.find((b: { book: string }) => b.book === 'live');
    expect(live.pnl.unrealized).toBe('-4.186');
    expect(live.exposure.costBasis).toBe('1610');
  });
});
