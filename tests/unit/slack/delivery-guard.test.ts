// The delivery guard (src/slack/deliveries.ts): what it keeps of a request once it has acked it and
// queued its work. A request the listener table takes leaves Bolt at the ack: while its work waits
// (for its claim's group commit, for a reply) Bolt's arguments for it — its middleware chain with
// them — must not stay held, or under load every young-generation collection copies them. Nor may
// the in-process set of recent delivery keys hold the bodies the keys were cut from.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parse as parseQuery } from 'node:querystring';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { AnyMiddlewareArgs, Middleware } from '@slack/bolt';
import { describe, expect, it, vi } from 'vitest';
import { systemClock } from '../../../src/clock.js';
import type { Db } from '../../../src/db/client.js';
import { silentLogger } from '../../../src/logger.js';
import { pino } from 'pino';
import { ManualClock } from '../../../src/clock.js';
import { createMetricsRegistry } from '../../../src/metrics/registry.js';
import { ACKED_WORK_SLOTS, BUSY_ACTION_TEXT, deliveryGuard, deliveryOf, RecentKeys } from '../../../src/slack/deliveries.js';

setFlagsFromString('--expose-gc');
/** A full collection, from a context made after the flag above (the test's own has no `gc`). */
const collect = runInNewContext('gc') as () => void;

/** The vote emoji the guard knows a vote reaction by (the config's defaults). */
const VOTES = { APPROVAL_EMOJI: 'white_check_mark', REJECTION_EMOJI: 'x' };

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
      { db: {} as Db, clock: systemClock, logger: silentLogger(), config: VOTES },
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
      { db: {} as Db, clock: systemClock, logger: silentLogger(), config: VOTES },
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

  it('hands a failed work\'s error handler when the request came, for its response_url\'s life', async () => {
    const clock = new ManualClock();
    const came = clock.now().getTime();
    let failed!: (seen: { error: Error; receivedAt: unknown }) => void;
    const seen = new Promise<{ error: Error; receivedAt: unknown }>((resolve) => (failed = resolve));
    const guard = deliveryGuard(
      { db: {} as Db, clock, logger: silentLogger(), config: VOTES },
      {
        detach: () => async () => {
          throw new Error('work broke');
        },
        onError: async (error, _body, receivedAt) => failed({ error, receivedAt }),
      },
    );
    await guard(slashArgs('trg-guard-fails', async () => undefined, []));
    clock.advance(60_000);
    expect(await seen).toEqual({ error: new Error('work broke'), receivedAt: came });
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
    const guard = deliveryGuard({ db: {} as Db, clock, logger, metrics, config: VOTES }, {
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
      text: ':hourglass: The bot is busy: 3 Slack requests are already waiting to be worked on, so `/stats` was not run. Try again in a minute. (/kill, /exit, /pause, /mode paper, the exit\'s confirm button, the incident\'s cancel orders button and the incident\'s close positions button are never held back: they run, busy or not.)',
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
    // Waited for as an event, not a count of turns: a queued item's claim waits for its group commit's
    // window (a timer), so a quiet machine runs 500 turns before it ends.
    await vi.waitFor(() => expect(ran).toEqual(expect.arrayContaining(['work 2', 'paper drill'])), { timeout: 20_000, interval: 5 });
    // Taken again once the items' work (and what follows it) has ended: tried until then.
    let tries = 0;
    await vi.waitFor(async () => {
      const after: unknown[] = [];
      await guard(requestArgs(slash('/t', 'work later', `trg-flood-later-${tries++}`), after));
      expect(after).toEqual(['ack']);
    }, { timeout: 20_000, interval: 5 });
  });
});

describe('deliveryGuard turning requests away', () => {
  /** Bolt's arguments for a request of any kind (a Slack retry: `retryNum`), recording what its ack carried. */
  function requestArgs(body: Record<string, unknown>, acks: unknown[], retryNum?: number) {
    return {
      body, context: retryNum === undefined ? {} : { retryNum }, client: {}, logger: {}, next: async () => undefined,
      ack: async (answer?: unknown) => {
        acks.push(answer ?? 'ack');
      },
    } as unknown as Parameters<Middleware<AnyMiddlewareArgs>>[0];
  }
  const slash = (command: string, text: string, trigger: string) => ({ command, text, user_id: 'U1', trigger_id: trigger });
  const action = (actionId: string, trigger: string) => ({
    type: 'block_actions', trigger_id: trigger, user: { id: 'U1' }, response_url: 'http://127.0.0.1:1/unused',
    actions: [{ action_id: actionId, action_ts: `${trigger}.1` }],
  });
  const reaction = (type: 'reaction_added' | 'reaction_removed', emoji: string, eventId: string) => ({
    type: 'event_callback', event_id: eventId, event: { type, user: 'U2', reaction: emoji, item: { type: 'message', channel: 'C1', ts: '1.1' } },
  });
  /** What a request's work is known by in `ran`. */
  const labelOf = (body: Record<string, unknown>): string => {
    if (typeof body.command === 'string') return `${body.command} ${String(body.text)}`;
    if (body.type === 'block_actions') return `action ${String(body.trigger_id)}`;
    const event = body.event as Record<string, unknown>;
    return `${String(event.type)} ${String(event.reaction)} ${String(body.event_id)}`;
  };

  /**
   * Two slots; commands turned away at 4 pending, other events at 2, decisions at 4 + 2; a lease that
   * never runs out within the test. Work whose label holds "work" waits until `release`.
   */
  function floodedGuard(tellShedAction?: (url: string, message: Record<string, unknown>) => Promise<void>) {
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const ran: string[] = [];
    let finished = 0;
    const waiters: Array<() => void> = [];
    /** Resolves once `n` accepted requests' work has ended. */
    const ended = async (n: number) => {
      while (finished < n) await new Promise<void>((resolve) => waiters.push(resolve));
    };
    const guard = deliveryGuard({ db: {} as Db, clock: new ManualClock(), logger: silentLogger(), config: VOTES }, {
      detach: (args) => async () => {
        const label = labelOf(args.body as Record<string, unknown>);
        ran.push(label);
        if (label.includes('work')) await held;
      },
      ...(tellShedAction ? { tellShedAction } : {}),
      // Counts work that ended: a claim may wait for its group commit (a real timer), so the test waits for the count.
      onStart: () => () => {
        finished += 1;
        for (const waiter of waiters.splice(0)) waiter();
      },
    }, { slots: 2, limit: 4, decisionHeadroom: 2, leaseMs: 600_000, shedLogEveryMs: 60_000 });
    return { guard, ran, ended, release: () => release() };
  }

  it('turns unrelated reactions away first, at half the limit, while a vote reaction and a button press still get in', async () => {
    const { guard, ran, ended, release } = floodedGuard();
    for (let i = 0; i < 2; i++) await guard(requestArgs(slash('/t', `work ${i}`, `trg-chat-${i}`), []));
    const acks: unknown[] = [];
    await guard(requestArgs(reaction('reaction_added', 'tada', 'Ev-chatter'), acks));
    await guard(requestArgs(slash('/stats', 'week', 'trg-chat-stats'), acks));
    await guard(requestArgs(reaction('reaction_removed', 'white_check_mark::skin-tone-2', 'Ev-vote'), acks));
    await guard(requestArgs(action('alert_ack', 'trg-chat-ack'), acks));
    release();
    await ended(5);
    expect(acks).toEqual(['ack', 'ack', 'ack', 'ack']);
    expect(ran).not.toContain('reaction_added tada Ev-chatter');
    expect(ran).toEqual(expect.arrayContaining(['/stats week', 'reaction_removed white_check_mark::skin-tone-2 Ev-vote', 'action trg-chat-ack']));
  });

  it('never turns away /mode paper, /exit, /pause or the exit confirm, and keeps room past the limit for decisions', async () => {
    const { guard, ran, ended, release } = floodedGuard();
    for (let i = 0; i < 4; i++) await guard(requestArgs(slash('/t', `work ${i}`, `trg-risk-${i}`), []));
    // Full for commands: a command that adds risk, or reads, is busy.
    const busy: unknown[] = [];
    await guard(requestArgs(slash('/mode', 'live', 'trg-risk-live'), busy));
    expect(busy).toEqual([expect.objectContaining({ response_type: 'ephemeral', text: expect.stringContaining('`/mode` was not run') })]);
    // Decisions still get in, up to their headroom (4 + 2): an alert Ack and a vote reaction.
    const acks: unknown[] = [];
    await guard(requestArgs(action('alert_ack', 'trg-risk-ack'), acks));
    await guard(requestArgs(reaction('reaction_added', 'x', 'Ev-risk-reject'), acks));
    // Past every limit: what removes risk is taken all the same.
    await guard(requestArgs(slash('/mode', 'PAPER incident', 'trg-risk-paper'), acks));
    await guard(requestArgs(slash('/exit', 'all', 'trg-risk-exit'), acks));
    await guard(requestArgs(slash('/pause', '', 'trg-risk-pause'), acks));
    await guard(requestArgs(action('exit_trade_confirm', 'trg-risk-confirm'), acks));
    expect(acks).toEqual(['ack', 'ack', 'ack', 'ack', 'ack', 'ack']);
    release();
    await ended(10);
    expect(ran).toEqual(expect.arrayContaining([
      'action trg-risk-ack', 'reaction_added x Ev-risk-reject', '/mode PAPER incident', '/exit all', '/pause ', 'action trg-risk-confirm',
    ]));
    expect(ran).not.toContain('/mode live');
  });

  it('past the headroom, tells the presser through the response_url and leaves a vote reaction un-acked; its Slack retry is processed', async () => {
    const told: Array<{ url: string; message: Record<string, unknown> }> = [];
    const { guard, ran, ended, release } = floodedGuard(async (url, message) => {
      told.push({ url, message });
    });
    // Commands fill the queue to its limit (4), button presses its headroom (2).
    for (let i = 0; i < 4; i++) await guard(requestArgs(slash('/t', `work ${i}`, `trg-past-${i}`), []));
    for (let i = 0; i < 2; i++) await guard(requestArgs(action('alert_ack', `trg-past-work-${i}`), []));
    const pressAcks: unknown[] = [];
    await guard(requestArgs(action('alert_ack', 'trg-past-ack'), pressAcks));
    expect(pressAcks).toEqual(['ack']);
    expect(told).toEqual([{
      url: 'http://127.0.0.1:1/unused',
      message: { response_type: 'ephemeral', replace_original: false, text: BUSY_ACTION_TEXT },
    }]);
    const voteAcks: unknown[] = [];
    await guard(requestArgs(reaction('reaction_removed', 'white_check_mark', 'Ev-past-vote'), voteAcks));
    expect(voteAcks).toEqual([]);
    // A command turned away busy, then typed again by Slack's retry of the same trigger.
    await guard(requestArgs(slash('/stats', 'day', 'trg-past-stats'), []));

    release();
    await ended(6);
    expect(ran).not.toContain('action trg-past-ack');
    expect(ran).not.toContain('reaction_removed white_check_mark Ev-past-vote');
    // Room again: Slack's redelivery of the vote, and a retry of the command, are not taken for duplicates.
    const retryAcks: unknown[] = [];
    await guard(requestArgs(reaction('reaction_removed', 'white_check_mark', 'Ev-past-vote'), retryAcks, 1));
    await guard(requestArgs(slash('/stats', 'day', 'trg-past-stats'), retryAcks, 1));
    await ended(8);
    expect(retryAcks).toEqual(['ack', 'ack']);
    expect(ran).toEqual(expect.arrayContaining(['reaction_removed white_check_mark Ev-past-vote', '/stats day']));
  });
});

describe('deliveryGuard telling a turned-away press', () => {
  it("posts the busy text to the press's response_url by default (no database on the way)", async () => {
    const posted: Array<Record<string, unknown>> = [];
    let got!: () => void;
    const arrived = new Promise<void>((resolve) => (got = resolve));
    const server: Server = createServer((req, res) => {
      let data = '';
      req.on('data', (chunk: Buffer) => (data += chunk.toString()));
      req.on('end', () => {
        posted.push({ path: req.url, ...(JSON.parse(data) as Record<string, unknown>) });
        res.writeHead(200);
        res.end('ok');
        got();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const guard = deliveryGuard({ db: {} as Db, clock: new ManualClock(), logger: silentLogger(), config: VOTES }, {
        detach: () => () => new Promise<void>(() => undefined),
      }, { slots: 1, limit: 1, decisionHeadroom: 0, leaseMs: 600_000, shedLogEveryMs: 60_000 });
      const press = (trigger: string, acks: unknown[]) => ({
        body: { type: 'block_actions', trigger_id: trigger, user: { id: 'U1' }, response_url: `http://127.0.0.1:${port}/actions/${trigger}`, actions: [{ action_id: 'alert_ack' }] },
        context: {}, client: {}, logger: {}, next: async () => undefined,
        ack: async () => {
          acks.push('ack');
        },
      } as unknown as Parameters<Middleware<AnyMiddlewareArgs>>[0]);
      await guard(press('trg-tell-0', []));
      const acks: unknown[] = [];
      await guard(press('trg-tell-1', acks));
      await arrived;
      expect(acks).toEqual(['ack']);
      expect(posted).toEqual([{ path: '/actions/trg-tell-1', response_type: 'ephemeral', replace_original: false, text: BUSY_ACTION_TEXT }]);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
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
