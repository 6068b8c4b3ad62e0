// Owns the simulator's market: per pair, either the replay candles (the bundled sample by default)
// played one 1-minute candle per step — looping with prices rescaled so the loop has no jump, or
// stopping at the end — or a fixed price that the control API can move. It keeps the closed candles
// (OHLC serves them, Ticker derives from them) and writes each pair's last price into
// state.tickers, the price the matcher fills at: the bot's market feed and its fills see one market.
import type { Candle } from '../exchange/types.js';
import { PAIRS, type PairInfo } from './catalogue.js';
import { d, Decimal, fixed, toStep } from './format.js';

export interface PathMove {
  pairId: string;
  low: Decimal;
  high: Decimal;
  close: Decimal;
}

/** One closed 1-minute candle: time (unix seconds) and exact prices. */
interface Row {
  time: number;
  open: Decimal;
  high: Decimal;
  low: Decimal;
  close: Decimal;
  volume: Decimal;
}

interface PairPath {
  pair: PairInfo;
  mode: 'replay' | 'fixed';
  series: Candle[];
  /** Next replay candle to play. */
  index: number;
  /** Loops played so far rescale prices by this factor, so a loop continues from the last close. */
  scale: Decimal;
  history: Row[];
  forming: { open: Decimal; high: Decimal; low: Decimal };
}

export interface PathSnapshot {
  t0: number;
  closed: number;
  ended: boolean;
  pairs: Record<string, { mode: 'replay' | 'fixed'; index: number; scale: string; price: string }>;
}

export interface PricePathOptions {
  /** Replay candles (any symbols); pairs without candles get a fixed price. */
  replay: Candle[];
  /** Pairs pinned to a fixed price (pair id → price). */
  fixedPrices?: Record<string, string>;
  loop: boolean;
  /** Closed candles served at start, so a market feed can warm up (Kraken's OHLC gives up to 720). */
  historyCandles: number;
  /** Clock time at start (ms): candle 0 of the history is `historyCandles` minutes before it. */
  startMs: number;
}

const HISTORY_KEEP = 1440;
const FLAT_VOLUME = d('1.5');

export class PricePath {
  /** Unix seconds of the first history candle. */
  #t0: number;
  /** Candles closed since t0 (every pair steps together). */
  #closed = 0;
  #ended = false;
  readonly #loop: boolean;
  readonly #pairs = new Map<string, PairPath>();

  constructor(opts: PricePathOptions, private readonly tickers: Record<string, string>) {
    const bySymbol = new Map<string, Candle[]>();
    for (const c of opts.replay) bySymbol.set(c.symbol, [...(bySymbol.get(c.symbol) ?? []), c]);
    const history = Math.max(1, Math.floor(opts.historyCandles));
    this.#loop = opts.loop;
    for (const pair of Object.values(PAIRS)) {
      const series = opts.fixedPrices?.[pair.id] !== undefined ? [] : bySymbol.get(pair.symbol) ?? [];
      const start = d(opts.fixedPrices?.[pair.id] ?? tickers[pair.id] ?? pair.defaultPrice);
      const path: PairPath = {
        pair, mode: series.length > 1 ? 'replay' : 'fixed', series, index: 0, scale: d(1), history: [],
        forming: { open: start, high: start, low: start },
      };
      this.#pairs.set(pair.id, path);
      if (path.mode === 'fixed') this.tickers[pair.id] = fixed(start, pair.pairDecimals);
    }
    // The history a feed warms up on: played like any other step, before anyone trades.
    const replayLengths = [...this.#pairs.values()].filter((p) => p.mode === 'replay').map((p) => p.series.length);
    const playable = replayLengths.length > 0 ? Math.min(history, Math.floor(Math.min(...replayLengths) / 2)) : history;
    this.#t0 = Math.floor(opts.startMs / 60_000) * 60 - playable * 60;
    for (let i = 0; i < playable; i++) this.advance(1);
  }

  get ended(): boolean {
    return this.#ended;
  }

  get closedCandles(): number {
    return this.#closed;
  }

  /** Unix seconds of the candle now forming. */
  get formingTime(): number {
    return this.#t0 + this.#closed * 60;
  }

  price(pairId: string): Decimal {
    const p = this.#pairs.get(pairId)!;
    return d(this.tickers[pairId] ?? p.forming.open);
  }

  mode(pairId: string): 'replay' | 'fixed' {
    return this.#pairs.get(pairId)!.mode;
  }

  #replayCandle(p: PairPath): Row | undefined {
    if (p.index >= p.series.length) {
      if (!this.#loop) return undefined;
      const first = p.series[0]!;
      const last = p.series[p.series.length - 1]!;
      p.scale = p.scale.mul(d(last.close).div(first.open));
      p.index = 0;
    }
    const c = p.series[p.index++]!;
    const px = (v: number) => toStep(d(v).mul(p.scale), p.pair.tick);
    return { time: this.formingTime, open: px(c.open), high: px(c.high), low: px(c.low), close: px(c.close), volume: d(c.volume) };
  }

  /** Closes `n` candles on every pair; returns each pair's move (the range it traded through). */
  advance(n: number): PathMove[] {
    const moves = new Map<string, PathMove>();
    for (let i = 0; i < n && !this.#ended; i++) {
      const rows = new Map<string, Row>();
      for (const p of this.#pairs.values()) {
        let row: Row | undefined;
        if (p.mode === 'replay') {
          row = this.#replayCandle(p);
          if (!row) {
            this.#ended = true; // a replay that does not loop stops the whole market at its end
            break;
          }
        } else {
          const close = this.price(p.pair.id);
          row = { time: this.formingTime, open: p.forming.open, high: Decimal.max(p.forming.high, close), low: Decimal.min(p.forming.low, close), close, volume: FLAT_VOLUME };
        }
        rows.set(p.pair.id, row);
      }
      if (this.#ended) break;
      for (const [pairId, row] of rows) {
        const p = this.#pairs.get(pairId)!;
        p.history.push(row);
        if (p.history.length > HISTORY_KEEP) p.history.shift();
        p.forming = { open: row.close, high: row.close, low: row.close };
        this.tickers[pairId] = fixed(row.close, p.pair.pairDecimals);
        const prev = moves.get(pairId);
        moves.set(pairId, prev
          ? { pairId, low: Decimal.min(prev.low, row.low), high: Decimal.max(prev.high, row.high), close: row.close }
          : { pairId, low: row.low, high: row.high, close: row.close });
      }
      this.#closed += 1;
    }
    return [...moves.values()];
  }

  /** Pins a pair to `price` from now on (the forming candle trades through it); returns the move. */
  setPrice(pairId: string, price: Decimal): PathMove {
    const p = this.#pairs.get(pairId)!;
    const close = toStep(price, p.pair.tick);
    const from = this.price(pairId);
    p.mode = 'fixed';
    p.forming = { open: p.forming.open, high: Decimal.max(p.forming.high, close), low: Decimal.min(p.forming.low, close) };
    this.tickers[pairId] = fixed(close, p.pair.pairDecimals);
    return { pairId, low: Decimal.min(from, close), high: Decimal.max(from, close), close };
  }

  /** Back to the replay candles (where they left off), when the pair has any. */
  resumeReplay(pairId: string): boolean {
    const p = this.#pairs.get(pairId)!;
    if (p.series.length < 2) return false;
    p.mode = 'replay';
    return true;
  }

  /** OHLC rows in Kraken's shape for `intervalMinutes`, closed candles after `since`, then the forming one. */
  ohlc(pairId: string, intervalMinutes: number, since?: number): { rows: unknown[][]; last: number } {
    const p = this.#pairs.get(pairId)!;
    const span = intervalMinutes * 60;
    const buckets: Row[] = [];
    for (const r of p.history) {
      const time = Math.floor(r.time / span) * span;
      const b = buckets[buckets.length - 1];
      if (b && b.time === time) {
        b.high = Decimal.max(b.high, r.high);
        b.low = Decimal.min(b.low, r.low);
        b.close = r.close;
        b.volume = b.volume.plus(r.volume);
      } else buckets.push({ ...r, time });
    }
    const formingTime = Math.floor(this.formingTime / span) * span;
    const current = this.price(pairId);
    let forming: Row = { time: formingTime, open: p.forming.open, high: Decimal.max(p.forming.high, current), low: Decimal.min(p.forming.low, current), close: current, volume: d(0) };
    if (buckets.length > 0 && buckets[buckets.length - 1]!.time === formingTime) {
      const b = buckets.pop()!;
      forming = { ...b, high: Decimal.max(b.high, forming.high), low: Decimal.min(b.low, forming.low), close: current };
    }
    const closed = buckets.filter((b) => since === undefined || b.time > since).slice(-719);
    const dp = p.pair.pairDecimals;
    const row = (r: Row) => {
      const vwap = r.open.plus(r.high).plus(r.low).plus(r.close).div(4);
      return [r.time, fixed(r.open, dp), fixed(r.high, dp), fixed(r.low, dp), fixed(r.close, dp), fixed(vwap, dp), fixed(r.volume, 8), r.volume.gt(0) ? Math.max(1, r.volume.mul(10).ceil().toNumber()) : 0];
    };
    const last = closed.length > 0 ? closed[closed.length - 1]!.time : (since ?? formingTime - span);
    return { rows: [...closed.map(row), row(forming)], last };
  }

  /** Volume over the last 24 hours of candles (extrapolated while the history is shorter) and its VWAP. */
  daily(pairId: string): { volume: Decimal; vwap: Decimal; low: Decimal; high: Decimal; open: Decimal; trades: number } {
    const p = this.#pairs.get(pairId)!;
    const rows = p.history;
    const current = this.price(pairId);
    if (rows.length === 0) return { volume: d(0), vwap: current, low: current, high: current, open: current, trades: 0 };
    const volume = rows.reduce((s, r) => s.plus(r.volume), d(0));
    const value = rows.reduce((s, r) => s.plus(r.volume.mul(r.close)), d(0));
    return {
      volume: volume.div(rows.length).mul(HISTORY_KEEP),
      vwap: volume.gt(0) ? value.div(volume) : current,
      low: rows.reduce((m, r) => Decimal.min(m, r.low), current),
      high: rows.reduce((m, r) => Decimal.max(m, r.high), current),
      open: rows[0]!.open,
      trades: rows.length * 10,
    };
  }

  snapshot(): PathSnapshot {
    return {
      t0: this.#t0, closed: this.#closed, ended: this.#ended,
      pairs: Object.fromEntries([...this.#pairs].map(([id, p]) => [id, { mode: p.mode, index: p.index, scale: p.scale.toFixed(), price: this.price(id).toFixed() }])),
    };
  }

  /**
   * Continues a saved path: same candle clock, replay position and prices. The candle history is
   * rebuilt from the replay file up to that position (flat at the price for a fixed pair).
   */
  restore(s: PathSnapshot): void {
    this.#t0 = s.t0;
    this.#closed = s.closed;
    this.#ended = s.ended;
    for (const [id, saved] of Object.entries(s.pairs)) {
      const p = this.#pairs.get(id);
      if (!p) continue;
      p.mode = saved.mode === 'replay' && p.series.length > 1 ? 'replay' : 'fixed';
      p.index = Math.min(saved.index, p.series.length);
      p.scale = d(saved.scale);
      const price = toStep(d(saved.price), p.pair.tick);
      const keep = Math.min(s.closed, 720);
      const from = p.mode === 'replay' ? Math.max(0, p.index - keep) : 0;
      const count = p.mode === 'replay' ? p.index - from : keep;
      const px = (v: number) => toStep(d(v).mul(p.scale), p.pair.tick);
      p.history = Array.from({ length: count }, (_, i) => {
        const time = this.formingTime - (count - i) * 60;
        const c = p.mode === 'replay' ? p.series[from + i]! : undefined;
        return c
          ? { time, open: px(c.open), high: px(c.high), low: px(c.low), close: px(c.close), volume: d(c.volume) }
          : { time, open: price, high: price, low: price, close: price, volume: FLAT_VOLUME };
      });
      p.forming = { open: price, high: price, low: price };
      this.tickers[id] = fixed(price, p.pair.pairDecimals);
    }
  }
}
