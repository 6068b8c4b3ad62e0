import { describe, expect, it } from 'vitest';
import { feeFor, marketFillPrice, slippageBps, type PaperPricing } from '../../src/exchange/paper/pricing.js';
import { dec } from '../../src/money.js';

const pricing: PaperPricing = { takerFeePct: 0.26, makerFeePct: 0.16, slippageBps: 2, impactBps: 50 };

describe('paper pricing', () => {
  it("charges the default paper fees (Kraken's older lowest-volume schedule): 0.26% taker, 0.16% maker, in quote currency", () => {
    expect(feeFor(pricing, 'taker', dec('0.5'), dec('60000')).toFixed()).toBe('78');
    expect(feeFor(pricing, 'maker', dec('0.5'), dec('60000')).toFixed()).toBe('48');
  });

  it('rounds fees up in the venue’s favour, to 8 decimals', () => {
    expect(feeFor(pricing, 'taker', dec('0.00000001'), dec('1')).toFixed()).toBe('0.00000001');
  });

  it('slips a buy up and a sell down from the candle close', () => {
    const candle = { close: 60_000, volume: 1_000_000 };
    const buy = marketFillPrice(pricing, 'buy', dec('0.001'), candle);
    const sell = marketFillPrice(pricing, 'sell', dec('0.001'), candle);
    expect(buy.gt(60_000)).toBe(true);
    expect(sell.lt(60_000)).toBe(true);
  });

  it('slips more for an order that is larger relative to the candle volume', () => {
    const small = slippageBps(pricing, dec('0.01'), { volume: 10 });
    const large = slippageBps(pricing, dec('5'), { volume: 10 });
    expect(small).toBeGreaterThan(pricing.slippageBps);
    expect(large).toBeGreaterThan(small);
    expect(large).toBeCloseTo(2 + 50 * Math.sqrt(0.5), 6);
  });

  it('treats a candle without volume as no depth at all (the full impact)', () => {
    expect(slippageBps(pricing, dec('0.01'), { volume: 0 })).toBe(52);
  });
});
