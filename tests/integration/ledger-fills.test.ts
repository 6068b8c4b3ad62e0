// The ledger books what the exchange filled and nothing else: fills as they are listed (partial
// fills of an open order included), each once by exchange trade id, with the fee as charged beside
// the quote fee; an intent becomes filled only when its booked fills add up to what the exchange
// says filled, and is applied to a portfolio exactly once.
import { ALONE_BY_CONSTRUCTION } from '../../src/engine/ledger/intent-lease.js';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/client.js';
import { fills, orderIntents, trades } from '../../src/db/schema/index.js';
import { writeIntent } from '../../src/engine/ledger/intents.js';
import { recordExecution } from '../../src/engine/ledger/record-execution.js';
import type { ExchangeTrade, OrderState } from '../../src/exchange/types.js';
import { dec } from '../../src/money.js';
import { updateBotState } from '../../src/services/bot-state.js';
import { createTestDb, type DbKind } from '../support/db.js';

const at = new Date('2026-01-05T10:00:00Z');

const trade = (id: string, quantity: string, price: string, fee: string, extra: Partial<ExchangeTrade> = {}): ExchangeTrade => ({
  id, orderId: 'OKRAKEN-1', symbol: 'BTC/USD', side: 'buy', quantity, price, fee, feeCurrency: 'USD', chargedFee: fee, chargedFeeCurrency: 'USD', timestamp: at, ...extra,
});

const order = (clientOrderId: string, status: OrderState['status'], filled: string, listed: ExchangeTrade[]): OrderState => ({
  exchangeOrderId: 'OKRAKEN-1', clientOrderId, symbol: 'BTC/USD', side: 'buy', status, quantity: '0.5', filledQuantity: filled, averagePrice: '30000', trades: listed,
});

describe.each<DbKind>(['postgres', 'pglite'])('booking live fills on %s', (kind) => {
  let database: Database;
  beforeAll(async () => {
    database = await createTestDb(kind);
    await updateBotState(database.db, { now: () => at }, { mode: 'live' });
  }, 180_000);
  afterAll(async () => {
    await database?.close();
  });

  const liveEntry = async () =>
    (await writeIntent(database.db, { mode: 'live', feed: 'kraken', strategy: 's', symbol: 'BTC/USD', side: 'buy', purpose: 'entry', type: 'market', quantity: '0.5', at }, { lease: ALONE_BY_CONSTRUCTION, armed: true }))!;
  const record = (intent: Awaited<ReturnType<typeof liveEntry>>, answer: OrderState) =>
    recordExecution(database.db, { intent, order: answer, quoteCurrency: 'USD', reservePct: 20, at });
  const intentRow = async (id: number) => (await database.db.select().from(orderIntents).where(eq(orderIntents.id, id)))[0]!;

  it('keeps a closed order whose trades are not listed yet unresolved, with nothing booked', async () => {
    const intent = await liveEntry();
    const outcome = await record(intent, order(intent.clientOrderId, 'closed', '0.5', []));
    expect(outcome).toMatchObject({ intentStatus: 'open', trade: null, applied: false });
    expect((await intentRow(intent.id)).status).toBe('open');
    expect(await database.db.select().from(fills).where(eq(fills.intentId, intent.id))).toHaveLength(0);
  });

  it('books partial fills as they are listed and fills the intent only when they add up to the filled quantity, once', async () => {
    const intent = await liveEntry();
    const t1 = trade('TP-1', '0.3', '30000', '23.4');
    const t2 = trade('TP-2', '0.2', '30010', '15.6');
    const first = await record(intent, order(intent.clientOrderId, 'open', '0.3', [t1]));
    expect(first).toMatchObject({ intentStatus: 'open', trade: null, applied: false });
    expect(await database.db.select().from(fills).where(eq(fills.intentId, intent.id))).toHaveLength(1);

    // Kraken says 0.5 filled but lists one trade so far: still not done.
    expect(await record(intent, order(intent.clientOrderId, 'closed', '0.5', [t1]))).toMatchObject({ intentStatus: 'open', applied: false });

    const done = await record(intent, order(intent.clientOrderId, 'closed', '0.5', [t1, t2]));
    expect(done).toMatchObject({ intentStatus: 'filled', applied: true });
    // Average of both fills: (0.3 × 30000 + 0.2 × 30010) / 0.5 = 30004; fees 23.4 + 15.6.
    expect(dec(done.trade!.entryPrice).toFixed()).toBe('30004');
    expect(dec(done.trade!.entryFee).toFixed()).toBe('39');
    expect(dec(done.trade!.quantity).toFixed()).toBe('0.5');
    expect((await intentRow(intent.id)).status).toBe('filled');

    const again = await record(intent, order(intent.clientOrderId, 'closed', '0.5', [t1, t2]));
    expect(again).toMatchObject({ intentStatus: 'filled', applied: false });
    expect(again.trade?.id).toBe(done.trade!.id);
    expect(await database.db.select().from(fills).where(eq(fills.intentId, intent.id))).toHaveLength(2);
    expect(await database.db.select().from(trades).where(eq(trades.entryIntentId, intent.id))).toHaveLength(1);
  });

  it('stores the fee as the exchange charged it beside the quote fee the ledger uses', async () => {
    const intent = await liveEntry();
    const inBase = trade('TB-1', '0.5', '30000', '39', { chargedFee: '0.0013', chargedFeeCurrency: 'BTC' });
    await record(intent, order(intent.clientOrderId, 'closed', '0.5', [inBase]));
    const [row] = await database.db.select().from(fills).where(eq(fills.exchangeTradeId, 'TB-1'));
    expect(row).toMatchObject({ feeCurrency: 'USD', chargedFeeCurrency: 'BTC' });
    expect(dec(row!.fee).toFixed()).toBe('39');
    expect(dec(row!.chargedFee!).toFixed()).toBe('0.0013');
  });

  it('never books one exchange trade twice, even when two intents claim it', async () => {
    const a = await liveEntry();
    const b = await liveEntry();
    const shared = trade('TDUP-1', '0.5', '30000', '39');
    await record(a, order(a.clientOrderId, 'closed', '0.5', [shared]));
    await record(b, order(b.clientOrderId, 'open', '0.5', [shared]));
    expect(await database.db.select().from(fills).where(eq(fills.exchangeTradeId, 'TDUP-1'))).toHaveLength(1);
  });
});
