import { describe, expect, it } from 'vitest';
import { describeHolder, holderView } from '../../src/domain/engine-holder.js';

describe('describeHolder', () => {
  it('a stale holder is said as the lease shows it: nothing took over, and no standby is promised', () => {
    const at = new Date('2026-03-02T10:00:00Z');
    const lease = { id: 1, holderId: 'h-1', host: 'vm', pid: 42, bootId: null, role: 'worker', feed: 'kraken', armed: true, hasKrakenKeys: true, acquiredAt: at, heartbeatAt: at, takenOverFrom: null, waiting: null, waitingKind: null, waitingStateVersion: null };
    const text = describeHolder(holderView(lease, new Date(at.getTime() + 60_000), 15_000));
    expect(text).toBe('stale since 2026-03-02T10:00:15.000Z — vm:42 (worker, feed kraken, armed for live, has Kraken keys), last heartbeat 2026-03-02T10:00:00.000Z (60s ago): died or hung, and no other process has taken the lease over');
    expect(text).not.toMatch(/standby/);
  });
});
