import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_STRATEGIES_FILE, inspectStrategies, loadStrategies } from '../../src/engine/strategies/config.js';
import { loadTradedStrategies } from '../../src/engine/strategies/traded-pairs.js';
import { MaCrossover } from '../../src/engine/strategies/ma-crossover.js';
import { candlesFrom, roundTripCloses } from '../support/engine.js';

const dir = mkdtempSync(join(tmpdir(), 'ctb-strategies-'));
function file(name: string, content: unknown): string {
  const path = join(dir, name);
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
}

const valid = {
  name: 'ok', type: 'ma_crossover', pairs: ['BTC/USD'], params: { fastPeriod: 5, slowPeriod: 20 },
  limits: { maxPositionPctOfEquity: 10, maxNotional: 1000, maxOpenPositions: 1, minConfidence: 0.5, minVolume24hQuote: 1_000_000 },
};

describe('strategy configuration', () => {
  it('loads the shipped config/strategies.json, every enabled strategy with its limits', () => {
    const { strategies } = loadStrategies({ STRATEGIES_FILE: undefined });
    expect(strategies.length).toBeGreaterThan(0);
    for (const s of strategies) {
      expect(s.limits).toEqual(expect.objectContaining({
        maxPositionPctOfEquity: expect.any(Number), maxNotional: expect.any(Number), maxOpenPositions: expect.any(Number),
        minConfidence: expect.any(Number), minVolume24hQuote: expect.any(Number),
      }));
    }
    expect(inspectStrategies(DEFAULT_STRATEGIES_FILE).ok).toBe(true);
  });

  it('names the file, the strategy, the field and what is expected for each bad value', () => {
    const path = file('bad.json', { strategies: [{ ...valid, limits: { ...valid.limits, maxNotional: 'lots', minConfidence: 2 } }] });
    const result = inspectStrategies(path);
    expect(result.ok).toBe(false);
    expect(result.problems).toContain(`${path}: strategies[0:ok].limits.maxNotional: expected a number (quote currency)`);
    expect(result.problems).toContain(`${path}: strategies[0:ok].limits.minConfidence: expected at most 1`);
  });

  it('refuses an enabled strategy whose pair is not among TRADING_PAIRS, with what is expected and a suggestion; a disabled one is not checked', () => {
    const path = file('typo-pair.json', { strategies: [
      { ...valid, pairs: ['BTC/USD', 'BTC/USDD'] },
      { ...valid, name: 'off', enabled: false, pairs: ['DOGE/JPY'] },
    ] });
    const err = (() => { try { loadTradedStrategies({ STRATEGIES_FILE: path, TRADING_PAIRS: ['BTC/USD', 'ETH/USD'] }); return null; } catch (e) { return e; } })();
    expect(err).toMatchObject({ kind: 'config', code: 'bad_strategies_file' });
    expect((err as Error).message).toBe(
      `Invalid strategies file:\n  - ${path}: strategies[0:ok].pairs[1]: "BTC/USDD" is not a pair the market feed serves; `
      + 'expected one of TRADING_PAIRS (BTC/USD, ETH/USD) (Did you mean BTC/USD?)',
    );
    expect(loadTradedStrategies({ STRATEGIES_FILE: path, TRADING_PAIRS: ['BTC/USD', 'BTC/USDD'] }).config.strategies).toHaveLength(2);
  });

  it('refuses a strategy without its position limits', () => {
    const { limits: _omit, ...noLimits } = valid;
    const problems = inspectStrategies(file('nolimits.json', { strategies: [noLimits] })).problems;
    expect(problems.join('\n')).toMatch(/strategies\[0:ok\]\.limits: /);
  });

  it('refuses an enabled strategy whose confidence threshold is 0, naming strategy, field and what is expected', () => {
    const path = file('noconfidence.json', { strategies: [{ ...valid, limits: { ...valid.limits, minConfidence: 0 } }] });
    expect(inspectStrategies(path).problems).toEqual([
      `${path}: strategies[0:ok].limits.minConfidence: expected more than 0 for an enabled strategy (0 lets every signal trade), e.g. 0.3`,
    ]);
    expect(() => loadStrategies({ STRATEGIES_FILE: path })).toThrow(expect.objectContaining({ kind: 'config', code: 'bad_strategies_file' }));
    // A disabled strategy never trades: its threshold is not held against the file.
    const disabled = file('disabled.json', { strategies: [valid, { ...valid, name: 'off', enabled: false, limits: { ...valid.limits, minConfidence: 0 } }] });
    expect(inspectStrategies(disabled).ok).toBe(true);
  });

  it('refuses an enabled strategy whose volume filter is 0 (the liquidity floor off), naming strategy, field and what is expected', () => {
    const path = file('novolume.json', { strategies: [{ ...valid, limits: { ...valid.limits, minVolume24hQuote: 0 } }] });
    expect(inspectStrategies(path).problems).toEqual([
      `${path}: strategies[0:ok].limits.minVolume24hQuote: expected more than 0 for an enabled strategy (0 switches the liquidity floor off: any pair trades however thin), e.g. 1000000 (24h traded value in quote currency)`,
    ]);
    expect(() => loadStrategies({ STRATEGIES_FILE: path })).toThrow(expect.objectContaining({ kind: 'config', code: 'bad_strategies_file' }));
    const disabled = file('novolume-disabled.json', { strategies: [valid, { ...valid, name: 'off', enabled: false, limits: { ...valid.limits, minVolume24hQuote: 0 } }] });
    expect(inspectStrategies(disabled).ok).toBe(true);
  });

  it('rejects an unknown strategy type, a fast period not below the slow one, and duplicate names', () => {
    expect(inspectStrategies(file('type.json', { strategies: [{ ...valid, type: 'martingale' }] })).problems.join('\n'))
      .toMatch(/expected type "ma_crossover" or "momentum"/);
    expect(inspectStrategies(file('periods.json', { strategies: [{ ...valid, params: { fastPeriod: 30, slowPeriod: 20 } }] })).problems.join('\n'))
      .toMatch(/params\.fastPeriod: expected fastPeriod smaller than slowPeriod/);
    expect(inspectStrategies(file('dupes.json', { strategies: [valid, valid] })).problems.join('\n')).toMatch(/unique/);
  });

  it('suggests the close strategy type for a typo, and says what was written', () => {
    const problems = inspectStrategies(file('typo.json', { strategies: [{ ...valid, type: 'ma_crosover' }, { ...valid, name: 'other', type: 'martingale' }] })).problems;
    expect(problems[0]).toBe(`${join(dir, 'typo.json')}: strategies[0:${valid.name}].type: expected type "ma_crossover" or "momentum", got "ma_crosover" (Did you mean ma_crossover?)`);
    expect(problems[1]).toBe(`${join(dir, 'typo.json')}: strategies[1:other].type: expected type "ma_crossover" or "momentum", got "martingale"`);
    const { type: _type, ...untyped } = valid;
    expect(inspectStrategies(file('untyped.json', { strategies: [untyped] })).problems[0]).toMatch(/\.type: expected type "ma_crossover" or "momentum", and the strategy has none$/);
  });

  it('reports a JSON syntax error by line and column, with the text of that line', () => {
    const text = '{\n  "strategies": [\n    { "name": "a", "type": "momentum" }\n    { "name": "b" }\n  ]\n}\n';
    expect(inspectStrategies(file('comma.json', text)).problems).toEqual([
      `${join(dir, 'comma.json')}:4:5: not valid JSON (Expected ',' or ']' after array element); line 4 reads:     { "name": "b" }`,
    ]);
    // Cut short: where the text ends.
    expect(inspectStrategies(file('short.json', '{\n  "strategies": [\n')).problems[0]).toBe(`${join(dir, 'short.json')}:3:1: not valid JSON (Unexpected end of JSON input); line 3 reads: (an empty line)`);
  });

  it('reports an unreadable file and invalid JSON, and loadStrategies throws a config error (exit 2)', () => {
    expect(inspectStrategies(join(dir, 'missing.json')).problems[0]).toMatch(/missing\.json: cannot be read \(ENOENT\)/);
    expect(inspectStrategies(file('broken.json', '{ "strategies": [')).problems[0]).toMatch(/broken\.json:1:\d+: not valid JSON/);
    expect(() => loadStrategies({ STRATEGIES_FILE: join(dir, 'broken.json') })).toThrow(expect.objectContaining({ kind: 'config' }));
  });
});

describe('moving-average crossover', () => {
  it('signals buy after the fast average crosses above the slow one, and sell when it crosses back', () => {
    const strategy = new MaCrossover('t', { fastPeriod: 3, slowPeriod: 8, fullConfidenceGapPct: 0.05, signalWindow: 3 });
    const signals = candlesFrom(roundTripCloses()).map((c) => strategy.update(c));
    const firstBuy = signals.findIndex((s) => s.action === 'buy');
    const firstSell = signals.findIndex((s) => s.action === 'sell' && signals.indexOf(s) > firstBuy);
    expect(firstBuy).toBeGreaterThan(11); // not before the price turns up
    expect(firstSell).toBeGreaterThan(firstBuy);
    expect(signals.filter((s) => s.action === 'buy').every((s) => s.confidence > 0 && s.confidence <= 1)).toBe(true);
    // A buy is only offered for signalWindow candles after the cross.
    expect(signals.filter((s) => s.action === 'buy').length).toBeLessThanOrEqual(3);
  });
});
