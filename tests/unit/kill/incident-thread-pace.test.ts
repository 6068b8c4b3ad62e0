import { describe, expect, it } from 'vitest';
import type { ThreadShown } from '../../../src/db/schema/index.js';
import { agoPhrase, describeHolder, holderView, withoutAges } from '../../../src/domain/engine-holder.js';
import { AGE_REFRESH_MS, MIN_UPDATE_GAP_MS, threadUpdateDue, UPDATE_CLAIM_MS } from '../../../src/domain/incident-thread-pace.js';

const t0 = new Date('2026-03-02T10:00:00Z');
const later = (ms: number) => new Date(t0.getTime() + ms);
const shown: ThreadShown = { facts: 'f1', meaning: 'm1', payload: 'p1', at: t0.toISOString(), updating: false };

describe('when the incident checklist message is updated again', () => {
  it('at once when nothing was shown yet, never for the payload it already shows', () => {
    expect(threadUpdateDue(null, { facts: 'f1', meaning: 'm1', payload: 'p1' }, t0)).toBe(true);
    expect(threadUpdateDue(shown, { facts: 'f1', meaning: 'm1', payload: 'p1' }, later(10 * AGE_REFRESH_MS))).toBe(false);
  });

  it('at once when a fact changed (an item done, taken by a bot), however recent the last update', () => {
    expect(threadUpdateDue(shown, { facts: 'f2', meaning: 'm2', payload: 'p2' }, later(1))).toBe(true);
  });

  it('other changed words wait for the gap; words that differ only by an age wait for the age refresh', () => {
    const words = { facts: 'f1', meaning: 'm2', payload: 'p2' };
    expect(threadUpdateDue(shown, words, later(MIN_UPDATE_GAP_MS - 1))).toBe(false);
    expect(threadUpdateDue(shown, words, later(MIN_UPDATE_GAP_MS))).toBe(true);
    const age = { facts: 'f1', meaning: 'm1', payload: 'p2' };
    expect(threadUpdateDue(shown, age, later(AGE_REFRESH_MS - 1))).toBe(false);
    expect(threadUpdateDue(shown, age, later(AGE_REFRESH_MS))).toBe(true);
  });

  it('not while another process sends it, unless that one died sending; not before Slack allows after a refusal, even for a fact', () => {
    const changed = { facts: 'f2', meaning: 'm2', payload: 'p2' };
    expect(threadUpdateDue({ ...shown, updating: true }, changed, later(UPDATE_CLAIM_MS - 1))).toBe(false);
    expect(threadUpdateDue({ ...shown, updating: true }, changed, later(UPDATE_CLAIM_MS))).toBe(true);
    const refused = { ...shown, notBefore: later(3_000).toISOString() };
    expect(threadUpdateDue(refused, changed, later(2_999))).toBe(false);
    expect(threadUpdateDue(refused, changed, later(3_000))).toBe(true);
  });
});

describe('an age in words, without the clock', () => {
  it('makes every age agoPhrase writes one, and leaves the rest as it is', () => {
    const lease = {
      id: 1, holderId: 'w', host: 'worker-2', pid: 77, bootId: null, role: 'worker', feed: 'kraken', armed: false, hasKrakenKeys: false,
      acquiredAt: t0, heartbeatAt: t0, takenOverFrom: null, waiting: null, waitingKind: null, waitingStateVersion: null, ttlMs: 15_000,
    };
    const at = (ms: number) => describeHolder(holderView(lease, later(ms), 15_000));
    expect(at(3_000)).toContain(`heartbeat ${agoPhrase(3_000)}`);
    expect(withoutAges(at(3_000))).toBe(withoutAges(at(9_000))); // under two renewals (10 s): still running
    expect(withoutAges(at(3_000))).not.toBe(withoutAges(at(16_000))); // stale now: that is a change
    expect(withoutAges('request #42, heartbeat 3s ago (145s ago)')).toBe('request #42, heartbeat Ns ago (Ns ago)');
  });
});
