// `ctb exit` as text: the trades it would sell read as `ctb trades` and Slack's /exit show them (size
// trimmed, entry price to the cent from 1 up), not as the trade row stores them; --json keeps the row.
import { describe, expect, it } from 'vitest';
import type { ExitResult } from '../../../commands/exit.js';
import { renderExit } from '../../../src/cli/commands/exit.js';

describe('renderExit', () => {
  it('lists what it would sell with sizes trimmed and entry prices as ctb trades shows them', () => {
    const r = {
      ok: false, target: 'all', status: 'needs_confirmation', request: null,
      trades: [
        { id: 7, book: 'paper', symbol: 'BTC/USD', quantity: '0.01538460', entryPrice: '68019.23764718', strategy: 'btc-ma-cross' },
        { id: 8, book: 'live', symbol: 'PEPE/USD', quantity: '1234567.891', entryPrice: '0.00001234567', strategy: 'ma-cross' },
      ],
    } as unknown as ExitResult;
    expect(renderExit(r)).toBe(
      'Would sell at market:\n'
        + '  #7 paper BTC/USD 0.0153846 (entry 68,019.24, btc-ma-cross)\n'
        + '  #8 live PEPE/USD 1234567.891 (entry 0.0000123457, ma-cross)\n'
        + 'Nothing was sent. Re-run with --yes to exit every open trade.',
    );
  });
});
