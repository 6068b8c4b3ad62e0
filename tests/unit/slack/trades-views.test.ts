// /trades, /balance and the /exit confirm step read amounts as `ctb trades` / `ctb balance` print them:
// quote-currency money to the cent with separators, PnL with its sign, % to 2 dp, crypto sizes as
// held (trailing zeros dropped), prices as the terminal's tables have them, — for missing. Stored
// values carry every digit (tests/integration/ops/trades-balance.test.ts holds that --json keeps them).
import { describe, expect, it } from 'vitest';
import type { BalanceResult } from '../../../commands/balance.js';
import type { ExitResult } from '../../../commands/exit.js';
import type { TradesResult } from '../../../commands/trades.js';
import { renderExit } from '../../../src/cli/commands/exit.js';
import { renderExitConfirm, renderExitProgress } from '../../../src/slack/views/exit.js';
import { renderBalance, renderTrades } from '../../../src/slack/views/trades.js';

const at = new Date('2026-12-05T04:00:00Z');
const date = (d: Date) => `<!date^${d.getTime() / 1000}^{date_short_pretty} {time}|${d.toISOString()}>`;
const open = (over: Partial<TradesResult['open'][number]>): TradesResult['open'][number] => ({
  id: 7, inFlight: null, book: 'paper', strategy: 'ma-cross', symbol: 'BTC/USD', side: 'long', quantity: '0.01538460', entryPrice: '68019.23764718',
  entryAt: at, ageSeconds: 3_900, mark: { price: '68100.5', at, source: 'engine' }, unrealizedPnl: '1.2345678', unrealizedPct: '0.11945678', ...over,
});

type Block = { type: string; text?: { text: string }; fields?: Array<{ text: string }>; elements?: Array<{ text: string }> };
const texts = (blocks: unknown[]) => (blocks as Block[]).map((b) => b.text?.text ?? b.fields?.map((f) => f.text).join(' | ') ?? b.elements?.map((e) => e.text).join(' ') ?? b.type);
const LONG_DIGITS = /8797\.1234567|1234567\.891|300\.0332553|68019\.23764718|0\.01538460|1234\.5678912|65\.4361088|1300\.0040/;

describe('/trades view', () => {
  const result: TradesResult = {
    ok: true, at, paperSetAside: null, pendingExits: [],
    open: [
      open({}),
      open({ id: 8, book: 'live', symbol: 'ETH/USD', quantity: '0.50000000', entryPrice: '0.00012345678', mark: null, unrealizedPnl: null, unrealizedPct: null }),
      open({ id: 9, strategy: 'momentum <fast>', quantity: '1234567.891', entryPrice: '8797.1234567', mark: { price: '8797.12', at, source: 'kraken' }, unrealizedPnl: '-0.004', unrealizedPct: '-0.00004' }),
    ],
    totals: [
      { book: 'paper', open: 2, costBasis: '1234567.891', unrealizedPnl: '8797.1234567', unmarked: 0 },
      { book: 'live', open: 1, costBasis: '8797.1234567', unrealizedPnl: null, unmarked: 1 },
    ],
    closed: [
      { id: 3, book: 'paper', strategy: 'ma-cross', symbol: 'BTC/USD', quantity: '0.01538460', entryPrice: '68019.23764718', exitPrice: '67000', entryAt: at, exitAt: at, realizedPnl: '-300.0332553' },
      { id: 2, book: 'paper', strategy: 'ma-cross', symbol: 'BTC/USD', quantity: '0.1', entryPrice: '60000', exitPrice: null, entryAt: at, exitAt: null, realizedPnl: null },
    ],
  };

  it('shows money to the cent with separators, PnL and % signed, sizes as held, prices as the terminal does, — for missing (a book total with an unmarked trade too)', () => {
    const m = renderTrades(result);
    expect(texts(m.blocks)).toEqual([
      '*Open trades (3)*\n'
        + '• `#7` *BTC/USD* long 0.0153846 @ 68,019.24 → mark 68,100.50: *+1.23* (+0.12%) · 1h 05m · ma-cross, paper\n'
        + '• `#8` *ETH/USD* long 0.5 @ 0.000123457 → no mark: PnL — · 1h 05m · ma-cross, live\n'
        + '• `#9` *BTC/USD* long 1234567.891 @ 8,797.12 → mark 8,797.12: *0.00* (0.00%) · 1h 05m · momentum &lt;fast&gt;, paper',
      '*paper*\n2 open, cost 1,234,567.89\nunrealised +8,797.12 | *live*\n1 open, cost 8,797.12\nunrealised — (1 unmarked)',
      '*Last 2 closed*\n'
        + `• \`#3\` *BTC/USD* 0.0153846 68,019.24 → 67,000.00: *-300.03* · ${date(at)} · ma-cross, paper\n`
        + '• `#2` *BTC/USD* 0.1 60,000.00 → —: *—* · — · ma-cross, paper',
      `As of ${date(at)} · marks: the engine's last candle, else Kraken's ticker (a replay trade: its book's latest equity snapshot) · \`/exit <id>\` closes one trade (operators)`,
    ]);
    expect(m.text).toBe('3 open trade(s): paper unrealised +8,797.12, live unrealised — (1 unmarked)');
    // Trade #9's size, 1234567.891, is a crypto amount: shown as held, so only the money is checked here.
    expect(JSON.stringify(m)).not.toMatch(/8797\.1234567|300\.0332553|68019\.23764718|0\.01538460|cost 1234567\.891/);
  });
});

describe('exits queued', () => {
  it('lists each queued exit: its request, the trades it closes, who asked, since when and when it expires', () => {
    const t = renderTrades({
      ok: true, at, closed: null, paperSetAside: null, totals: [{ book: 'paper', open: 1, costBasis: '1075', unrealizedPnl: '0', unmarked: 0 }],
      open: [open({ id: 3 })],
      pendingExits: [
        { requestId: 7, target: 3, tradeIds: [3], requestedBy: 'UOPERATOR1', status: 'pending', waitedMs: 65_000, ttlMs: 600_000, queued: 'queued 1m 5s ago; expires in 8m 55s (EXIT_REQUEST_TTL 10m) unless an engine carries it out first, and then nothing is sold' },
        { requestId: 8, target: 'all', tradeIds: [3, 4], requestedBy: 'cli:ops', status: 'running', waitedMs: 1_000, ttlMs: 600_000, queued: 'the engine is carrying it out now' },
      ],
    });
    const shown = texts(t.blocks).join('\n');
    expect(shown).toContain('*Exits queued (2)* — asking again for these trades is refused while they are');
    expect(shown).toContain('• request #7: exit of trade #3, asked by <@UOPERATOR1>: queued 1m 5s ago; expires in 8m 55s (EXIT_REQUEST_TTL 10m)');
    expect(shown).toContain('• request #8: exit of every listed trade (#3, #4), asked by `cli:ops`: the engine is carrying it out now');
  });
});

describe('an exit in flight, partly filled', () => {
  it('lists its trade by what it still holds and what the exit sold of what it asked', () => {
    const t = renderTrades({
      ok: true, at, closed: null, paperSetAside: null, pendingExits: [], totals: [{ book: 'live', open: 1, costBasis: '1075', unrealizedPnl: '0', unmarked: 0 }],
      open: [open({ id: 3, inFlight: { intentId: 9, purpose: 'exit', ordered: '0.0322', filled: '0.0107', note: 'exit in flight, partly filled' }, book: 'live', quantity: '0.0215', entryPrice: '50000' })],
    });
    expect(texts(t.blocks)[0]).toContain('• `#3, exit in flight, partly filled` *BTC/USD* long 0.0215 (0.0107 of 0.0322 sold) @ 50,000.00');
  });
});

describe('an entry in flight, partly filled', () => {
  it('is listed by what it filled of what it asked, and its asset is bot-managed with the note', () => {
    const t = renderTrades({
      ok: true, at, closed: null, paperSetAside: null, pendingExits: [], totals: [{ book: 'live', open: 1, costBasis: '535', unrealizedPnl: '0', unmarked: 0 }],
      open: [open({ id: null, inFlight: { intentId: 4, purpose: 'entry', ordered: '0.0322', filled: '0.0107', note: 'order in flight, partly filled' }, book: 'live', quantity: '0.0107', entryPrice: '50000' })],
    });
    expect(texts(t.blocks)[0]).toContain('• `in flight (order in flight, partly filled)` *BTC/USD* long 0.0107 of 0.0322 @ 50,000.00');
    const b = renderBalance({
      ok: true, at, quote: 'USD', paper: { seeded: true, feed: 'kraken', openTrades: 0, value: '0', assets: [] }, venue: 'Kraken',
      kraken: {
        status: 'ok', openTrades: 0, ordersInFlight: 1, botManagedValue: '535', accountValue: '535',
        assets: [{ asset: 'BTC', total: '0.0107', free: '0.0107', used: '0', botManaged: '0.0107', note: 'order in flight, partly filled', other: '0', shortfall: false, value: '535' }],
      },
    });
    expect(texts(b.blocks).join('\n')).toContain('*Kraken* — 0 open live trade(s), 1 live order(s) in flight with fills\n• *BTC* 0.0107 (free 0.0107, in orders 0) — bot-managed 0.0107 (order in flight, partly filled), other 0');
  });
});

describe('/balance view', () => {
  const result = (kraken: BalanceResult['kraken'], value: string | null = '1243365.0144567'): BalanceResult => ({
    ok: true, at, quote: 'USD',
    paper: {
      seeded: true, feed: 'kraken', openTrades: 1, value,
      assets: [
        { asset: 'USD', total: '8797.1234567', value: '8797.1234567' },
        { asset: 'BTC', total: '0.01538460', value: '1234567.891' },
        { asset: 'ETH', total: '0.5', value: null },
      ],
    },
    venue: 'Kraken',
    kraken,
  });

  it('shows the quote currency to the cent in every place (paper and Kraken), other assets as held, — for missing', () => {
    const m = renderBalance(result({
      status: 'ok', openTrades: 0, ordersInFlight: 0, botManagedValue: '1234.5678912', accountValue: null,
      assets: [
        { asset: 'USD', total: '1300.0040', free: '1200.0040', used: '100', botManaged: '1234.5678912', other: '65.4361088', note: null, shortfall: false, value: '1300.004' },
        { asset: 'ETH', total: '0.12345678', free: '0.12345678', used: '0', botManaged: '0', other: '0.12345678', note: null, shortfall: false, value: null },
      ],
    }));
    expect(texts(m.blocks)).toEqual([
      '*Paper book* — 1 open trade(s)\nUSD 8,797.12\nBTC 0.0153846 (≈ 1,234,567.89 USD)\nETH 0.5 (≈ — USD)\nValue: *1,243,365.01 USD*',
      '*Kraken* — 0 open live trade(s)\n'
        + '• *USD* 1,300.00 (free 1,200.00, in orders 100.00) — bot-managed 1,234.57, other 65.44 · ≈ 1,300.00 USD\n'
        + '• *ETH* 0.12345678 (free 0.12345678, in orders 0) — bot-managed 0, other 0.12345678',
      '*Bot-managed*\n1,234.57 USD | *Whole account*\n— USD',
      `As of ${date(at)} · bot-managed = USD (trading capital) and what open live trades hold`,
    ]);
    expect(m.text).toBe('Balance: paper 1,243,365.01 USD; Kraken bot-managed 1,234.57, account —');
    expect(JSON.stringify(m)).not.toMatch(LONG_DIGITS);
  });

  it('says — for a paper book it cannot value', () => {
    const m = renderBalance(result({ status: 'no_key' }, null));
    expect(texts(m.blocks)[0]).toMatch(/\nValue: \*— USD\*$/);
    expect(m.text).toBe('Balance: paper — USD');
  });
});

describe('/exit confirm view', () => {
  it('lists what would be sold with sizes as held and entry prices as `ctb trades` shows them, as `ctb exit` does', () => {
    const r = {
      ok: true, target: 'all', status: 'needs_confirmation', request: null,
      trades: [
        { id: 7, book: 'paper', strategy: 'ma-cross', symbol: 'BTC/USD', quantity: '0.01538460', entryPrice: '68019.23764718' },
        { id: 8, book: 'live', strategy: 'ma-cross', symbol: 'PEPE/USD', quantity: '1234567.891', entryPrice: '0.00001234567' },
      ],
    } as ExitResult;
    expect(texts(renderExitConfirm(r, undefined).blocks)[0]).toBe(
      "*Exit every open trade?* This sells at market, through the engine's order path:\n"
        + '• `#7` *BTC/USD* 0.0153846 (entry 68,019.24, ma-cross, paper)\n'
        + '• `#8` *PEPE/USD* 1234567.891 (entry 0.0000123457, ma-cross, live)',
    );
    // `ctb exit` without --yes lists the same trades the same way.
    expect(renderExit(r)).toBe(
      'Would sell at market:\n'
        + '  #7 paper BTC/USD 0.0153846 (entry 68,019.24, ma-cross)\n'
        + '  #8 live PEPE/USD 1234567.891 (entry 0.0000123457, ma-cross)\n'
        + 'Nothing was sent. Re-run with --yes to exit every open trade.',
    );
  });

  it('says what the exit did with the price and realised PnL as `ctb trades` shows them', () => {
    const r = {
      ok: true, target: 'all', status: 'done', trades: [],
      request: {
        requestId: 12, status: 'done', joined: false, summary: '1 of 2 closed.',
        results: [
          { tradeId: 7, ok: true, status: 'closed', message: 'sold at market', symbol: 'BTC/USD', exitPrice: '68019.23764718', realizedPnl: '-300.0332553' },
          { tradeId: 8, ok: true, status: 'closed', message: 'sold at market', symbol: 'PEPE/USD', exitPrice: '0.00001234567', realizedPnl: '8797.1234567' },
        ],
      },
    } as unknown as ExitResult;
    const m = renderExitProgress(r, 'UOPS1');
    expect(texts(m.blocks)[0]).toBe(
      ':white_check_mark: *Exit of every open trade* by <@UOPS1> (request #12): *done*\n'
        + '• #7 closed: sold at market at 68,019.24, realised -300.03\n'
        + '• #8 closed: sold at market at 0.0000123457, realised +8,797.12',
    );
  });
});
