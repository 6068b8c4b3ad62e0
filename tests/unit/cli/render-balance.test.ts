// `ctb balance` as text: the quote currency (money) to the cent like every other table, other assets
// as held (tests/integration/ops/trades-balance.test.ts holds that --json keeps every digit).
import { describe, expect, it } from 'vitest';
import type { BalanceResult } from '../../../commands/balance.js';
import { renderBalance } from '../../../src/cli/render/trades.js';

const result = {
  ok: true, at: new Date('2026-12-05T04:00:00Z'), quote: 'USD',
  paper: {
    seeded: true, openTrades: 1, feed: 'kraken', value: '2234.5678912',
    assets: [{ asset: 'USD', total: '1234.5678912', value: '1234.5678912' }, { asset: 'BTC', total: '0.01538460', value: '1000' }],
  },
  venue: 'Kraken',
  kraken: {
    status: 'ok', openTrades: 0, botManagedValue: '1234.5678912', accountValue: '1300.004',
    assets: [
      { asset: 'USD', total: '1300.0040', free: '1200.0040', used: '100', botManaged: '1234.5678912', other: '65.4361088', shortfall: false, value: '1300.004' },
      { asset: 'ETH', total: '0.12345678', free: '0.12345678', used: '0', botManaged: '0', other: '0.12345678', shortfall: false, value: null },
    ],
  },
} as unknown as BalanceResult;

describe('renderBalance', () => {
  it('shows the quote currency to the cent in every column (paper and Kraken), crypto amounts as held', () => {
    const text = renderBalance(result);
    const rows = text.split('\n').map((line) => line.split('│').map((cell) => cell.trim()).filter(Boolean));
    expect(rows).toContainEqual(['USD', '1,234.57', '1,234.57']);
    expect(rows).toContainEqual(['BTC', '0.0153846', '1,000.00']);
    expect(rows).toContainEqual(['USD', '1,300.00', '1,200.00', '100.00', '1,234.57', '65.44', '1,300.00']);
    expect(rows).toContainEqual(['ETH', '0.12345678', '0.12345678', '0', '0', '0.12345678', '—']);
    expect(text).not.toContain('1234.5678912');
  });
});
