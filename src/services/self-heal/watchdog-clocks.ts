// Owns where the self-heal watchdog keeps its clocks of exchange work between lives of the engine: the
// database (watchdog_clocks), not only this process's memory. A worker that crash-loops starts each
// life with empty maps: work owed for an hour would be "owed for 2 min" in every life and never page,
// and a lasting failure would be raised again at once after every restart.
// - Which clocks: since when each piece of EXCHANGE_WORK has been owed (deferredSince), and when each
//   alert of it was last raised (raised). The other checks (database, engine heartbeat, a saved kill)
//   are run by every process, each with its own view, and stay in memory.
// - Who: only the process that does the exchange work (holds the engine lease). Its first pass as the
//   holder (at start, or after standing by) reads them, and they replace what it kept in memory: the
//   previous holder may have done the work meanwhile. A write is made for this holder only (the query
//   checks the lease row), so a process that lost the lease mid-pass does not put back what the new
//   holder cleared.
// - When: after a pass whose clocks differ from what was last written (not on every pass), and while
//   any is owed, again every CONFIRM_EVERY_MS to say they are still kept. Work done deletes its rows.
// - Another process's clocks (a restarted worker's previous life, another host that held the lease)
//   are continued: the work is still owed. A period begun elsewhere is named in its page (carriedOver).
// - Stale: clocks nobody confirmed for over TRANSIENT_PAGE_AFTER_MS are forgotten, as a process that
//   stood by that long forgets its own (watchdog.ts): no holder kept the exchange work meanwhile (the
//   worker was down), and the engine's start resolves and reconciles again — a worker down for a day
//   must not page "owed for 1440 min" about orders seconds old. A crash-looping worker confirms at
//   least every CONFIRM_EVERY_MS, so its clocks go on unless it stays down for some 10 minutes.
// - The database not answering: the watchdog goes on with the clocks in memory (as before), says so in
//   the log once, and writes them when it answers again.
// Times are on the writing process's clock, as the watchdog keeps them: a host whose clock is minutes
// off another's continues its clocks that many minutes off. When they were last confirmed is the
// database's now(), and their age is judged on it: a host whose clock is over 15 minutes off the
// writer's must not forget clocks the previous life kept a moment ago.
import { hostname } from 'node:os';
import type { Clock } from '../../clock.js';
import type { Config } from '../../config/env.js';
import type { Db } from '../../db/client.js';
import { readWatchdogClocks, replaceWatchdogClocks, type WatchdogClockRead } from '../../db/queries/watchdog-clocks.js';
import type { Logger } from '../../logger.js';
import { describeError, withDeadline } from '../kill/deadline.js';
import { EXCHANGE_WORK, TRANSIENT_PAGE_AFTER_MS, type ClockOrigin, type DeferredWork, type RaisedAlert } from './self-heal.js';

/** How often a holder with clocks running says again that it keeps them (a third of the bound they page after). */
export const CONFIRM_EVERY_MS = TRANSIENT_PAGE_AFTER_MS / 3;

export interface WatchdogClocksDeps {
  db: Db;
  clock: Clock;
  logger: Logger;
  config: Pick<Config, 'KILL_DB_TIMEOUT'>;
}

export interface PersistedClocks {
  /**
   * The clocks in the database replace this process's own (a first pass as the lease's holder); false
   * when they could not be read (this process goes on with its own, and reads them again next pass).
   * `merge`: this holder went on with its own meanwhile (an earlier read failed): both are kept — the
   * earlier start of a period, the later raise of an alert (work done meanwhile is only checked again).
   */
  load(deferredSince: Map<DeferredWork, number>, raised: Map<RaisedAlert, number>, opts?: { merge?: boolean }): Promise<boolean>;
  /**
   * Written when they changed since the last write (or are due to be confirmed); not written once
   * another process holds the lease. False only when the write failed: the database does not hold
   * what this process keeps, so the next read (after standing by) merges them, as after a failed read.
   */
  save(deferredSince: Map<DeferredWork, number>, raised: Map<RaisedAlert, number>, holderId: string | undefined): Promise<boolean>;
  /** The owed periods this process continues from another one (as started there: still the same period). */
  carriedOver(deferredSince: Map<DeferredWork, number>): Map<DeferredWork, ClockOrigin>;
}

const isExchangeRaise = (key: string) => EXCHANGE_WORK.some((work) => key.startsWith(`${work}:`));

export function persistedClocks(ctx: WatchdogClocksDeps, me: string = `${hostname()}:${process.pid}`): PersistedClocks {
  const timeout = ctx.config.KILL_DB_TIMEOUT;
  // Who began each clock as last read or written (key: the row's `clock`).
  const origins = new Map<string, ClockOrigin>();
  // What the database holds as far as this process knows (null: not known, the next save writes).
  let written: string | null = null;
  let confirmedAt = -Infinity;
  let failing = false;

  const rowsOf = (deferredSince: Map<DeferredWork, number>, raised: Map<RaisedAlert, number>) => {
    const rows: Array<{ clock: string; at: number; begunBy: string }> = [];
    for (const work of EXCHANGE_WORK) {
      const at = deferredSince.get(work);
      if (at !== undefined) rows.push({ clock: `deferred:${work}`, at, begunBy: '' });
    }
    for (const [key, at] of raised) if (isExchangeRaise(key)) rows.push({ clock: `raised:${key}`, at, begunBy: '' });
    for (const row of rows) {
      const origin = origins.get(row.clock);
      row.begunBy = origin && origin.at === row.at ? origin.by : me;
    }
    return rows.sort((a, b) => a.clock.localeCompare(b.clock));
  };
  const contentOf = (rows: ReadonlyArray<{ clock: string; at: number; begunBy: string }>) => JSON.stringify(rows.map((r) => [r.clock, r.at, r.begunBy]));
  const failed = (what: string, err: unknown) => {
    if (!failing) ctx.logger.warn({ error: describeError(err) }, `self-heal watchdog: could not ${what} its clocks of exchange work in the database; keeping them in this process's memory only until it answers (a restart would start them again)`);
    failing = true;
  };

  return {
    async load(deferredSince, raised, { merge = false } = {}) {
      let rows: WatchdogClockRead[];
      try {
        rows = await withDeadline(readWatchdogClocks(ctx.db), timeout, 'the database');
      } catch (err) {
        written = null;
        failed('read', err);
        return false;
      }
      if (failing) ctx.logger.info('self-heal watchdog: its clocks of exchange work are read from the database again');
      failing = false;
      if (!merge) {
        for (const work of EXCHANGE_WORK) deferredSince.delete(work);
        for (const key of [...raised.keys()]) if (isExchangeRaise(key)) raised.delete(key);
      }
      origins.clear();
      const now = ctx.clock.now().getTime();
      // How long ago they were last confirmed, on the database's clock (confirmed_at is written on it).
      const ago = Math.max(0, Math.min(...rows.map((r) => r.confirmedAgoMs)));
      if (rows.length > 0 && ago > TRANSIENT_PAGE_AFTER_MS) {
        ctx.logger.info({ clocks: rows.map((r) => r.clock), writtenBy: rows[0]!.writtenBy, minutes: Math.round(ago / 60_000) },
          `self-heal watchdog: forgetting the clocks of exchange work ${rows[0]!.writtenBy} left ${Math.round(ago / 60_000)} min ago: no engine kept them since (over ${TRANSIENT_PAGE_AFTER_MS / 60_000} min); the engine's start resolves and reconciles again`);
        written = null;
        return true;
      }
      const loaded: Array<{ clock: string; at: number; begunBy: string }> = [];
      for (const row of rows) {
        const at = row.at.getTime();
        const [kind, ...rest] = row.clock.split(':');
        const key = rest.join(':');
        if (kind === 'deferred' && (EXCHANGE_WORK as readonly string[]).includes(key)) {
          const own = deferredSince.get(key as DeferredWork);
          if (own !== undefined && own < at) continue;
          deferredSince.set(key as DeferredWork, at);
        } else if (kind === 'raised' && isExchangeRaise(key)) {
          const own = raised.get(key as RaisedAlert);
          if (own !== undefined && own > at) continue;
          raised.set(key as RaisedAlert, at);
        } else continue;
        origins.set(row.clock, { at, by: row.begunBy });
        loaded.push({ clock: row.clock, at, begunBy: row.begunBy });
      }
      written = merge ? null : contentOf(loaded.sort((a, b) => a.clock.localeCompare(b.clock)));
      // When they were confirmed, on this process's clock (what the next confirmation is timed by).
      confirmedAt = rows.length > 0 ? now - ago : -Infinity;
      const others = rows.filter((r) => r.writtenBy !== me);
      if (others.length > 0) {
        ctx.logger.info({ clocks: others.map((r) => r.clock), writtenBy: others[0]!.writtenBy },
          `self-heal watchdog: continuing the clocks of exchange work ${others[0]!.writtenBy} left (the work is still owed)`);
      }
      return true;
    },

    async save(deferredSince, raised, holderId) {
      const rows = rowsOf(deferredSince, raised);
      const content = contentOf(rows);
      const now = ctx.clock.now().getTime();
      if (content === written && (rows.length === 0 || now - confirmedAt < CONFIRM_EVERY_MS)) return true;
      let mine: boolean;
      try {
        mine = await withDeadline(replaceWatchdogClocks(ctx.db, {
          rows: rows.map((r) => ({ clock: r.clock, at: new Date(r.at), begunBy: r.begunBy })), writtenBy: me, holderId,
        }), timeout, 'the database');
      } catch (err) {
        failed('write', err);
        return false;
      }
      if (failing) ctx.logger.info('self-heal watchdog: its clocks of exchange work are kept in the database again');
      failing = false;
      if (!mine) {
        // Another process took the lease during the pass: its clocks are the ones kept.
        written = null;
        ctx.logger.info('self-heal watchdog: not writing its clocks of exchange work: another process holds the engine lease now');
        return true;
      }
      origins.clear();
      for (const r of rows) origins.set(r.clock, { at: r.at, by: r.begunBy });
      written = content;
      confirmedAt = now;
      return true;
    },

    carriedOver(deferredSince) {
      const carried = new Map<DeferredWork, ClockOrigin>();
      for (const work of EXCHANGE_WORK) {
        const origin = origins.get(`deferred:${work}`);
        if (origin && origin.by !== me && origin.at === deferredSince.get(work)) carried.set(work, origin);
      }
      return carried;
    },
  };
}
