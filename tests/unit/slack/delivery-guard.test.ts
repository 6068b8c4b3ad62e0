// The delivery guard (src/slack/deliveries.ts): what it keeps of a request once it has acked it and
// queued its work. A request the listener table takes leaves Bolt at the ack: while its work waits
// (for its claim's group commit, for a reply) Bolt's arguments for it — its middleware chain with
// them — must not stay held, or under load every young-generation collection copies them. Nor may
// the in-process set of recent delivery keys hold the bodies the keys were cut from.
import { parse as parseQuery } from 'node:querystring';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { AnyMiddlewareArgs, Middleware } from '@slack/bolt';
import { describe, expect, it } from 'vitest';
import { systemClock } from '../../../src/clock.js';
import type { Db } from '../../../src/db/client.js';
import { silentLogger } from '../../../src/logger.js';
import { ACKED_WORK_SLOTS, deliveryGuard, deliveryOf, RecentKeys } from '../../../src/slack/deliveries.js';

setFlagsFromString('--expose-gc');
/** A full collection, from a context made after the flag above (the test's own has no `gc`). */
const collect = runInNewContext('gc') as () => void;

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Bolt's arguments for a slash command, as the guard gets them; `next` stands for Bolt's chain. */
function slashArgs(trigger: string, next: () => Promise<void>, acks: string[]) {
  return {
    body: { command: '/t', text: 'work', user_id: 'U1', trigger_id: trigger },
    command: { command: '/t', text: 'work', user_id: 'U1', trigger_id: trigger },
    context: {},
    client: {},
    logger: {},
    next,
    ack: async () => {
      acks.push('ack');
    },
  } as unknown as Parameters<Middleware<AnyMiddlewareArgs>>[0];
}

describe('deliveryGuard', () => {
  it("lets go of Bolt's arguments at the ack while the work of a request the table takes runs or waits for a slot", async () => {
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const ran: Array<Record<string, unknown>> = [];
    const acks: string[] = [];
    // No database: the claim fails, and the work goes on with the in-process duplicate check.
    const guard = deliveryGuard(
      { db: {} as Db, clock: systemClock, logger: silentLogger() },
      {
        detach: () => async (context) => {
          ran.push(context);
          await held;
        },
      },
    );
    // Every slot taken by work that waits, and one more request queued behind them.
    const requests = ACKED_WORK_SLOTS + 1;
    const chains: Array<WeakRef<() => Promise<void>>> = [];
    for (let i = 0; i < requests; i++) {
      chains.push(
        await (async () => {
          const next = async () => undefined;
          await guard(slashArgs(`trg-guard-${i}`, next, acks));
          return new WeakRef(next);
        })(),
      );
    }
    for (let i = 0; i < 500 && ran.length < ACKED_WORK_SLOTS; i++) await nextTurn();
    collect();

    expect(acks).toHaveLength(requests);
    expect(ran).toHaveLength(ACKED_WORK_SLOTS);
    expect(ran[0]!.delivery).toMatchObject({ key: 'command:trg-guard-0', surface: 'command' });
    expect(chains.filter((chain) => chain.deref() !== undefined)).toHaveLength(0);
    release();
  });
});

describe('deliveryGuard when the listener table throws', () => {
  it('leaves no request counted in flight', async () => {
    let inFlight = 0;
    const guard = deliveryGuard(
      { db: {} as Db, clock: systemClock, logger: silentLogger() },
      {
        onStart: () => {
          inFlight += 1;
          return () => (inFlight -= 1);
        },
        detach: () => {
          throw new Error('table broke');
        },
      },
    );
    await expect(guard(slashArgs('trg-guard-throws', async () => undefined, []))).rejects.toThrow('table broke');
    expect(inFlight).toBe(0);
  });
});

describe('RecentKeys', () => {
  it('keeps its own copy of a key, not the request body the key was cut from', () => {
    const keys = new RecentKeys(1_000);
    collect();
    const before = process.memoryUsage().heapUsed;
    for (let i = 0; i < 1_000; i++) {
      const form = parseQuery(`pad=${'x'.repeat(10_000)}&trigger_id=trg${String(i).padStart(16, '0')}`);
      keys.add(deliveryOf({ command: '/t', trigger_id: form.trigger_id }).key);
    }
    collect();
    // The thousand bodies are 10 MB; the thousand keys, with the set and ring that hold them, tens of kB.
    expect(process.memoryUsage().heapUsed - before).toBeLessThan(2_000_000);
    expect(keys.add(`command:trg${String(999).padStart(16, '0')}`)).toBe(false);
  });
});
