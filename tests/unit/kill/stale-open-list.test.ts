// The orders a kill's rounds say are still open are the ones the last OpenOrders listed with no
// CancelAll after it that answered or may have run. A list read before such a cancel may be cancelled
// since: it is said as listed at that try, before a later cancel — never "still open", and it gives
// no count of open orders. Kraken here is a scripted exchange: CancelAll 503 (it may have run), an
// OpenOrders that lists two, then a CancelAll that answers and OpenOrders that fail from then on.
import { describe, expect, it } from 'vitest';
import { venueOutcome } from '../../../src/cli/render/kill.js';
import { ExchangeError } from '../../../src/exchange/errors.js';
import type { Exchange, OrderState } from '../../../src/exchange/types.js';
import type { Logger } from '../../../src/logger.js';
import { clearVenue, mergeVenueReports, type VenueCancelReport } from '../../../src/services/kill/cancel-everywhere.js';
import { unconfirmedLine } from '../../../src/services/kill/halt-cancel.js';
import { cancelLines } from '../../../src/slack/views/kill.js';

const logger = { warn: () => {}, error: () => {} } as unknown as Logger;

const order = (id: string): OrderState => ({ exchangeOrderId: id, clientOrderId: `c-${id}`, symbol: 'BTC/USD', side: 'buy', quantity: '0.01' } as OrderState);

/** CancelAll and OpenOrders answer in turn from the scripts; a script's last step repeats. */
function scripted(cancels: Array<number | Error>, lists: Array<OrderState[] | Error>): Exchange {
  let c = 0;
  let l = 0;
  const step = <T>(script: Array<T | Error>, i: number): Promise<T> => {
    const s = script[Math.min(i, script.length - 1)]!;
    return s instanceof Error ? Promise.reject(s) : Promise.resolve(s);
  };
  return {
    cancelAllOrders: () => step(cancels, c++).then((canceled) => ({ canceled, earlierAnswerLost: false })),
    fetchOpenOrders: () => step(lists, l++),
  } as unknown as Exchange;
}

const unavailable = () => new ExchangeError('retryable', 'exchange_unavailable', 'Kraken answered HTTP 503 (EService:Unavailable)');

async function rounds(cancels: Array<number | Error>, lists: Array<OrderState[] | Error>, attempts = 3): Promise<VenueCancelReport> {
  return clearVenue('kraken', () => scripted(cancels, lists), { logger, attempts, sleep: async () => {} });
}

describe('the open orders a kill reports after its rounds', () => {
  it('are never "still open" when a CancelAll that answered came after the list', async () => {
    const report = await rounds([unavailable(), 2], [[order('ONV4FP'), order('OQ25CE')], unavailable()]);
    expect(report).toMatchObject({ confirmed: false, attempts: 3, survivors: [] });
    expect(report.listedBefore).toEqual({ attempt: 1, orders: [expect.objectContaining({ exchangeOrderId: 'ONV4FP' }), expect.objectContaining({ exchangeOrderId: 'OQ25CE' })] });
    const said = venueOutcome(report);
    expect(said).not.toContain('still open');
    expect(said).toContain('listed open at try 1, before a later cancel: ONV4FP BTC/USD buy 0.01; OQ25CE BTC/USD buy 0.01');
    expect(JSON.stringify(cancelLines({ venues: [report], allConfirmed: false }))).not.toContain('still open');
    expect(JSON.stringify(cancelLines({ venues: [report], allConfirmed: false }))).toContain('listed open at try 1, before a later cancel');
    // The halt's cancel says its open orders could not be read, not that Kraken still shows two.
    expect(unconfirmedLine(report, 'Kraken')).toMatch(/^halted: Kraken .* zero open orders could not be confirmed: its open orders could not be read/);
  });

  it('are never "still open" when a CancelAll whose answer was lost (it may have run) came after the list', async () => {
    const report = await rounds([unavailable()], [[order('ONV4FP')], unavailable()], 2);
    expect(report.survivors).toEqual([]);
    expect(report.listedBefore?.attempt).toBe(1);
  });

  it('are still open when Kraken refused the later CancelAll outright (it ran nothing)', async () => {
    const refused = new ExchangeError('retryable', 'rate_limited', 'Kraken CancelAll failed: EAPI:Rate limit exceeded', { exchangeCode: 'EAPI:Rate limit exceeded' });
    const report = await rounds([2, refused], [[order('ONV4FP')], unavailable()], 2);
    expect(report.survivors.map((s) => s.exchangeOrderId)).toEqual(['ONV4FP']);
    expect(report.listedBefore).toBeUndefined();
    expect(venueOutcome(report)).toContain('still open: ONV4FP');
  });

  it('are the latest list once an OpenOrders after the later cancel answered', async () => {
    const report = await rounds([unavailable(), 1], [[order('ONV4FP'), order('OQ25CE')], [order('OQ25CE')]], 2);
    expect(report.survivors.map((s) => s.exchangeOrderId)).toEqual(['OQ25CE']);
    expect(report.listedBefore).toBeUndefined();
  });

  it('stay a past list, counted on from the first rounds, when a later round of the same kill read nothing', async () => {
    const first = await rounds([unavailable()], [unavailable()], 1);
    const later = await rounds([unavailable(), 2], [[order('ONV4FP')], unavailable()], 2);
    const merged = mergeVenueReports(first, later, { firstHolds: true });
    expect(merged).toMatchObject({ confirmed: false, survivors: [], listedBefore: { attempt: 2, orders: [expect.objectContaining({ exchangeOrderId: 'ONV4FP' })] } });
  });

  it('undo a first round\'s "none open" that holds: a later round listed an order, whatever it cancelled after', async () => {
    const first = await rounds([0], [[]], 1);
    expect(first.confirmed).toBe(true);
    const later = await rounds([unavailable(), 2], [[order('ONV4FP')], unavailable()], 2);
    expect(mergeVenueReports(first, later, { firstHolds: true })).toMatchObject({ confirmed: false, survivors: [], listedBefore: { attempt: 2 } });
  });
});
