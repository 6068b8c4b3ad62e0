// The live withdrawal's words and when the status views read it as why the mode is paper (pure).
import { describe, expect, it } from 'vitest';
import { liveWithdrawnOf, liveWithdrawnPhrase, withdrawalReason, WITHDRAWAL_ACTOR } from '../../src/domain/live-withdrawal.js';

const at = new Date('2026-03-02T09:00:00.000Z');
const reason = withdrawalReason({ holderId: 'worker-1:4242:ab12cd34', at });
const withdrawal = { id: 9, toMode: 'paper' as const, requester: WITHDRAWAL_ACTOR, reason, decidedAt: at };

describe('the live withdrawal', () => {
  it('names the engine (its holder id, which names the host once) and when, and what going live again takes', () => {
    expect(reason).toBe('engine worker-1:4242:ab12cd34 took the lease without IS_LIVE at 2026-03-02T09:00:00.000Z; going live again needs /mode live and two approvals');
    expect(liveWithdrawnPhrase({ requestId: 9, at: at.toISOString(), by: WITHDRAWAL_ACTOR, reason })).toBe(`live approval withdrawn (#9): ${reason}`);
  });

  it('explains paper while it is the last switch', () => {
    expect(liveWithdrawnOf('paper', withdrawal)).toEqual({ requestId: 9, at: '2026-03-02T09:00:00.000Z', by: WITHDRAWAL_ACTOR, reason });
    expect(liveWithdrawnOf('paper', { ...withdrawal, decidedAt: '2026-03-02T09:00:00Z' })?.at).toBe('2026-03-02T09:00:00.000Z');
  });

  it('explains nothing while bot_state says live, after any other switch, or with no switch at all', () => {
    expect(liveWithdrawnOf('live', withdrawal)).toBeNull();
    expect(liveWithdrawnOf('paper', { ...withdrawal, requester: 'cli:ops' })).toBeNull();
    expect(liveWithdrawnOf('paper', { ...withdrawal, toMode: 'live' })).toBeNull();
    expect(liveWithdrawnOf('paper', null)).toBeNull();
  });
});
