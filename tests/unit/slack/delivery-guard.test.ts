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
import { pino } from 'pino';
import { ManualClock } from '../../../src/clock.js';
import { createMetricsRegistry } from '../../../src/metrics/registry.js';
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

describe('deliveryGuard under a flood', () => {
  /** Bolt's arguments for a request of any kind, recording what its ack carried. */
  function requestArgs(body: Record<string, unknown>, acks: unknown[]) {
    return {
      body, context: {}, client: {}, logger: {}, next: async () => undefined,
      ack: async (answer?: unknown) => {
        acks.push(answer ?? 'ack');
      },
    } as unknown as Parameters<Middleware<AnyMiddlewareArgs>>[0];
  }

  it('turns a command away in its ack as busy once the queue is full, counts and logs it once per interval, and never holds /kill back', async () => {
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const ran: string[] = [];
    const lines: Array<Record<string, unknown>> = [];
    const logger = pino({ level: 'warn' }, { write: (line: string) => lines.push(JSON.parse(line) as Record<string, unknown>) });
    const clock = new ManualClock();
    const metrics = createMetricsRegistry();
    // Two slots, three pending at most, a lease that never runs out within the test: filled by count, not by time.
    const guard = deliveryGuard({ db: {} as Db, clock, logger, metrics }, {
      detach: (args) => async () => {
        const text = String((args.body as Record<string, unknown>).text);
        ran.push(text);
        // The commands that fill the queue wait; /kill runs in the request itself, so it must end.
        if (text.startsWith('work')) await held;
      },
    }, { slots: 2, limit: 3, leaseMs: 600_000, shedLogEveryMs: 60_000 });
    const slash = (command: string, text: string, trigger: string) => ({ command, text, user_id: 'U1', trigger_id: trigger });

    const acks: unknown[] = [];
    for (let i = 0; i < 3; i++) await guard(requestArgs(slash('/t', `work ${i}`, `trg-flood-${i}`), acks));
    expect(acks).toEqual(['ack', 'ack', 'ack']);

    // Full: the next command is answered busy in its ack, and its work never runs.
    const turnedAway: unknown[] = [];
    await guard(requestArgs(slash('/stats', 'week', 'trg-flood-busy'), turnedAway));
    expect(turnedAway).toEqual([{
      response_type: 'ephemeral',
      text: ':hourglass: The bot is busy: 3 Slack requests are already waiting to be worked on, so `/stats` was not run. Try again in a minute. (/kill is never held back: it runs at once, busy or not; /mode paper is still taken.)',
    }]);
    expect(ran).not.toContain('week');
    // An event (a reaction) is acked and dropped the same way: Slack would only retry it into the same flood.
    const eventAcks: unknown[] = [];
    await guard(requestArgs({ type: 'event_callback', event_id: 'Ev-flood', event: { type: 'reaction_added' } }, eventAcks));
    expect(eventAcks).toEqual(['ack']);

    // /mode paper is taken past the limit (going back to paper is immediate): queued, acked plainly, run once there is a slot.
    const paperAcks: unknown[] = [];
    await guard(requestArgs(slash('/mode', 'paper drill', 'trg-flood-paper'), paperAcks));
    expect(paperAcks).toEqual(['ack']);

    // /kill runs at once, full or not.
    const killAcks: unknown[] = [];
    await guard(requestArgs(slash('/kill', 'flood', 'trg-flood-kill'), killAcks));
    expect(killAcks).toEqual(['ack']);
    expect(ran).toContain('flood');

    // One log line for the first, none for the next within the interval; after it, one line with the count since.
    const shedLines = () => lines.filter((l) => typeof l.msg === 'string' && l.msg.startsWith('Slack requests turned away as busy'));
    expect(shedLines()).toHaveLength(1);
    expect(shedLines()[0]).toMatchObject({ shed: 1, limit: 3 });
    clock.advance(60_000);
    await guard(requestArgs(slash('/stats', 'day', 'trg-flood-busy-2'), []));
    expect(shedLines()).toHaveLength(2);
    expect(shedLines()[1]).toMatchObject({ shed: 2 });

    const shed = await metrics.getSingleMetricAsString('ctb_slack_requests_shed_total');
    expect(shed).toMatch(/ctb_slack_requests_shed_total\{surface="command"[^}]*\} 2$/m);
    expect(shed).toMatch(/ctb_slack_requests_shed_total\{surface="event"[^}]*\} 1$/m);

    // Room again once work finishes: a command is taken, not turned away.
    release();
    for (let i = 0; i < 500 && !ran.includes('paper drill'); i++) await nextTurn();
    expect(ran).toContain('paper drill');
    for (let i = 0; i < 50; i++) await nextTurn();
    const after: unknown[] = [];
    await guard(requestArgs(slash('/t', 'work later', 'trg-flood-later'), after));
    expect(after).toEqual(['ack']);
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
