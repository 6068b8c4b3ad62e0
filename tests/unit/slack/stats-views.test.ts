// The /stats and summary views are pure functions of a stats report: tested on their JSON.
import { describe, expect, it } from 'vitest';
import type { BookStats, StatsReport } from '../../../src/services/stats/compute-stats.js';
import { parseStatsText } from '../../../src/slack/listeners/stats-route.js';
import { renderNoChart, renderStats, renderStatsSummary } from '../../../src/slack/views/stats.js';
import { renderStatsText } from '../../../src/cli/render/stats-text.js';

const book = (name: BookStats['book'], over: Partial<BookStats> = {}): BookStats => ({
  book: name,
  countsTowardGoLive: name !== 'replay',
  trades: { total: 4, open: 1, closed: 3, wins: 2, losses: 1, breakeven: 0, winRatePct: '66.6667' },
  pnl: { realized: '12.5', unrealized: '-1.25', unrealizedMarkedAt: '2026-01-10T11:30:00.000Z', fees: '0.75' },
  roi: { totalPct: '0.125', periodPct: '0.1', startingCapital: '10000', startingCapitalFrom: 'first_snapshot', periodStartEquity: '10010' },
  equity: { latest: '10011.25', at: '2026-01-10T11:30:00.000Z', peak: '10100' },
  asOf: { at: '2026-01-10T11:30:00.000Z', ageSeconds: 1800, fresh: true, reasons: [], staleAfterSeconds: 1800 },
  drawdown: { maxPct: '3.5', maxAmount: '350', currentPct: '0.8787' },
  exposure: { costBasis: '130', pctOfEquity: '1.2986' },
  strategies: [],
  ...over,
});

const report = (over: Partial<StatsReport> = {}): StatsReport => ({
  period: '7d', from: '2026-01-03T12:00:00.000Z', to: '2026-01-10T12:00:00.000Z', closed: 5, open: 1,
  books: [book('paper'), book('live', { pnl: { realized: '-3', unrealized: null, unrealizedMarkedAt: null, fees: '1' }, roi: { totalPct: null, periodPct: null, startingCapital: null, startingCapitalFrom: null, periodStartEquity: null }, equity: null, asOf: null })],
  recentClosed: [],
  ...over,
});

type Block = { type: string; text?: { text: string }; fields?: Array<{ text: string }>; elements?: Array<{ text: string }> };

describe('/stats view', () => {
  it('says when paper ROI is over this process’s PAPER_STARTING_BALANCE because no engine has funded the paper account yet', () => {
    const unfunded = book('paper', { roi: { totalPct: '0', periodPct: '0', startingCapital: '5000', startingCapitalFrom: 'config', periodStartEquity: '5000' } });
    const said = (m: ReturnType<typeof renderStats>) => (m.blocks as Block[]).flatMap((b) => b.elements ?? []).map((e) => e.text);
    expect(said(renderStats(report({ books: [unfunded] })))).toContain("ROI is over this process's PAPER_STARTING_BALANCE (5,000.00): no engine has funded the paper account yet.");
    expect(said(renderStats(report())).join('\n')).not.toContain('PAPER_STARTING_BALANCE');
  });

  it('says the starting-capital note in the words `ctb stats` says it, for each reason, framed its own way', () => {
    for (const from of ['config', 'unrecorded'] as const) {
      const paper = book('paper', { roi: { totalPct: '0', periodPct: '0', startingCapital: '5000', startingCapitalFrom: from, periodStartEquity: '5000' } });
      const slack = (renderStats(report({ books: [paper] })).blocks as Block[]).flatMap((b) => b.elements ?? []).map((e) => e.text)
        .filter((t) => t.includes('PAPER_STARTING_BALANCE'));
      const terminal = renderStatsText(report({ books: [paper] })).split('\n').filter((l) => l.includes('PAPER_STARTING_BALANCE'));
      expect(terminal, from).toHaveLength(1);
      expect(terminal[0]!.startsWith('paper: ROI is over'), terminal[0]).toBe(true);
      expect(slack, from).toEqual([`${terminal[0]!.slice('paper: '.length)}.`]);
    }
  });

  it('shows paper and live side by side with every figure, and a header naming the period', () => {
    const m = renderStats(report());
    const blocks = m.blocks as Block[];
    expect(blocks[0]).toEqual({ type: 'header', text: { type: 'plain_text', text: 'Stats — last 7d', emoji: true } });
    expect(blocks[1]).toEqual({ type: 'section', text: { type: 'mrkdwn', text: ':page_facing_up: *Paper*' } });
    expect(blocks[2]!.fields!.map((f) => f.text)).toEqual([
      '*Trades*\n3 closed · 1 open',
      '*Wins / losses*\n2 / 1 (66.67% won)',
      '*Realised PnL*\n+12.50 (fees 0.75)',
      '*Unrealised PnL*\n-1.25',
      '*ROI*\n+0.10% in period · +0.13% all time',
      '*Drawdown*\n0.88% now · 3.50% max',
      '*Equity*\n10,011.25',
      '*Exposure*\n130.00 (1.30% of equity)',
    ]);
    expect(blocks[3]!.text!.text).toBe(':red_circle: *Live*');
    expect(blocks[4]!.fields!.map((f) => f.text)).toContain('*ROI*\n— in period · — all time');
    expect(blocks[4]!.fields!.map((f) => f.text)).toContain('*Unrealised PnL*\n— (no fresh marks)');
    expect(m.text).toBe('Stats — last 7d: paper: 3 closed, 2W/1L, PnL +12.50, ROI +0.10%, drawdown 0.88% now, 3.50% max; live: 3 closed, 2W/1L, PnL -3.00, ROI —, drawdown 0.88% now, 3.50% max');
  });

  it('says beside each figure from a snapshot that is not fresh how old it is, and under the book why', () => {
    const halted = book('live', {
      equity: { latest: '9839.91', at: '2026-01-10T11:49:56.000Z', peak: '10000' },
      asOf: { at: '2026-01-10T11:49:56.000Z', ageSeconds: 254, fresh: false, staleAfterSeconds: 1800, reasons: ['no snapshot since: the bot is halted'] },
    });
    const blocks = renderStats(report({ books: [book('paper'), halted] })).blocks as Block[];
    // The fresh paper book is shown as before.
    expect(blocks[2]!.fields!.map((f) => f.text)).toContain('*Equity*\n10,011.25');
    expect(blocks[4]!.fields!.map((f) => f.text)).toEqual(expect.arrayContaining([
      '*Unrealised PnL*\n-1.25 _(4m old)_',
      '*Drawdown*\n0.88% now _(4m old)_ · 3.50% max',
      '*Equity*\n9,839.91 _(4m old)_',
      '*Exposure*\n130.00 (1.30% of equity _(4m old)_)',
    ]));
    expect(blocks[5]).toEqual({ type: 'context', elements: [{ type: 'mrkdwn', text:
      ':warning: Equity 9,839.91 as of <!date^1768045796^{date_short_pretty} {time}|2026-01-10T11:49:56.000Z>, 4m ago — no snapshot since: the bot is halted. Unrealised PnL, drawdown now and exposure % are from the same snapshot.' }] });
  });

  it('reads the figures as `ctb stats` does: money to the cent with separators, PnL and ROI signed, % to 2 dp, — for missing', () => {
    const long = book('paper', {
      trades: { total: 3, open: 0, closed: 3, wins: 1, losses: 2, breakeven: 0, winRatePct: '33.3333' },
      pnl: { realized: '8797.1234567', unrealized: '-0.004', unrealizedMarkedAt: null, fees: '1234567.891' },
      roi: { totalPct: '-12.3456789', periodPct: '0.004', startingCapital: '10000', startingCapitalFrom: 'first_snapshot', periodStartEquity: '10000' },
      equity: null,
      drawdown: { maxPct: '12.3456789', maxAmount: '1234.5678912', currentPct: null },
      exposure: { costBasis: '1234567.891', pctOfEquity: null },
    });
    const m = renderStats(report({ books: [long] }));
    expect((m.blocks as Block[])[2]!.fields!.map((f) => f.text)).toEqual([
      '*Trades*\n3 closed · 0 open',
      '*Wins / losses*\n1 / 2 (33.33% won)',
      '*Realised PnL*\n+8,797.12 (fees 1,234,567.89)',
      '*Unrealised PnL*\n0.00',
      '*ROI*\n0.00% in period · -12.35% all time',
      '*Drawdown*\n— now · 12.35% max',
      '*Equity*\n—',
      '*Exposure*\n1,234,567.89',
    ]);
    expect(m.text).toBe('Stats — last 7d: paper: 3 closed, 1W/2L, PnL +8,797.12, ROI 0.00%, drawdown — now, 12.35% max');
    const summary = renderStatsSummary({ kind: 'daily', periodKey: '2026-01-10', report: report({ books: [long] }) });
    expect(JSON.stringify(summary)).not.toMatch(/8797\.1234567|1234567\.891|12\.3456789/);
  });

  it('marks the replay book as practice that never counts toward go-live', () => {
    const m = renderStats(report({ books: [book('paper'), book('live'), book('replay')] }));
    expect(JSON.stringify(m.blocks)).toContain(':repeat: *Replay* — practice on recorded prices, not counted toward go-live');
  });

  it('titles the daily and weekly summaries with their period key', () => {
    expect((renderStatsSummary({ kind: 'daily', periodKey: '2026-01-10', report: report({ period: 'custom' }) }).blocks[0] as Block).text!.text).toBe('Daily summary — 2026-01-10');
    expect(renderStatsSummary({ kind: 'weekly', periodKey: '2026-W02', report: report() }).text).toMatch(/^Weekly summary — 2026-W02: paper: 3 closed/);
  });

  it('says why there is no chart when the period has no equity snapshot', () => {
    expect(renderNoChart({ period: '24h', from: null, to: '2026-01-10T12:00:00.000Z' }).text).toBe('No equity snapshots in last 24h yet, so there is no equity chart.');
  });
});

describe('/stats text', () => {
  it('takes one period word, all by default', () => {
    expect(parseStatsText('')).toEqual({ period: 'all' });
    expect(parseStatsText(' 7D ')).toEqual({ period: '7d' });
  });

  it('refuses anything else, naming the periods it accepts', () => {
    expect(() => parseStatsText('1y')).toThrow('`/stats` takes one period: 24h, 7d, 30d, all (default all), got "1y".');
    expect(() => parseStatsText('7d 30d')).toThrow(/got "7d 30d"/);
  });
});
