// Acked Slack work whose turn comes too late (src/slack/shed-policy.ts, staleAfterMs): a slash command
// or a button press past the time left to answer through its response_url is not done, and the one who
// asked is told so while the response_url still answers; other events are dropped, counted and logged;
// /kill, /mode paper, /exit, /pause, the exit's confirm, the incident's cancel and close buttons and a
// vote reaction run however late. The clock is injected: the
// queue's ages are read on it.
import type { AnyMiddlewareArgs, Middleware } from '@slack/bolt';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../src/clock.js';
import type { Db } from '../../../src/db/client.js';
import { createMetricsRegistry } from '../../../src/metrics/registry.js';
import { deliveryGuard, staleText } from '../../../src/slack/deliveries.js';
import { ANSWER_MARGIN_MS, RESPONSE_URL_TTL_MS } from '../../../src/slack/shed-policy.js';
import { EXIT_CONFIRM_ACTION } from '../../../src/slack/views/exit.js';

const VOTES = { APPROVAL_EMOJI: 'white_check_mark', REJECTION_EMOJI: 'x' };
/** Past the time left to answer a command or a button press, inside the response_url's life. */
const LATE = RESPONSE_URL_TTL_MS - ANSWER_MARGIN_MS + 60_000;

function requestArgs(body: Record<string, unknown>): Parameters<Middleware<AnyMiddlewareArgs>>[0] {
  return { body, context: {}, client: {}, logger: {}, next: async () => undefined, ack: async () => undefined } as unknown as Parameters<Middleware<AnyMiddlewareArgs>>[0];
}
const slash = (command: string, text: string, trigger: string) => ({ command, text, user_id: 'U1', trigger_id: trigger, response_url: `http://127.0.0.1:1/${trigger}` });
const press = (trigger: string, actionId = 'alert_ack') => ({
  type: 'block_actions', trigger_id: trigger, user: { id: 'U1' }, response_url: `http://127.0.0.1:1/${trigger}`,
  actions: [{ action_id: actionId, action_ts: `${trigger}.1` }],
});
const reaction = (emoji: string, eventId: string) => ({
  type: 'event_callback', event_id: eventId, event: { type: 'reaction_added', user: 'U2', reaction: emoji, item: { type: 'message', channel: 'C1', ts: '1.1' } },
});
const labelOf = (body: Record<string, unknown>): string =>
  typeof body.command === 'string' ? `${body.command} ${String(body.text)}`
    : body.type === 'block_actions' ? `press ${String(body.trigger_id)}` : `reaction ${String(body.event_id)}`;

/** One slot, a lease that never runs out within the test: work labelled "work" holds the slot until `release`. */
function bed(opts: { claimTakes?: number } = {}) {
  const clock = new ManualClock();
  const metrics = createMetricsRegistry();
  const lines: Array<Record<string, unknown>> = [];
  const logger = pino({ level: 'warn' }, { write: (line: string) => lines.push(JSON.parse(line) as Record<string, unknown>) });
  const ran: string[] = [];
  const told: Array<{ url: string; text: unknown }> = [];
  let release!: () => void;
  const held = new Promise<void>((resolve) => (release = resolve));
  let holding!: () => void;
  const heldStarted = new Promise<void>((resolve) => (holding = resolve));
  let finished = 0;
  const waiters: Array<() => void> = [];
  const guard = deliveryGuard({ db: {} as Db, clock, logger, metrics, config: VOTES }, {
    detach: (args) => async () => {
      const label = labelOf(args.body as Record<string, unknown>);
      ran.push(label);
      if (label.includes('work')) {
        holding();
        await held;
      }
    },
    tellShedAction: async (url, message) => {
      told.push({ url, text: message.text });
    },
    // Asked first in the claim: time passing here is a claim a stalled database held that long.
    readsStatus: () => {
      if (opts.claimTakes) clock.advance(opts.claimTakes);
      return false;
    },
    onStart: () => () => {
      finished += 1;
      for (const waiter of waiters.splice(0)) waiter();
    },
  }, { slots: 1, leaseMs: 600_000, shedLogEveryMs: 60_000 });
  /** Resolves once `n` accepted requests have ended (run, or dropped). */
  const ended = async (n: number) => {
    while (finished < n) await new Promise<void>((resolve) => waiters.push(resolve));
  };
  const staleLines = () => lines.filter((l) => typeof l.msg === 'string' && l.msg.startsWith('Slack requests dropped as too old'));
  const staleCount = () => metrics.getSingleMetricAsString('ctb_slack_requests_stale_total');
  return { guard, clock, ran, told, lines, staleLines, staleCount, ended, heldStarted, release: () => release() };
}

describe('acked Slack work whose turn comes too late', () => {
  it('drops a late command and button press, telling each through its response_url; drops other events; runs what takes risk off and a vote', async () => {
    const b = bed();
    await b.guard(requestArgs(slash('/t', 'work', 'trg-work')));
    await b.guard(requestArgs(slash('/stats', 'week', 'trg-stats')));
    await b.guard(requestArgs(press('trg-press')));
    await b.guard(requestArgs(reaction('tada', 'Ev-chatter')));
    await b.guard(requestArgs(reaction('white_check_mark', 'Ev-vote')));
    await b.guard(requestArgs(slash('/mode', 'paper drill', 'trg-paper')));
    await b.guard(requestArgs(slash('/exit', '7', 'trg-exit')));
    await b.guard(requestArgs(slash('/pause', 'entries', 'trg-pause')));
    await b.guard(requestArgs(slash('/kill', 'drill', 'trg-kill')));
    await b.guard(requestArgs(press('trg-confirm', EXIT_CONFIRM_ACTION)));
    await b.guard(requestArgs(press('trg-cancel', 'incident_item_cancel_orders')));
    await b.guard(requestArgs(press('trg-close', 'incident_item_close_positions')));
    await b.heldStarted;
    b.clock.advance(LATE);
    b.release();
    await b.ended(12);
    expect([...b.ran].sort()).toEqual(['/exit 7', '/kill drill', '/mode paper drill', '/pause entries', '/t work',
      'press trg-cancel', 'press trg-close', 'press trg-confirm', 'reaction Ev-vote']);
    const minutes = Math.floor(LATE / 60_000);
    expect(b.told).toEqual([
      { url: 'http://127.0.0.1:1/trg-stats', text: staleText('`/stats`', LATE) },
      { url: 'http://127.0.0.1:1/trg-press', text: staleText('this button press', LATE) },
    ]);
    expect(staleText('`/stats`', LATE)).toBe(`:hourglass: Not done: \`/stats\` waited ${minutes} min behind Slack work that was not moving, too long to act on now. `
      + 'Do it again if it still matters. (/kill, /exit, /pause, /mode paper, the exit\'s confirm button, the incident\'s cancel orders button and the incident\'s close positions button are never dropped: they run however late.)');
    const count = await b.staleCount();
    expect(count).toMatch(/ctb_slack_requests_stale_total\{surface="command"[^}]*\} 1$/m);
    expect(count).toMatch(/ctb_slack_requests_stale_total\{surface="action"[^}]*\} 1$/m);
    expect(count).toMatch(/ctb_slack_requests_stale_total\{surface="event"[^}]*\} 1$/m);
    // Logged once for the first, then counted until the interval is over.
    expect(b.staleLines()).toHaveLength(1);
    expect(b.staleLines()[0]).toMatchObject({ stale: 1 });
  });

  it('runs a command and a button press that are late but still have time to answer, and drops other events after a minute', async () => {
    const b = bed();
    await b.guard(requestArgs(slash('/t', 'work', 'trg-work')));
    await b.guard(requestArgs(slash('/stats', 'week', 'trg-stats')));
    await b.guard(requestArgs(press('trg-press')));
    await b.guard(requestArgs(reaction('tada', 'Ev-chatter')));
    await b.heldStarted;
    b.clock.advance(RESPONSE_URL_TTL_MS - ANSWER_MARGIN_MS);
    b.release();
    await b.ended(4);
    expect(b.ran).toEqual(['/t work', '/stats week', 'press trg-press']);
    expect(b.told).toEqual([]);
  });

  it('drops a button press past its response_url\'s life without telling anyone (nothing can), and says so in the log', async () => {
    const b = bed();
    await b.guard(requestArgs(slash('/t', 'work', 'trg-work')));
    await b.guard(requestArgs(press('trg-press')));
    await b.heldStarted;
    b.clock.advance(RESPONSE_URL_TTL_MS);
    b.release();
    await b.ended(2);
    expect(b.ran).toEqual(['/t work']);
    expect(b.told).toEqual([]);
    expect(b.lines.some((l) => String(l.msg).startsWith('a Slack request dropped as too old could not be told so'))).toBe(true);
  });

  it('asks again after the claim: a command whose claim a stalled database held too long is dropped and told; /mode paper still runs', async () => {
    const b = bed({ claimTakes: LATE });
    await b.guard(requestArgs(slash('/stats', 'week', 'trg-stats')));
    await b.ended(1);
    expect(b.ran).toEqual([]);
    expect(b.told).toEqual([{ url: 'http://127.0.0.1:1/trg-stats', text: staleText('`/stats`', LATE) }]);
    await b.guard(requestArgs(slash('/mode', 'paper drill', 'trg-paper')));
    await b.ended(2);
    expect(b.ran).toEqual(['/mode paper drill']);
  });
});
