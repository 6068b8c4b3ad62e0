// The equity chart must be readable: something drawn for a book with one snapshot (a line needs two
// points), an equity axis in the quote currency with rounded ticks and never a zero-height range,
// a time axis spanning the period asked for, and a marker at every entry and exit.
import * as vega from 'vega';
import { compile } from 'vega-lite';
import { describe, expect, it } from 'vitest';
import type { EquityPoint, TradeMarkerRow } from '../../../src/db/queries/stats-ledger.js';
import { chartSpec, equityAxis, timeFormat, type ChartOptions } from '../../../src/services/stats/equity-chart.js';

async function svgOf(points: EquityPoint[], opts?: ChartOptions): Promise<string> {
  const view = new vega.View(vega.parse(compile(chartSpec(points, 't', opts)).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** The tick labels of the axis titled `title` (Vega's SVG: a role-axis group with its title and labels). */
function axisLabels(svg: string, title: string): string[] {
  const groups = svg.split('<g class="mark-group role-axis"');
  const axis = groups.find((g) => g.includes(`>${title}</text>`));
  if (!axis) throw new Error(`no axis titled ${title}`);
  const labels = axis.split('role-axis-label')[1] ?? '';
  return [...labels.split('role-axis-title')[0]!.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) => m[1]!);
}

const at = (m: number) => new Date(Date.UTC(2026, 0, 5, 0, m)).toISOString();

describe('equity chart spec', () => {
  it('draws point marks when a book has a single snapshot', async () => {
    const svg = await svgOf([{ book: 'paper', at: at(0), equity: 10_000, drawdownPct: 0 }]);
    expect(svg).toContain('mark-symbol role-mark');
  });

  it('draws plain lines when every book has a curve', async () => {
    const points: EquityPoint[] = Array.from({ length: 10 }, (_, i) => ({ book: 'paper', at: at(i), equity: 10_000 + i, drawdownPct: 0 }));
    const svg = await svgOf(points);
    expect(svg).toContain('mark-line');
    expect(svg).not.toContain('mark-symbol role-mark');
  });

  it('one snapshot in the last 24h: rounded equity ticks in the quote currency over a padded range, the time axis from it to now', async () => {
    const to = new Date('2026-01-05T12:00:00Z');
    const window = { from: new Date(to.getTime() - 86_400_000), to };
    const svg = await svgOf([{ book: 'paper', at: '2026-01-05T09:30:00Z', equity: 9_642.300993, drawdownPct: 0 }], { currency: 'EUR', window });
    expect(svg).toContain('>equity (EUR)</text>');
    const ticks = axisLabels(svg, 'equity (EUR)');
    expect(ticks.length).toBeGreaterThanOrEqual(3);
    for (const tick of ticks) expect(tick).toMatch(/^\d{1,3}(,\d{3})*(\.\d)?$/);
    expect(ticks).not.toContain('9,642.300993');
    const times = axisLabels(svg, 'time (UTC)');
    expect(times.length).toBeGreaterThanOrEqual(4);
    for (const tick of times) expect(tick).toMatch(/^\d\d:\d\d$/);
    expect(axisLabels(svg, 'drawdown (%)').length).toBeGreaterThanOrEqual(2);
    const spec = chartSpec([{ book: 'paper', at: '2026-01-05T09:30:00Z', equity: 9_642.300993, drawdownPct: 0 }], 't', { currency: 'EUR', window }) as { vconcat: Array<{ layer: Array<{ encoding: { x: { scale: { domain: string[] } } } }> }> };
    expect(spec.vconcat[0]!.layer[0]!.encoding.x.scale.domain).toEqual(['2026-01-05T09:30:00.000Z', to.toISOString()]);
  });

  it('marks every entry and exit on the curve: entries, winning and losing exits apart', async () => {
    const points: EquityPoint[] = Array.from({ length: 30 }, (_, i) => ({ book: 'replay', at: at(i), equity: 10_000 + (i % 7) * 3, drawdownPct: 0 }));
    const markers: TradeMarkerRow[] = [
      { book: 'replay', kind: 'entry', at: at(3), tradeId: 1, symbol: 'BTC/USD', realizedPnl: null },
      { book: 'replay', kind: 'exit', at: at(9), tradeId: 1, symbol: 'BTC/USD', realizedPnl: 4.2 },
      { book: 'replay', kind: 'entry', at: at(12), tradeId: 2, symbol: 'BTC/USD', realizedPnl: null },
      { book: 'replay', kind: 'exit', at: at(20), tradeId: 2, symbol: 'BTC/USD', realizedPnl: -3.1 },
    ];
    const spec = chartSpec(points, 't', { currency: 'USD', markers }) as { vconcat: Array<{ layer: Array<{ data?: { values: Array<{ equity: number; marker: string }> } }> }> };
    const placed = spec.vconcat[0]!.layer[1]!.data!.values;
    expect(placed.map((p) => p.marker)).toEqual(['entry', 'exit, profit', 'entry', 'exit, loss']);
    // On the curve: the equity of the snapshot at the trade's time.
    expect(placed.map((p) => p.equity)).toEqual([points[3]!.equity, points[9]!.equity, points[12]!.equity, points[20]!.equity]);
    const svg = await svgOf(points, { currency: 'USD', markers });
    const symbols = svg.split('mark-symbol role-mark')[1] ?? '';
    expect((symbols.split('</g>')[0]!.match(/<path /g) ?? []).length).toBe(4);
    expect(svg).toContain('>exit, loss</text>');
    expect(svg).toContain('>trades</text>');
  });

  it('rounds equity ticks to what the range can tell apart and labels time by its span', () => {
    const single = equityAxis([9_642.300993]);
    expect(single.format).toBe(',.0f');
    expect(single.domain[0]).toBeCloseTo(9_642.300993 - 48.211505, 4);
    expect(single.domain[1]).toBeCloseTo(9_642.300993 + 48.211505, 4);
    expect(equityAxis([10_000, 10_100]).format).toBe(',.0f');
    expect(equityAxis([9_980, 10_000]).domain).toEqual([9_978, 10_002]);
    expect(equityAxis([10_000, 10_003]).format).toBe(',.1f');
    expect(equityAxis([0.5, 0.52]).format).toBe(',.2f');
    const [lo, hi] = equityAxis([5, 5]).domain;
    expect(hi - lo).toBeGreaterThan(0);
    expect(timeFormat(40_000)).toBe('%H:%M:%S');
    expect(timeFormat(86_400_000)).toBe('%H:%M');
    expect(timeFormat(7 * 86_400_000)).toBe('%b %d %H:%M');
    expect(timeFormat(30 * 86_400_000)).toBe('%b %d');
  });
});
