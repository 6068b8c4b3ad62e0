// What the terminal shows: amounts rounded (money to the cent, percentages to 2 decimals), tables
// aligned with cli-table3, colour only on a terminal and never with NO_COLOR, long text wrapped at
// word boundaries, and a spinner on stderr (terminal only) that erases itself.
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import type { AuditLogResult } from '../../../commands/audit-log.js';
import { renderAuditLogText } from '../../../src/cli/render/audit-log.js';
import { renderAuditTable } from '../../../src/cli/render/audit-table.js';
import { withPlainTextShortcut, type WidthOf } from '../../../src/cli/render/cell-width.js';
import { money, pct, price, signedMoney, signedPct, trimmed } from '../../../src/domain/amount-text.js';
import { renderStatsText } from '../../../src/cli/render/stats-text.js';
import { colourEnabled, styleFor } from '../../../src/cli/render/style.js';
import { table } from '../../../src/cli/render/table.js';
import { startSpinner } from '../../../src/cli/spinner.js';
import type { AuditReport } from '../../../src/services/audit/types.js';
import type { StatsReport } from '../../../src/services/stats/compute-stats.js';

const ANSI = /\x1b\[/;

describe('numbers on the terminal', () => {
  it('shows prices to the cent at 1 and above, six significant digits below (an average entry is not 8 decimals)', () => {
    expect(price('68019.23764718')).toBe('68,019.24');
    expect(price('60000')).toBe('60,000.00');
    expect(price('0.000123456789')).toBe('0.000123457');
    expect(price('0.5000')).toBe('0.5');
    expect(price(null)).toBe('—');
  });

  it('rounds money to the cent and percentages to 2 decimals, exactly', () => {
    expect(money('-300.0332553')).toBe('-300.03');
    expect(money('10000')).toBe('10,000.00');
    expect(money('0.005')).toBe('0.01');
    expect(money('-0.004')).toBe('0.00');
    expect(money('1234567.895')).toBe('1,234,567.90');
    expect(signedMoney('17')).toBe('+17.00');
    expect(signedMoney('-2.5')).toBe('-2.50');
    expect(signedMoney('0')).toBe('0.00');
    expect(pct('11.1111')).toBe('11.11%');
    expect(signedPct('1.41666')).toBe('+1.42%');
    expect(money(null)).toBe('—');
    expect(trimmed('0.05000000')).toBe('0.05');
    expect(trimmed('60000')).toBe('60000');
    expect(money('n/a')).toBe('n/a');
  });
});

describe('colour', () => {
  const tty = { write: () => true, isTTY: true };
  const pipe = { write: () => true, isTTY: false };
  it('is on for a terminal, off for a pipe, off with NO_COLOR, off for TERM=dumb, forced by FORCE_COLOR', () => {
    expect(colourEnabled({ env: {}, stdout: tty })).toBe(true);
    expect(colourEnabled({ env: {}, stdout: pipe })).toBe(false);
    expect(colourEnabled({ env: { NO_COLOR: '1' }, stdout: tty })).toBe(false);
    expect(colourEnabled({ env: { NO_COLOR: '' }, stdout: tty })).toBe(true); // no-color.org: only a non-empty value counts
    expect(colourEnabled({ env: { TERM: 'dumb' }, stdout: tty })).toBe(false);
    expect(colourEnabled({ env: { FORCE_COLOR: '1' }, stdout: pipe })).toBe(true);
    expect(colourEnabled({ env: { FORCE_COLOR: '1', NO_COLOR: '1' }, stdout: pipe })).toBe(false);
  });

  it('colours a loss red in the stats table on a terminal, and not at all under NO_COLOR', () => {
    const coloured = renderStatsText(report(), styleFor({ env: {}, stdout: tty }));
    expect(coloured).toMatch(ANSI);
    expect(coloured).toContain('\x1b[31m-300.03\x1b[39m');
    const plainText = renderStatsText(report(), styleFor({ env: { NO_COLOR: '1' }, stdout: tty }));
    expect(plainText).not.toMatch(ANSI);
    expect(plainText).toMatch(/│ realised PnL +│ +-300\.03 │/);
    expect(plainText).toMatch(/│ win rate +│ +11\.11% │/);
    expect(plainText).not.toMatch(/300\.0332|11\.1111/);
  });
});

describe('tables', () => {
  it('right-aligns amount columns and keeps every row the same width', () => {
    const out = table(['PAIR', 'PNL'], [['BTC/USD', '+1.00'], ['ETH/USD', '-1,300.25']], { right: [1] });
    const lines = out.split('\n');
    expect(new Set(lines.map((l) => l.length)).size).toBe(1);
    expect(lines.find((l) => l.includes('BTC/USD'))).toMatch(/│ +\+1\.00 │$/);
  });

  it('wraps an audit fix at word boundaries to the width instead of cutting it', () => {
    const fix = 'Create & Modify Orders and Cancel/Close Orders permissions are missing: open the Kraken API key settings, tick them, then run ctb verify-credentials again.';
    const r: AuditReport = {
      results: [{ id: 'exchange.key_rights', title: 'key', section: 1, sectionTitle: 'Credentials & Secrets', status: 'fail', value: 'cannot trade', fix }],
      summaryLine: 'AUDIT FAILED', runId: null,
    } as unknown as AuditReport;
    const out = renderAuditTable(r, { width: 80 });
    const lines = out.split('\n');
    expect(Math.max(...lines.map((l) => l.length))).toBeLessThanOrEqual(80);
    expect(out).not.toContain('…');
    const words = lines.flatMap((l) => l.split('│')[3]?.trim().split(/\s+/) ?? []).filter(Boolean);
    expect(words.join(' ')).toBe(`RESULT cannot trade fix: ${fix}`);
  });
});

describe('cell widths', () => {
  /** string-width as cli-table3 requires it, loaded afresh: the table module may have replaced its cached exports. */
  function stringWidth(): WidthOf {
    const fromTable = createRequire(createRequire(import.meta.url).resolve('cli-table3'));
    const id = fromTable.resolve('string-width');
    const held = fromTable.cache[id];
    delete fromTable.cache[id];
    try {
      return fromTable('string-width') as WidthOf;
    } finally {
      if (held) fromTable.cache[id] = held;
    }
  }

  it('measures every text as string-width does, plain text by its length', () => {
    const real = stringWidth();
    const measure = withPlainTextShortcut(real);
    const ascii = Array.from({ length: 128 }, (_, c) => String.fromCharCode(c));
    const symbols = [...'—…→·×•≥≤−–≈', ...Array.from({ length: 0x80 }, (_, i) => String.fromCharCode(0x2500 + i))];
    // Their neighbours, which the shortcut leaves to string-width (some are emoji or wide).
    const near = [0x2015, 0x2025, 0x2027, 0x2191, 0x2193, 0x2194, 0x2199, 0x21a9, 0x00b6, 0x00b8, 0x00d6, 0x00d8, 0x2021, 0x2023, 0x2264 - 1, 0x2266, 0x2211, 0x2247, 0x2249, 0x24ff, 0x2580, 0x25b6, 0x2b50].map((c) => String.fromCharCode(c));
    const pool = [...ascii, ...symbols, ...near, '\uFE0F', '\u200D', '\u20E3'];
    let seed = 7;
    const random = (n: number, from: string[]) => Array.from({ length: n }, () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return from[seed % from.length]!;
    }).join('');
    const texts: unknown[] = [
      ...ascii, '', ' ', 'PASS', 'credentials.leak_scan', 'fix: Set KRAKEN_API_KEY and KRAKEN_API_SECRET (a Trade-only key).',
      ...symbols, ...near, ...symbols.map((c) => `paper ${c} live`),
      ...Array.from({ length: 300 }, (_, i) => random(1 + (i % 40), ascii)),
      ...Array.from({ length: 300 }, (_, i) => random(1 + (i % 40), [...ascii.slice(32, 127), ...symbols])),
      ...Array.from({ length: 300 }, (_, i) => random(1 + (i % 40), pool)),
      '\x1b[31mFAIL\x1b[39m', '\x1b[1m\x1b[31mFAIL\x1b[39m\x1b[22m', 'a\tb', 'line\nbreak', '\x7f', '\x9b31m',
      '—', '─────', '│', '╭', 'paper — live', 'naïve', 'e\u0301', '日本語', '🚀', '👍🏽', '#\uFE0F\u20E3', '1\u20E3', '€100', '\u00a0',
      42, undefined, null,
    ];
    for (const text of texts) expect(measure(text), JSON.stringify(text)).toBe(real(text));
    // Control: the corpus has text the shortcut does not answer, whose width is not its length.
    expect(real('日本語')).toBe(6);
    expect(real('\u2b50')).toBe(2);
    expect(real('\x1b[31mFAIL\x1b[39m')).toBe(4);
  });

  it('draws a table with wide, coloured and accented cells to one width per line', () => {
    const out = table(['PAIR', 'NOTE'], [['BTC/USD', '日本語 🚀'], ['ETH/USD', '\x1b[31mred\x1b[39m — naïve']], { widths: [10, 20] });
    const widths = out.split('\n').map((l) => stringWidth()(l));
    expect(new Set(widths).size).toBe(1);
    expect(widths[0]).toBe(10 + 20 + 3);
  });
});

describe('the command trail', () => {
  it('shortens a long argument list at a word boundary, not mid-word', () => {
    const args = 'reason "the exchange kept refusing our orders after the maintenance window closed at noon"';
    const r = {
      ok: true, more: false, filters: { since: null, user: null, command: null, limit: 50 },
      entries: [{ id: 1, at: '2026-01-01T00:00:00.000Z', source: 'cli', actor: 'cli:ops', command: 'kill', args, allowed: true, result: 'ok', details: {} }],
    } as AuditLogResult;
    const line = renderAuditLogText(r).split('\n')[1]!;
    const shown = /allowed {2}(.*)… {2}→ ok$/.exec(line)?.[1];
    expect(shown).toBeDefined();
    expect(`kill ${args}`.startsWith(shown!)).toBe(true);
    expect(`kill ${args}`[shown!.length]).toBe(' ');
  });
});

describe('spinner', () => {
  it('erases its line before anything else is written to the terminal, so a log line is never written into it', async () => {
    let err = '';
    const stderr = { write: (s: string) => (err += s), isTTY: true };
    const io = { env: {}, cwd: '/', stdout: { write: () => true }, stderr };
    const ownWrite = stderr.write;
    const spinner = startSpinner(io, 'running the go-live audit', { delayMs: 1, intervalMs: 1000 });
    await new Promise((r) => setTimeout(r, 30));
    expect(err).toMatch(/running the go-live audit \d+\.\ds$/);
    io.stderr.write('WARN something happened\n');
    expect(err).toMatch(/running the go-live audit \d+\.\ds\r\x1b\[2KWARN something happened\n$/);
    spinner.stop();
    expect(stderr.write).toBe(ownWrite);
    expect(err.endsWith('WARN something happened\n')).toBe(true); // nothing left to erase: the line was cleared already
  });

  it('draws on a terminal stderr after its delay, shows the elapsed time, and erases itself', async () => {
    let err = '';
    const io = { env: {}, cwd: '/', stdout: { write: () => true }, stderr: { write: (s: string) => (err += s), isTTY: true } };
    const spinner = startSpinner(io, 'running the go-live audit', { delayMs: 10, intervalMs: 10 });
    await new Promise((r) => setTimeout(r, 80));
    spinner.stop();
    expect(err).toMatch(/\r\x1b\[2K. running the go-live audit \d+\.\ds/);
    expect(err.endsWith('\r\x1b[2K')).toBe(true);
  });

  it('writes nothing when stderr is not a terminal, or when the work ends before the delay', async () => {
    let err = '';
    const pipe = { env: {}, cwd: '/', stdout: { write: () => true }, stderr: { write: (s: string) => (err += s), isTTY: false } };
    const a = startSpinner(pipe, 'x', { delayMs: 1, intervalMs: 1 });
    await new Promise((r) => setTimeout(r, 20));
    a.stop();
    const tty = { ...pipe, stderr: { write: (s: string) => (err += s), isTTY: true } };
    startSpinner(tty, 'x', { delayMs: 1000 }).stop();
    expect(err).toBe('');
  });
});

function report(): StatsReport {
  const book = (name: string, realized: string) => ({
    book: name, countsTowardGoLive: name !== 'replay',
    trades: { total: 9, open: 0, closed: 9, wins: 1, losses: 8, breakeven: 0, winRatePct: '11.1111' },
    pnl: { realized, unrealized: '0', unrealizedMarkedAt: null, fees: '12.3456' },
    roi: { totalPct: '-3.000332553', periodPct: '-3.000332553' },
    equity: { latest: '9699.9667447', at: '2026-01-01T00:00:00Z', peak: '10000' },
    asOf: null,
    drawdown: { maxPct: '3.0003', currentPct: '3.0003' },
    exposure: { costBasis: '0', pctOfEquity: null },
    strategies: [],
  });
  return {
    period: '7d', from: '2026-01-01T00:00:00Z', to: '2026-01-08T00:00:00Z',
    books: [book('paper', '-300.0332553'), book('live', '0'), book('replay', '5')], recentClosed: [],
  } as unknown as StatsReport;
}
