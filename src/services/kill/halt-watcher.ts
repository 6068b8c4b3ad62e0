// Owns how a running bot learns of a halt it did not cause: a kill from another terminal
// (`ctb kill`), another replica, or a halt persisted before a restart. At start it writes any kill
// saved while the database was away and latches the halt bot_state records; then it polls
// bot_state every HALT_POLL_INTERVAL (500 ms by default), so a kill elsewhere stops this process's
// engine and trading jobs within a second. A resume elsewhere (halted seen, then not halted) lifts
// the latch; nothing here ever lifts a halt this process did not see written first. A read is
// older than a latch or release this process made while it was out (a resume here commits, then
// releases; a kill here latches before it writes): such a read is dropped, never applied over it —
// it re-latched a halt just lifted (the bot answered "Halt lifted", then refused orders and
// cancelled Kraken's again), or released a kill not yet written. Another read of bot_state in this
// process (the engine-request runner's poll, four times a second) is taken as a poll when handed
// over (reading()): the watcher's own poll then waits until an interval after the latest read, so
// reads are never further apart than HALT_POLL_INTERVAL and a busy runner costs no query of its own.
// A read that started before one already applied is dropped, never applied over it.
import { performance } from 'node:perf_hooks';
import type { Config } from '../../config/env.js';
import type { BotState } from '../../db/schema/index.js';
import { getBotState } from '../bot-state.js';
import { knownServerIdentity, learnServerIdentity } from './database-identity.js';
import { describeError, withDeadline } from './deadline.js';
import { readPendingKills } from './pending-kill.js';
import { replayPendingKills, type ReplayDeps } from './replay-pending.js';
import { isHaltLatched, latchHalt, releaseHalt } from './runtime.js';

export interface HaltWatcher {
  /** One poll (the timer calls it; tests call it directly). */
  check(): Promise<void>;
  /**
   * A read of bot_state made elsewhere in this process, taken as a poll: called as that read starts,
   * the function returned is given its row. Undefined when the read is not wanted (a poll of its own
   * is out, a saved kill waits to be replayed by one, or it stopped). The promise settles once the
   * row is applied (or dropped).
   */
  reading(): ((state: BotState) => Promise<void>) | undefined;
  stop(): Promise<void>;
}

export interface HaltWatcherOptions {
  intervalMs?: number;
  /** Start the poll timer (default true); tests drive check() themselves. */
  timer?: boolean;
  /** Run on each poll that finds the bot halted (posting a terminal kill's incident thread). */
  whileHalted?: () => Promise<unknown>;
  /**
   * Run on the reads that find the bot not halted after one that found it halted (a resume or
   * reconciliation lifted it, here or elsewhere), until it answers true: redraws an incident left open
   * (false: its redraw waits, paced or sent by another process). Its failure is the caller's to log.
   */
  whenLifted?: () => Promise<boolean>;
}

/** Watching for a halt: what replaying a saved kill needs, and the poll's interval. */
export type HaltWatcherDeps = ReplayDeps & { config: Pick<Config, 'HALT_POLL_INTERVAL'> };

export async function startHaltWatcher(ctx: HaltWatcherDeps, opts: HaltWatcherOptions = {}): Promise<HaltWatcher> {
  const intervalMs = opts.intervalMs ?? ctx.config.HALT_POLL_INTERVAL;
  /**
   * The latch's changes count after the last read that saw halted, null when the last read did not:
   * a resume is a halted → not-halted transition with no latch or release here in between.
   */
  let sawHaltedAt: number | null = null;
  const changes = () => ctx.kill.latch.changes;
  let running: Promise<void> | null = null;
  let failures = 0;

  /** When the latest read applied here started (performance.now()): an older one is dropped. */
  let appliedReadAt = Number.NEGATIVE_INFINITY;
  /** When the latest read of bot_state taken here (its own or handed over) started. */
  let lastReadAt = performance.now();
  let whileHaltedAt = Number.NEGATIVE_INFINITY;
  /** The latest read applied found the bot halted: the next one that does not is a lift. */
  let haltedLastRead = false;
  /** A lift seen, whenLifted not yet done with it. */
  let liftPending = false;
  let stopped = false;

  /** What a read of bot_state started at `startedAt`, with the latch's changes count then, says. */
  const apply = async (state: BotState, before: number, startedAt: number, own: boolean): Promise<void> => {
    // The database answers: learn which server it is, once, so a kill saved while it does not answer
    // names the server it was aimed at (database-identity.ts). Not waited for.
    if (!knownServerIdentity(ctx)) void learnServerIdentity(ctx);
    if (startedAt < appliedReadAt) return;
    appliedReadAt = startedAt;
    if (changes() !== before) {
      // Overtaken by this process while out: the next poll reads what it wrote.
      sawHaltedAt = null;
      return;
    }
    liftPending = !state.halted && (liftPending || haltedLastRead);
    haltedLastRead = state.halted;
    if (liftPending && opts.whenLifted) liftPending = !(await opts.whenLifted().catch(() => false));
    if (state.halted) {
      if (!isHaltLatched(ctx)) {
        ctx.logger.warn({ reason: state.haltedReason, by: state.haltedBy }, 'bot_state says halted: this process stops trading');
        latchHalt(ctx, state.haltedReason ?? 'halted');
      }
      sawHaltedAt = changes();
      // On each poll of its own; for reads handed over, at most once an interval.
      if (own || performance.now() - whileHaltedAt >= intervalMs) {
        whileHaltedAt = performance.now();
        await opts.whileHalted?.();
      }
    } else if (sawHaltedAt === changes() && isHaltLatched(ctx) && readPendingKills(ctx.config.DATA_DIR).length === 0) {
      ctx.logger.warn('bot_state says the halt was lifted: this process resumes its trading jobs');
      releaseHalt(ctx);
      sawHaltedAt = null;
    } else {
      sawHaltedAt = null;
    }
  };

  const poll = async (): Promise<void> => {
    if (readPendingKills(ctx.config.DATA_DIR).length > 0) {
      // Latches at once, then writes each saved kill if the database answers.
      const replay = await replayPendingKills(ctx);
      if (replay.error) ctx.logger.warn({ error: replay.error, remaining: replay.remaining }, 'a saved kill is still waiting for the database');
    }
    const before = changes();
    const startedAt = performance.now();
    lastReadAt = startedAt;
    const state = await withDeadline(getBotState(ctx.db), ctx.config.KILL_DB_TIMEOUT, 'the database (bot_state poll)');
    await apply(state, before, startedAt, true);
  };

  const settle = (work: Promise<void>): Promise<void> => work
    .then(() => {
      if (failures > 0) ctx.logger.info('bot_state poll answers again');
      failures = 0;
    })
    .catch((err: unknown) => {
      failures += 1;
      // Once, then every 100th: an outage must not flood the log (and the log-line alerts).
      if (failures === 1 || failures % 100 === 0) ctx.logger.warn({ failures, error: describeError(err) }, 'could not poll bot_state for a halt');
    })
    .finally(() => {
      running = null;
    });

  const check = (): Promise<void> => {
    // One poll at a time: a stalled database must not pile polls up.
    running ??= settle(poll());
    return running;
  };

  // Its own poll an interval after the latest read taken here, its own or handed over.
  let timer: NodeJS.Timeout | undefined;
  const arm = (ms: number) => {
    timer = setTimeout(fire, ms);
    timer.unref();
  };

  const reading = (): ((state: BotState) => Promise<void>) | undefined => {
    if (stopped || running || readPendingKills(ctx.config.DATA_DIR).length > 0) return undefined;
    const before = changes();
    const startedAt = performance.now();
    return async (state) => {
      // A poll of its own went out meanwhile: that one reads and applies.
      if (stopped || running) return;
      lastReadAt = Math.max(lastReadAt, startedAt);
      // Its own poll moved to an interval after this read, without waking to find it not due.
      if (timer) {
        clearTimeout(timer);
        arm(Math.max(1, intervalMs - (performance.now() - lastReadAt)));
      }
      running = settle(apply(state, before, startedAt, false));
      await running;
    };
  };

  // At start: the persisted halt (or a saved kill) holds before anything trades.
  await check();
  const fire = () => {
    if (stopped) return;
    const since = performance.now() - lastReadAt;
    if (since < intervalMs) return arm(Math.max(1, intervalMs - since));
    void check();
    arm(intervalMs);
  };
  if (opts.timer !== false) arm(intervalMs);
  return {
    check,
    reading,
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running;
    },
  };
}
