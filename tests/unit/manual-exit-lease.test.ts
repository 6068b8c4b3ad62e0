// An operator's exit that the engine's lease refused (another process took the lease over: the intent
// statement found the row naming it, src/engine/ledger/intent-lease.ts) says so, and that nothing was sent.
import { describe, expect, it } from 'vitest';
import { exitPosition } from '../../src/engine/manual-exit.js';
import type { Portfolio } from '../../src/engine/portfolio.js';
import { dec } from '../../src/money.js';

describe("an operator's exit refused for the engine lease", () => {
  it('names the lease taken over and says no order was sent', async () => {
    const portfolio = { positions: new Map([[7, { strategy: 's', symbol: 'BTC/USD', quantity: dec('0.1') }]]) } as unknown as Portfolio;
    const outcome = await exitPosition({ mode: 'live', portfolio, blocked: null, order: async () => ({ kind: 'skipped', reason: 'lease_lost' }) }, 7, 'operator');
    expect(outcome).toEqual({
      tradeId: 7, symbol: 'BTC/USD', ok: false, status: 'skipped',
      message: 'not sent: another process has taken over the engine lease, so this engine no longer trades; no order was sent',
    });
  });
});
