import { describe, expect, it } from 'vitest';
import type { EngineLease } from '../../src/db/schema/index.js';
import { describeHolder, holderView } from '../../src/domain/engine-holder.js';
import { readBootId, recordedScope } from '../../src/services/engine-lease/holder-gone.js';
import { holderViewHere } from '../../src/services/engine-lease/holder-view.js';
import { hostname } from 'node:os';

describe('describeHolder', () => {
  it('a stale holder is said as the lease shows it: nothing took over, and no standby is promised', () => {
    const at = new Date('2026-03-02T10:00:00Z');
    const lease = { id: 1, holderId: 'h-1', host: 'vm', pid: 42, bootId: null, role: 'worker', feed: 'kraken', armed: true, hasKrakenKeys: true, acquiredAt: at, heartbeatAt: at, takenOverFrom: null, waiting: null, waitingKind: null, waitingStateVersion: null, ttlMs: null };
    const text = describeHolder(holderView(lease, new Date(at.getTime() + 60_000), 15_000));
    expect(text).toBe('stale since 2026-03-02T10:00:15.000Z — vm:42 (worker, feed kraken, armed for live, has Kraken keys), last heartbeat 2026-03-02T10:00:00.000Z (60s ago): died or hung, and no other process has taken the lease over');
    expect(text).not.toMatch(/standby/);
  });
});

describe('holderView of a running holder', () => {
  const at = new Date('2026-03-02T10:00:00Z');
  const lease = (over: Partial<EngineLease> = {}): EngineLease => ({
    id: 1, holderId: 'h-1', host: 'vm', pid: 42, bootId: null, role: 'worker', feed: 'kraken', armed: false, hasKrakenKeys: false,
    acquiredAt: at, heartbeatAt: at, takenOverFrom: null, waiting: null, waitingKind: null, waitingStateVersion: null, ttlMs: 15_000, ...over,
  });
  const after = (ms: number) => new Date(at.getTime() + ms);

  it('says a holder may have stopped only past twice its renewal interval: one late renewal is a loaded host', () => {
    // TTL 15 s: renewed every 5 s. Renewed 6 s ago (one renewal late) is healthy; 11 s ago, two missed, is overdue.
    expect(holderView(lease(), after(6_000), 15_000)).toMatchObject({ state: 'running', renewalOverdue: false, renewEveryMs: 5_000 });
    const overdue = holderView(lease(), after(11_000), 15_000);
    expect(overdue).toMatchObject({ state: 'running', renewalOverdue: true, staleAt: '2026-03-02T10:00:15.000Z' });
    expect(describeHolder(overdue)).toContain('renewed every 5s while it runs: its holder may have stopped (killed or hung); a standby may take the lease over from 2026-03-02T10:00:15.000Z');
  });

  it("judges by the holder's TTL the row carries, not the reader's; without one it says the reader's is used", () => {
    // A bot run with 60 s renews every 20 s: 13 s after a renewal it runs, whatever the reader's 15 s says.
    const long = holderView(lease({ ttlMs: 60_000 }), after(13_000), 15_000);
    expect(long).toMatchObject({ state: 'running', renewalOverdue: false, renewEveryMs: 20_000, staleAt: '2026-03-02T10:01:00.000Z' });
    expect(long.ttlOfReader).toBeUndefined();
    const old = holderView(lease({ ttlMs: null }), after(11_000), 15_000);
    expect(old).toMatchObject({ renewalOverdue: true, ttlOfReader: true });
    expect(describeHolder(old)).toContain("renewed every 5s while it runs (by the reading process's ENGINE_LEASE_TTL: the lease row does not carry its holder's): its holder may have stopped");
  });

  it("says a holder whose process is gone from this host is gone, and that a standby here takes over at once", () => {
    const gone = holderView(lease(), after(1_000), 15_000, { processGone: true });
    expect(gone).toMatchObject({ state: 'running', renewalOverdue: true, processGone: true });
    const text = describeHolder(gone);
    expect(text).toContain("its holder's process (pid 42 on this host) is gone; a standby on this host takes the lease over at once");
    expect(text).not.toMatch(/may take the lease over from|trading/);
    // As this process reads it: gone only where a standby here would take over at once (same host and pid scope, pid no process).
    const here = lease({ host: hostname(), pid: 999_999, bootId: recordedScope(readBootId(), 'h-1') });
    expect(holderViewHere(here, after(1_000), 15_000, () => false).processGone).toBe(readBootId() !== null);
    expect(holderViewHere(here, after(1_000), 15_000, () => true).processGone).toBeUndefined();
    expect(holderViewHere({ ...here, host: 'elsewhere' }, after(1_000), 15_000, () => false).processGone).toBeUndefined();
  });
});
