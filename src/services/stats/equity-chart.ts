// Owns the equity-and-drawdown picture: a Vega-Lite spec over the bucketed equity curve, with a
// marker at every entry and exit, rendered to SVG by Vega (no browser, no canvas) and rasterised to
// PNG by resvg. Used by `ctb stats --chart` and by the /stats reply's thread in Slack.
import type { TopLevelSpec } from 'vega-lite';
import type { Db } from '../../db/client.js';
import { equityCurvePoints, tradeMarkers, type EquityPoint, type StatsWindow, type TradeMarkerRow } from '../../db/queries/stats-ledger.js';

export interface EquityChart {
  png: Buffer;
  points: number;
  /** Entries and exits drawn on the curve. */
  markers: number;
  width: number;
  height: number;
}

export interface ChartOptions {
  /** The quote currency equity is counted in (QUOTE_CURRENCY): on the axis, in the tick labels' title. */
  currency: string;
  /** The period asked for: the time axis runs to its end, so one snapshot in 24h sits where it belongs. */
  window?: StatsWindow;
  /** Entries and exits to mark on the equity line. */
  markers?: TradeMarkerRow[];
}

const WIDTH = 900;
const PALETTE = { paper: '#1f77b4', live: '#d62728', replay: '#7f7f7f' } as const;
const MARKERS = {
  entry: { shape: 'triangle-up', color: '#2ca02c', label: 'entry' },
  win: { shape: 'triangle-down', color: '#2ca02c', label: 'exit, profit' },
  loss: { shape: 'triangle-down', color: '#d62728', label: 'exit, loss' },
} as const;
/** More markers than this hide the curve: the most recent ones are drawn. */
export const MAX_MARKERS = 300;
const HOUR = 3_600_000;

/**
 * The equity axis: never a zero-height range (one snapshot, or a flat curve, gave a single tick
 * labelled 9,642.300993): a flat curve is padded by half a percent of its value, a moving one by a
 * tenth of its range; labels rounded to what the range can tell apart.
 */
export function equityAxis(values: number[]): { domain: [number, number]; format: string } {
  const lo = Math.min(...values);
  const hi = Math.max(...values);
  const pad = hi > lo ? Math.max((hi - lo) * 0.1, 0.5) : Math.max(Math.abs(hi) * 0.005, 1);
  const domain: [number, number] = [lo - pad, hi + pad];
  const span = domain[1] - domain[0];
  return { domain, format: span >= 20 ? ',.0f' : span >= 2 ? ',.1f' : ',.2f' };
}

/** Tick labels for the time axis, by how much time it spans. */
export function timeFormat(spanMs: number): string {
  if (spanMs <= HOUR / 6) return '%H:%M:%S';
  if (spanMs <= 36 * HOUR) return '%H:%M';
  if (spanMs <= 10 * 24 * HOUR) return '%b %d %H:%M';
  return '%b %d';
}

function markerKind(m: TradeMarkerRow): keyof typeof MARKERS {
  if (m.kind === 'entry') return 'entry';
  return (m.realizedPnl ?? 0) >= 0 ? 'win' : 'loss';
}

/**
 * Each marker sits on its book's curve: at the equity of the last point at or before it. A trade of
 * a book without a curve, or from before its first snapshot, has no equity to sit on and is left out.
 */
export function placeMarkers(points: EquityPoint[], markers: TradeMarkerRow[]) {
  const byBook = new Map<string, Array<{ t: number; equity: number }>>();
  for (const p of points) {
    const list = byBook.get(p.book) ?? [];
    list.push({ t: new Date(p.at).getTime(), equity: p.equity });
    byBook.set(p.book, list);
  }
  const out: Array<{ at: string; equity: number; marker: string; tooltip: string }> = [];
  for (const m of markers.slice(-MAX_MARKERS)) {
    const curve = byBook.get(m.book);
    if (!curve || curve.length === 0) continue;
    const t = new Date(m.at).getTime();
    if (t < curve[0]!.t) continue;
    let y = curve[0]!.equity;
    for (const c of curve) {
      if (c.t > t) break;
      y = c.equity;
    }
    const kind = markerKind(m);
    out.push({ at: new Date(t).toISOString(), equity: y, marker: MARKERS[kind].label, tooltip: `#${m.tradeId} ${m.symbol}` });
  }
  return out;
}

/**
 * The Vega-Lite spec of the chart. A book with a single snapshot has no line to draw, so its points
 * are marked: otherwise a fresh bot's first chart would be an empty frame.
 */
export function chartSpec(points: EquityPoint[], title: string, opts: ChartOptions = { currency: 'USD' }): TopLevelSpec {
  const values = points.map((p) => ({ book: p.book, at: new Date(p.at).toISOString(), equity: p.equity, drawdown: -p.drawdownPct }));
  const books = (['paper', 'live', 'replay'] as const).filter((b) => points.some((p) => p.book === b));
  const times = points.map((p) => new Date(p.at).getTime());
  // From the first snapshot in the period up to its end (now): a curve that began an hour ago is not
  // squeezed into the last pixels of a 24h axis, and a lone snapshot sits at its time, not alone mid-chart.
  const from = Math.min(...times);
  const to = opts.window?.from ? Math.max(opts.window.to.getTime(), ...times) : Math.max(...times);
  // A single instant (one snapshot, period "all") still gets a readable hour around it.
  const [x0, x1] = to - from < 1000 ? [from - HOUR / 2, to + HOUR / 2] : [from, to];
  const x = {
    field: 'at', type: 'temporal' as const, title: 'time (UTC)',
    scale: { type: 'utc' as const, domain: [new Date(x0).toISOString(), new Date(x1).toISOString()] },
    axis: { format: timeFormat(x1 - x0), labelOverlap: true, tickCount: 8 },
  };
  const y = equityAxis(points.map((p) => p.equity));
  const sparse = books.some((b) => points.filter((p) => p.book === b).length < 2);
  const point = sparse ? { point: { size: 60, filled: true } } : {};
  const color = { field: 'book', type: 'nominal' as const, title: 'book', scale: { domain: books, range: books.map((b) => PALETTE[b]) } };
  const placed = placeMarkers(points, opts.markers ?? []);
  const kinds = (['entry', 'win', 'loss'] as const).filter((k) => placed.some((p) => p.marker === MARKERS[k].label));
  const equityLine = {
    mark: { type: 'line' as const, strokeWidth: 2, interpolate: 'step-after' as const, ...point },
    encoding: {
      x, color,
      y: { field: 'equity', type: 'quantitative' as const, title: `equity (${opts.currency})`, scale: { zero: false, domain: y.domain, nice: true }, axis: { format: y.format, tickCount: 6 } },
    },
  };
  const markerLayer = {
    data: { values: placed },
    mark: { type: 'point' as const, filled: true, size: 90, opacity: 0.9, stroke: 'white', strokeWidth: 0.5, clip: true },
    encoding: {
      x,
      y: { field: 'equity', type: 'quantitative' as const },
      shape: { field: 'marker', type: 'nominal' as const, title: 'trades', scale: { domain: kinds.map((k) => MARKERS[k].label), range: kinds.map((k) => MARKERS[k].shape) } },
      fill: { field: 'marker', type: 'nominal' as const, title: 'trades', scale: { domain: kinds.map((k) => MARKERS[k].label), range: kinds.map((k) => MARKERS[k].color) } },
      tooltip: { field: 'tooltip', type: 'nominal' as const },
    },
  };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: title, anchor: 'start', fontSize: 16 },
    background: 'white',
    padding: 16,
    data: { values },
    vconcat: [
      {
        width: WIDTH, height: 260,
        layer: placed.length > 0 ? [equityLine, markerLayer] : [equityLine],
        resolve: { scale: { fill: 'independent', shape: 'independent' } },
      },
      {
        width: WIDTH, height: 140,
        mark: { type: 'area', opacity: 0.35, line: true, interpolate: 'step-after', ...point },
        encoding: {
          x, color,
          // Never a zero-height range either: a curve without a drawdown still shows 0 against -1 %.
          y: {
            field: 'drawdown', type: 'quantitative', title: 'drawdown (%)', stack: null,
            scale: { domain: [Math.min(-1, -1.1 * Math.max(...points.map((p) => p.drawdownPct))), 0], nice: true }, axis: { format: '.1f', tickCount: 4 },
          },
        },
      },
    ],
    config: { font: 'DejaVu Sans', axis: { labelFontSize: 11, titleFontSize: 12 }, legend: { orient: 'top' } },
  };
}

/** The chart of the window, or null when no equity snapshot falls inside it. */
export async function renderEquityChart(db: Db, opts: { window: StatsWindow; title: string; currency: string; buckets?: number }): Promise<EquityChart | null> {
  const points = await equityCurvePoints(db, { window: opts.window, buckets: opts.buckets ?? 400 });
  if (points.length === 0) return null;
  const markers = await tradeMarkers(db, { window: opts.window, limit: MAX_MARKERS });
  const drawn = placeMarkers(points, markers).length;
  // vega, vega-lite and resvg take most of a second to import: only a chart pays for them.
  const [vega, { compile }, { Resvg }] = await Promise.all([import('vega'), import('vega-lite'), import('@resvg/resvg-js')]);
  const runtime = vega.parse(compile(chartSpec(points, opts.title, { currency: opts.currency, window: opts.window, markers })).spec);
  const view = new vega.View(runtime, { renderer: 'none' });
  try {
    const svg = await view.toSVG();
    const image = new Resvg(svg, { font: { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans', sansSerifFamily: 'DejaVu Sans' } }).render();
    return { png: image.asPng(), points: points.length, markers: drawn, width: image.width, height: image.height };
  } finally {
    view.finalize();
  }
}
