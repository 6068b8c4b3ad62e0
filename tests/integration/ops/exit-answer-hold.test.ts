// An exit's answer is told once: by its requester, which holds the telling while it shows the answer
// (request-exit.ts showExitAnswer), or by a sweep (tell-exit.ts) when nobody showed it. A requester
// whose reader is slower than the hold's lease still holds it, so no sweep tells it a second time
// meanwhile — for EXIT_SHOW_HOLD_LEASES leases: one whose showing never finishes (stdout stopped with
// Ctrl-S, a pager nobody scrolls) stops holding it then, and a sweep tells it, once; one whose
// process died while showing stops holding it, and a sweep tells it once the lease is out.
import { eq, sql } from 'drizzle-orm';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { createOutboxAlertSink } from '../../../src/alerts/sink.js';
import { ManualClock } from '../../../src/clock.js';
import { testConfig } from '../../../src/config/env.js';
import { holdExitAnswer } from '../../../src/db/queries/exit-outcomes.js';
import { alertEvents, engineRequests } from '../../../src/db/schema/index.js';
import { silentLogger } from '../../../src/logger.js';
import type { Notification, Notifier } from '../../../src/notifications/notification.js';
import { EXIT_SHOW_HOLD_LEASES, showExitAnswer } from '../../../src/services/exits/request-exit.js';
import { tellUnshownExits, type TellExitDeps } from '../../../src/services/exits/tell-exit.js';
import { usePostgresTestDb } from '../../support/db.js';

const database = usePostgresTestDb({ truncate: ['engine_requests', 'alert_events', 'alert_groups', 'alert_deliveries'] });

/**
 * The lease of a claim on telling an exit, shortened from its 60 s so that a reader can block past it within a test.
 * Renewed every third of it: at 1.5 s, a renewal held up over a second (a CI run at load 17) let a sweep tell an answer
 * still being shown; at 3 s a renewal may be two seconds late.
 */
const LEASE_MS = 3_000;

/** A process's sweep, with the shortened lease: with `notifier`, one that can update Slack (a web replica); without, a worker without Slack. */
function sweeper(notifier?: Notifier): TellExitDeps {
  const config = testConfig();
  const db = database().db;
  const alerts = createOutboxAlertSink({ db, clock: new ManualClock('2026-01-05T00:00:00Z'), logger: silentLogger(), config, metrics: new Registry() });
  return { db, alerts, logger: silentLogger(), config: { EXIT_REQUEST_TTL: config.EXIT_REQUEST_TTL }, exitTellLeaseMs: LEASE_MS, ...(notifier ? { notifier } : {}) };
}

/** A notifier that updates Slack messages, each update taking `takesMs` (records what it was asked to). */
function slackNotifier(takesMs = 0): Notifier & { sent: Notification[]; started: Promise<void> } {
  const sent: Notification[] = [];
  let start: () => void = () => {};
  const started = new Promise<void>((r) => (start = r));
  return { sent, started, carries: new Set(['exit_outcome'] as const), notify: async (_db, n) => (start(), await pause(takesMs), sent.push(n), { channel: 'C0OPS', ts: '1.2' }) };
}

/**
 * An exit of trade #7 done, asked by a requester that waited none of it ten seconds ago: due to be
 * told now, nobody showed it. `slack`: asked from Slack, its button's message records it.
 */
async function answered(opts: { slack?: boolean } = {}): Promise<number> {
  const [row] = await database().db.insert(engineRequests).values({
    kind: 'exit_trade', status: 'done', requestedBy: opts.slack ? 'UOPERATOR1' : 'cli:ops', requestedAt: sql`now() - interval '10 seconds'`, finishedAt: sql`now()`,
    params: { target: 7, waitMs: 0 }, result: { summary: 'trade #7 sold' },
    ...(opts.slack ? { replyMessages: [{ channel: 'C0OPS', ts: '1700000000.000900' }] } : {}),
  }).returning();
  return row!.id;
}

const rowOf = async (id: number) => (await database().db.select().from(engineRequests).where(eq(engineRequests.id, id)))[0]!;
const exitAlerts = async (id: number) => (await database().db.select().from(alertEvents)).filter((e) => (e.details as { requestId?: number }).requestId === id);
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("an exit's answer, told once", () => {
  it('a requester whose reader blocks past the lease, within the hold\'s bound, still holds the answer: no sweep tells it meanwhile, and it is shown, not told twice', async () => {
    const id = await answered();
    const sweep = sweeper();
    let printed = false;
    let sweeping = true;
    let told = 0;
    let sweeps: Promise<void> = Promise.resolve();
    try {
      await showExitAnswer({ db: database().db, logger: silentLogger(), exitTellLeaseMs: LEASE_MS }, { requestId: id, status: 'done' }, async () => {
        // While the requester shows it (it holds the answer now), another process sweeps all along, as every replica does every 2 s.
        sweeps = (async () => {
          while (sweeping) {
            told += await tellUnshownExits(sweep);
            await pause(100);
          }
        })();
        // The reader takes the answer only after two leases: the most the hold is renewed for.
        expect(EXIT_SHOW_HOLD_LEASES).toBe(2);
        await pause(LEASE_MS * 2);
        printed = true;
      });
    } finally {
      sweeping = false;
      await sweeps;
    }
    expect(printed).toBe(true);
    expect(told).toBe(0);
    expect(await exitAlerts(id)).toEqual([]);
    expect(await rowOf(id)).toMatchObject({ answerShownAt: expect.any(Date), outcomeToldAt: null });
    // Shown: no later sweep tells it either, however long after.
    await pause(LEASE_MS + 200);
    expect(await tellUnshownExits(sweep)).toBe(0);
    expect(await exitAlerts(id)).toEqual([]);
  }, 30_000);

  it('a requester whose showing never finishes (Ctrl-S, a pager nobody scrolls) holds the answer for its bound only: a sweep then tells it, exactly once', async () => {
    const id = await answered();
    const sweep = sweeper();
    let showing = false;
    // Never awaited: its print never returns.
    void showExitAnswer({ db: database().db, logger: silentLogger(), exitTellLeaseMs: LEASE_MS }, { requestId: id, status: 'done' }, () => {
      showing = true;
      return new Promise<void>(() => {});
    });
    const began = performance.now();
    while (!showing) await pause(10);
    // Held while the hold is renewed (EXIT_SHOW_HOLD_LEASES leases): sweeps all along tell nothing.
    const told: number[] = [];
    while (performance.now() - began < LEASE_MS * EXIT_SHOW_HOLD_LEASES) {
      told.push(await tellUnshownExits(sweep));
      await pause(100);
    }
    expect(told.every((n) => n === 0)).toBe(true);
    // No longer renewed, its last lease runs out (within three leases of the showing): a sweep tells it, and no later one again.
    while (performance.now() - began < LEASE_MS * (EXIT_SHOW_HOLD_LEASES + 1) + 600) {
      told.push(await tellUnshownExits(sweep));
      await pause(100);
    }
    expect(told.reduce((a, b) => a + b, 0)).toBe(1);
    expect(await tellUnshownExits(sweep)).toBe(0);
    expect(await exitAlerts(id)).toHaveLength(1);
    expect(await rowOf(id)).toMatchObject({ answerShownAt: null, outcomeToldAt: expect.any(Date) });
  }, 30_000);

  it('a sweep whose Slack update takes longer than the lease still holds the exit: another replica does not tell it again', async () => {
    const id = await answered({ slack: true });
    // Two leases: the claim outlives its first lease only by being renewed, and then a whole lease more.
    const slow = slackNotifier(LEASE_MS * 2);
    const other = slackNotifier();
    let sweeping = true;
    let toldByOther = 0;
    const telling = tellUnshownExits(sweeper(slow));
    // Once the first replica claimed it and its Slack update hangs, another replica sweeps all along.
    await slow.started;
    const sweeps = (async () => {
      while (sweeping) {
        toldByOther += await tellUnshownExits(sweeper(other));
        await pause(100);
      }
    })();
    try {
      expect(await telling).toBe(1);
    } finally {
      sweeping = false;
      await sweeps;
    }
    expect(toldByOther).toBe(0);
    expect(other.sent).toEqual([]);
    expect(slow.sent).toEqual([expect.objectContaining({ kind: 'exit_outcome', message: { channel: 'C0OPS', ts: '1700000000.000900' } })]);
    expect(await rowOf(id)).toMatchObject({ answerShownAt: expect.any(Date), outcomeToldAt: expect.any(Date) });
    expect(await exitAlerts(id)).toEqual([]);
  }, 30_000);

  it('a requester that died while showing holds the answer no longer than the lease: a sweep then tells it, once', async () => {
    const id = await answered();
    const sweep = sweeper();
    // Its process held the answer to show it, and died before it had.
    expect(await holdExitAnswer(database().db, id, LEASE_MS)).toEqual(expect.any(String));
    expect(await tellUnshownExits(sweep)).toBe(0);
    await pause(LEASE_MS + 300);
    expect(await tellUnshownExits(sweep)).toBe(1);
    expect(await tellUnshownExits(sweep)).toBe(0);
    expect(await exitAlerts(id)).toHaveLength(1);
    expect(await rowOf(id)).toMatchObject({ answerShownAt: null, outcomeToldAt: expect.any(Date) });
  }, 30_000);
});
