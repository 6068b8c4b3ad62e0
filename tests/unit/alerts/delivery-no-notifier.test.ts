// A process with no notifier (no alerts channel, no SMTP: a paper bot with Slack off, most bots the
// tests start) can send on no lane of the alert outbox: its delivery tick leaves the outbox to a
// process that can, without reading it (it read the due lanes every second for nothing). With a
// notifier it reads them. The database here answers nothing: any read is recorded.
import { describe, expect, it, vi } from 'vitest';
import { DeliveryWorker, type DeliveryWorkerDeps } from '../../../src/alerts/delivery-worker.js';
import type { Notifier } from '../../../src/notifications/notification.js';

function deps(notifiers: Pick<DeliveryWorkerDeps, 'chat' | 'email'>) {
  const used: string[] = [];
  const db = new Proxy({}, {
    get(_, key) {
      used.push(String(key));
      return () => Promise.reject(new Error('the database answers nothing here'));
    },
  });
  const logger = { info: vi.fn(), warn: vi.fn(), error: vi.fn(), debug: vi.fn(), child: () => logger };
  return { used, deps: { db, clock: { now: () => new Date() }, logger, emailTo: [], ...notifiers } as unknown as DeliveryWorkerDeps };
}

describe('the alert delivery tick', () => {
  it('reads nothing in a process with no notifier', async () => {
    const { used, deps: d } = deps({ chat: null, email: null });
    const worker = new DeliveryWorker(d);
    await expect(worker.tick()).resolves.toMatchObject({ sent: 0, failed: 0, cancelled: 0, triedLanes: [] });
    await expect(worker.tick({ groupId: 1 })).resolves.toMatchObject({ sent: 0, triedLanes: [] });
    expect(used).toEqual([]);
  });

  for (const which of ['chat', 'email'] as const) {
    it(`control: with a ${which} notifier it reads the due lanes`, async () => {
      const notifier = { carries: new Set(), send: vi.fn() } as unknown as Notifier;
      const { used, deps: d } = deps({ chat: null, email: null, [which]: notifier });
      await expect(new DeliveryWorker(d).tick()).rejects.toThrow(/answers nothing/);
      expect(used.length).toBeGreaterThan(0);
    });
  }
});
