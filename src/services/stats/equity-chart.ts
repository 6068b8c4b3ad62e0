// Owns the equity-and-drawdown picture: a Vega-Lite spec over the bucketed equity curve, rendered
// to SVG by Vega (no browser, no canvas) and rasterised to PNG by resvg. Used by `ctb stats
// --chart` and by the /stats reply's thread in Slack.
import type { TopLevelSpec } from 'vega-lite';
import type { Db } from '../../db/client.js';
import { equityCurvePoints, type EquityPoint, type StatsWindow } from '../../db/queries/stats-ledger.js';

export interface EquityChart {
  png: Buffer;
  points: number;
  width: number;
  height: number;
}

const WIDTH = 900;
const PALETTE = { paper: '#1f77b4', live: '#d62728', replay: '#7f7f7f' } as const;

/**
 * The Vega-Lite spec of the chart. A book with a single snapshot has no line to draw, so its points
 * are marked: otherwise a fresh bot's first chart would be an empty frame.
 */
export function chartSpec(points: EquityPoint[], title: string): TopLevelSpec {
  const values = points.map((p) => ({ book: p.book, at: new Date(p.at).toISOString(), equity: p.equity, drawdown: -p.drawdownPct }));
  const books = (['paper', 'live', 'replay'] as const).filter((b) => points.some((p) => p.book === b));
  const x = { field: 'at', type: 'temporal' as const, title: 'UTC', scale: { type: 'utc' as const }, axis: { format: '%b %d %H:%M', labelOverlap: true } };
  const sparse = books.some((b) => points.filter((p) => p.book === b).length < 2);
  const point = sparse ? { point: { size: 60, filled: true } } : {};
  const color = { field: 'book', type: 'nominal' as const, title: 'book', scale: { domain: books, range: books.map((b) => PALETTE[b]) } };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: title, anchor: 'start', fontSize: 16 },
    background: 'white',
    padding: 16,
    data: { values },
    vconcat: [
      {
        width: WIDTH, height: 260,
        mark: { type: 'line', strokeWidth: 2, ...point },
        encoding: { x, y: { field: 'equity', type: 'quantitative', title: 'equity', scale: { zero: false } }, color },
      },
      {
        width: WIDTH, height: 140,
        mark: { type: 'area', opacity: 0.35, line: true, ...point },
        encoding: { x, y: { field: 'drawdown', type: 'quantitative', title: 'drawdown %', stack: null }, color },
      },
    ],
    config: { font: 'DejaVu Sans', axis: { labelFontSize: 11, titleFontSize: 12 }, legend: { orient: 'top' } },
  };
}

/** The chart of the window, or null when no equity snapshot falls inside it. */
export async function renderEquityChart(db: Db, opts: { window: StatsWindow; title: string; buckets?: number }): Promise<EquityChart | null> {
  const points = await equityCurvePoints(db, { window: opts.window, buckets: opts.buckets ?? 400 });
  if (points.length === 0) return null;
  // vega, vega-lite and resvg take most of a second to import: only a chart pays for them.
  const [vega, { compile }, { Resvg }] = await Promise.all([import('vega'), import('vega-lite'), import('@resvg/resvg-js')]);
  const runtime = vega.parse(compile(chartSpec(points, opts.title)).spec);
  const view = new vega.View(runtime, { renderer: 'none' });
  try {
    const svg = await view.toSVG();
    const image = new Resvg(svg, { font: { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans', sansSerifFamily: 'DejaVu Sans' } }).render();
    return { png: image.asPng(), points: points.length, width: image.width, height: image.height };
  } finally {
    view.finalize();
  }
}
