// An operator's exit that the engine's lease refused (another process took the lease over: the intent
// statement found the row naming it, src/engine/ledger/intent-lease.ts) or found no row says which, and
// that nothing was sent.
import { describe, expect, it } from 'vitest';
import { exitPosition } from '../../src/engine/manual-exit.js';
import type { Portfolio } from '../../src/engine/portfolio.js';
import { dec } from '../../src/money.js';

describe("an operator's exit refused for the engine lease", () => {
  const portfolio = { positions: new Map([[7, { strategy: 's', symbol: 'BTC/USD', quantity: dec('0.1') }]]) } as unknown as Portfolio;

  it('names the process that took the lease over and says no order was sent', async () => {
    const outcome = await exitPosition({ mode: 'live', portfolio, blocked: null, order: async () => ({ kind: 'skipped', reason: 'lease_lost', leaseHolder: 'standby-host:2:bbbbbbbb' }) }, 7, 'operator');
    expect(outcome).toEqual({
      tradeId: 7, symbol: 'BTC/USD', ok: false, status: 'skipped',
      message: 'not sent: another process (standby-host:2:bbbbbbbb) has taken over the engine lease, so this engine no longer trades; no order was sent',
    });
  });

  it('says the lease row is gone, not that another process took it over, when there is no row', async () => {
    const outcome = await exitPosition({ mode: 'live', portfolio, blocked: null, order: async () => ({ kind: 'skipped', reason: 'lease_lost', leaseHolder: null }) }, 7, 'operator');
    expect(outcome).toMatchObject({ ok: false, status: 'skipped', message: 'not sent: the engine lease row is gone (released, or the database restored without it), so this engine no longer trades; no order was sent' });
    expect(outcome.message).not.toMatch(/taken over/);
  });
});
