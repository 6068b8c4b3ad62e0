// `ctb self-heal`'s exit status from its result: 75 (try again) only when all that is left passes by
// itself — Kraken refusing for now, the order lock held by another holder — and 1 for anything else.
import { describe, expect, it } from 'vitest';
import { SELF_HEAL_TRY_AGAIN_EXIT, selfHealExitCode } from '../../../commands/self-heal.js';
import type { HealAction, SelfHealResult } from '../../../src/services/self-heal/self-heal.js';

const result = (...actions: HealAction[]): SelfHealResult => ({
  ok: actions.every((a) => a.status !== 'failed' && a.status !== 'deferred' && a.status !== 'busy'), halted: false, actions, configurationError: null,
});
const ok: HealAction = { check: 'database', status: 'ok', detail: 'answers' };
const skipped: HealAction = { check: 'engine', status: 'skipped', detail: 'no engine has written a heartbeat yet' };
const rateLimited: HealAction = { check: 'exchange', status: 'deferred', refusedFor: 'rate_limited', attempts: 1, detail: 'Kraken refuses for now (rate_limited)' };
const maintenance: HealAction = { check: 'reconcile', status: 'deferred', refusedFor: 'exchange_maintenance', detail: 'Kraken refuses for now (exchange_maintenance)' };
const fillsNotBooked: HealAction = { check: 'reconcile', status: 'deferred', waitingFor: 'fills_booked', detail: 'an order went out or was booked while reconciling' };
const busy: HealAction = { check: 'intents', status: 'busy', detail: 'the order lock is taken by another holder' };
const unreachable: HealAction = { check: 'intents', status: 'deferred', detail: '1 intent(s) not resolved: looking up or booking their orders failed' };
const failed: HealAction = { check: 'engine', status: 'failed', detail: 'heartbeat stale' };

describe('ctb self-heal exit code', () => {
  it('exits 75 when only Kraken refusing for now (rate limit, maintenance) is left, alone or with the lock held elsewhere', () => {
    expect(selfHealExitCode(result(ok, rateLimited, skipped))).toBe(SELF_HEAL_TRY_AGAIN_EXIT);
    expect(selfHealExitCode(result(ok, rateLimited, maintenance))).toBe(75);
    expect(selfHealExitCode(result(ok, maintenance, busy))).toBe(75);
    expect(selfHealExitCode(result(ok, busy))).toBe(75);
    // An order's fills not booked yet when the ledger was reconciled pass by themselves too.
    expect(selfHealExitCode(result(ok, fillsNotBooked))).toBe(75);
    expect(selfHealExitCode(result(ok, fillsNotBooked, failed))).toBe(1);
  });

  it('exits 1 when any check failed, or intents were left for a reason not known to pass, whatever Kraken refused', () => {
    expect(selfHealExitCode(result(ok, rateLimited, failed))).toBe(1);
    expect(selfHealExitCode(result(busy, failed))).toBe(1);
    expect(selfHealExitCode(result(ok, rateLimited, unreachable))).toBe(1);
    expect(selfHealExitCode(result(ok, skipped))).toBe(0);
  });
});
