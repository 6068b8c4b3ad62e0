// Checklist 4: the pre-trade gate's limits are set and would catch what they are for — a band narrow
// enough to catch a fat finger, an order-rate budget inside Kraken's own trading counter (so the gate
// refuses before Kraken does), open-order limits inside Kraken's, and a notional limit that full-size
// entries of the enabled strategies fit under. Self-trade prevention is stated on every Kraken order.
// The limits judged are the engine's, as it recorded them (sources/engine-limits.ts), not this shell's.
import { judgedLimits, judgedStrategies } from '../sources/engine-limits.js';
import { defineCheck, type CheckOutcome } from '../types.js';

/** Kraken's published thresholds (docs.kraken.com, Spot Trading Limits). */
const KRAKEN = { starterRate: 60, proRate: 180, starterOpenOrders: 60, proOpenOrders: 225 } as const;
/** A band wider than this lets a price a tenth off through: it catches no fat finger. */
export const MAX_SENSIBLE_BAND_PCT = 10;

export const preTradeGateCheck = defineCheck({
  id: 'risk.pre_trade_gate',
  title: 'Pre-trade gate limits set: notional, price band, open orders, order rate, self-trade prevention',
  checklistSection: 4,
  async run(ctx): Promise<CheckOutcome> {
    const j = judgedLimits(ctx);
    const l = j.limits;
    const c = {
      RISK_MAX_ORDER_NOTIONAL: l.maxOrderNotional, RISK_PRICE_BAND_PCT: l.priceBandPct, RISK_MAX_OPEN_ORDERS: l.maxOpenOrders,
      RISK_MAX_ORDERS_PER_MINUTE: l.maxOrdersPerMinute, RISK_SELF_TRADE_PREVENTION: l.selfTradePrevention,
    };
    const details = { ...l, limitsFrom: j.from };
    const value = `notional ≤ ${c.RISK_MAX_ORDER_NOTIONAL}, band ${c.RISK_PRICE_BAND_PCT}%, open orders ${c.RISK_MAX_OPEN_ORDERS.perPair}/pair ${c.RISK_MAX_OPEN_ORDERS.total} in all, `
      + `${c.RISK_MAX_ORDERS_PER_MINUTE} orders/min per pair, STP ${c.RISK_SELF_TRADE_PREVENTION}${j.source === 'engine' ? ` (${j.from})` : ''}`;
    const fails: string[] = [];
    const warns: string[] = [];
    if (c.RISK_PRICE_BAND_PCT > MAX_SENSIBLE_BAND_PCT) fails.push(`RISK_PRICE_BAND_PCT ${c.RISK_PRICE_BAND_PCT}% is wider than ${MAX_SENSIBLE_BAND_PCT}%: it catches no fat finger`);
    if (c.RISK_MAX_ORDERS_PER_MINUTE > KRAKEN.proRate) fails.push(`RISK_MAX_ORDERS_PER_MINUTE ${c.RISK_MAX_ORDERS_PER_MINUTE} is above Kraken's highest trading counter (${KRAKEN.proRate}): Kraken would refuse first`);
    else if (c.RISK_MAX_ORDERS_PER_MINUTE > KRAKEN.starterRate) warns.push(`RISK_MAX_ORDERS_PER_MINUTE ${c.RISK_MAX_ORDERS_PER_MINUTE} is above Kraken's Starter counter (${KRAKEN.starterRate}): right only for an Intermediate or Pro account`);
    if (c.RISK_MAX_OPEN_ORDERS.perPair > KRAKEN.proOpenOrders) fails.push(`RISK_MAX_OPEN_ORDERS ${c.RISK_MAX_OPEN_ORDERS.perPair} per pair is above Kraken's highest open-order limit (${KRAKEN.proOpenOrders})`);
    else if (c.RISK_MAX_OPEN_ORDERS.perPair > KRAKEN.starterOpenOrders) warns.push(`RISK_MAX_OPEN_ORDERS ${c.RISK_MAX_OPEN_ORDERS.perPair} per pair is above ${KRAKEN.starterOpenOrders}: check your Kraken tier's open-order limit`);
    const inspection = judgedStrategies(j);
    const strategies = inspection.config?.strategies.filter((s) => s.enabled) ?? [];
    const largest = strategies.reduce((m, s) => Math.max(m, s.limits.maxNotional), 0);
    // Not read as the engine loaded it: nothing was compared, so this check cannot pass on it.
    if (inspection.changed || !inspection.config) warns.push(`the strategies' full-size entries were not compared with RISK_MAX_ORDER_NOTIONAL: the strategies file ${j.strategiesFile} could not be read here as the engine loaded it (risk.strategy_limits says why)`);
    else if (largest > c.RISK_MAX_ORDER_NOTIONAL) warns.push(`RISK_MAX_ORDER_NOTIONAL ${c.RISK_MAX_ORDER_NOTIONAL} is below the largest strategy maxNotional (${largest}): full-size entries will be refused`);
    const all = { ...details, largestStrategyNotional: largest };
    const where = j.source === 'engine' ? " in the engine's environment and restart the engine (ctb start), then audit again" : '';
    if (fails.length > 0) return { status: 'fail', value: `${value}: ${fails.join('; ')}`, fix: `Tighten the pre-trade gate limits named above${where} (.env.example explains each).`, details: all };
    if (warns.length > 0) return { status: 'warn', value: `${value}: ${warns.join('; ')}`, fix: 'Review the limits named above against your Kraken tier and strategies.', details: all };
    return { status: 'pass', value, fix: null, details: all };
  },
});
