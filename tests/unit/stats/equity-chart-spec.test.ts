// The equity chart must show something for a book with one snapshot (a fresh bot's first /stats):
// a line needs two points, so single snapshots are drawn as point marks.
import * as vega from 'vega';
import { compile } from 'vega-lite';
import { describe, expect, it } from 'vitest';
import type { EquityPoint } from '../../../src/db/queries/stats-ledger.js';
import { chartSpec } from '../../../src/services/stats/equity-chart.js';

async function svgOf(points: EquityPoint[]): Promise<string> {
  const view = new vega.View(vega.parse(compile(chartSpec(points, 't')).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
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
});
