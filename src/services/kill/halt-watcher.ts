// Owns how a running bot learns of a halt it did not cause: a kill from another terminal
// (`ctb kill`), another replica, or a halt persisted before a restart. At start it writes any kill
// saved while the database was away and latches the halt bot_state records; then it polls
// bot_state every HALT_POLL_INTERVAL (500 ms by default), so a kill elsewhere stops this process's
// engine and trading jobs within a second. A resume elsewhere (halted seen, then not halted) lifts
// the latch; nothing here ever lifts a halt this process did not see written first. A read is
// older than a latch or release this process made while it was out (a resume here commits, then
// releases; a kill here latches before it writes): such a read is dropped, never applied over it —
// it re-latched a halt just lifted (the bot answered "Halt lifted", then refused orders and
// cancelled Kraken's again), or released a kill not yet written.
import type { Config } from '../../config/env.js';
import { getBotState } from '../bot-state.js';
import { knownServerIdentity, learnServerIdentity } from './database-identity.js';
import { describeError, withDeadline } from './deadline.js';
import { readPendingKills } from './pending-kill.js';
import { replayPendingKills, type ReplayDeps } from './replay-pending.js';
import { isHaltLatched, latchHalt, releaseHalt } from './runtime.js';

export interface HaltWatcher {
  /** One poll (the timer calls it; tests call it directly). */
  check(): Promise<void>;
  stop(): Promise<void>;
}

export interface HaltWatcherOptions {
  intervalMs?: number;
  /** Start the poll timer (default true); tests drive check() themselves. */
  timer?: boolean;
  /** Run on each poll that finds the bot halted (posting a terminal kill's incident thread). */
  whileHalted?: () => Promise<unknown>;
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

  const poll = async (): Promise<void> => {
    if (readPendingKills(ctx.config.DATA_DIR).length > 0) {
      // Latches at once, then writes each saved kill if the database answers.
      const replay = await replayPendingKills(ctx);
      if (replay.error) ctx.logger.warn({ error: replay.error, remaining: replay.remaining }, 'a saved kill is still waiting for the database');
    }
    const before = changes();
    const state = await withDeadline(getBotState(ctx.db), ctx.config.KILL_DB_TIMEOUT, 'the database (bot_state poll)');
    // The database answers: learn which server it is, once, so a kill saved while it does not answer
    // names the server it was aimed at (database-identity.ts). Not waited for.
    if (!knownServerIdentity(ctx)) void learnServerIdentity(ctx);
    if (changes() !== before) {
      // Overtaken by this process while out: the next poll reads what it wrote.
      sawHaltedAt = null;
      return;
    }
    if (state.halted) {
      if (!isHaltLatched(ctx)) {
        ctx.logger.warn({ reason: state.haltedReason, by: state.haltedBy }, 'bot_state says halted: this process stops trading');
        latchHalt(ctx, state.haltedReason ?? 'halted');
      }
      sawHaltedAt = changes();
      await opts.whileHalted?.();
    } else if (sawHaltedAt === changes() && isHaltLatched(ctx) && readPendingKills(ctx.config.DATA_DIR).length === 0) {
      ctx.logger.warn('bot_state says the halt was lifted: this process resumes its trading jobs');
      releaseHalt(ctx);
      sawHaltedAt = null;
    } else {
      sawHaltedAt = null;
    }
  };

  const check = (): Promise<void> => {
    // One poll at a time: a stalled database must not pile polls up.
    running ??= poll()
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
    return running;
  };

  // At start: the persisted halt (or a saved kill) holds before anything trades.
  await check();
  const timer = opts.timer === false ? undefined : setInterval(() => void check(), intervalMs);
  timer?.unref();
  return {
    check,
    async stop() {
      if (timer) clearInterval(timer);
      await running;
    },
  };
}
