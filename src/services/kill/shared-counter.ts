// Owns the database's record of Kraken's REST call counter for every process using one API key. The
// counter is one per key, filled by the bot's web and worker and an operator's `ctb` alike, while
// each process counts only its own calls: the one fact all of them can share is Kraken's own word
// that the counter is full — a call refused with `EAPI:Rate limit exceeded`. Each process records its
// refusals here (only then: an ordinary call costs no database round trip; refusals close together
// are written one after another, never in parallel), and a kill's rounds, a halt's cancel and a
// follow-up's tries read the latest one before they decide their pace (kraken-room.ts). Its time
// is the database's (db/queries/kraken-rate-counter.ts): each process's clock may be skewed, and a
// refusal must age the same for every reader; this process measures only the interval from the
// refusal to its write, on its monotonic clock.
import type { Db } from '../../db/client.js';
import { lastRateLimitRefusal, recordRateLimitRefusal } from '../../db/queries/kraken-rate-counter.js';
import type { Logger } from '../../logger.js';
import { withDeadline } from './deadline.js';

export interface SharedRefusal {
  /** How long ago Kraken refused it (on the database's clock; never negative). */
  ageMs: number;
  call: string;
  /** Which process Kraken refused (host:pid:role). */
  process: string;
}

export interface SharedKrakenCounter {
  /** Kraken refused this process `call` for the key's rate limit (`err`: the same refusal noted twice is written once). Never throws, never waits. */
  refused(call: string, err?: unknown): void;
  /** The latest refusal any process using the key recorded (null: none); a failed or late read is logged and thrown. */
  lastRefusal(timeoutMs: number): Promise<SharedRefusal | null>;
  /** Resolves once this process's refusals noted so far are written (or their write failed). */
  settled(): Promise<void>;
}

/** A counter shared with nobody: nothing recorded, nothing known (no key, or no database). */
export const noSharedCounter: SharedKrakenCounter = { refused: () => undefined, lastRefusal: async () => null, settled: async () => undefined };

/** `keyId`: the API key's id (exchange/kraken/key-id.ts); `process`: this process (host:pid:role). */
export function sharedKrakenCounter(deps: { db: Db; logger: Logger }, who: { keyId: string; process: string }): SharedKrakenCounter {
  const { keyId } = who;
  const noted = new WeakSet<object>();
  /** `at`: performance.now() when Kraken's refusal arrived. */
  type Refusal = { at: number; call: string };
  let latest: Refusal | null = null;
  let written: Refusal | null = null;
  let writing: Promise<void> | null = null;
  const flush = async () => {
    try {
      while (latest && latest !== written) {
        const next = latest;
        await recordRateLimitRefusal(deps.db, { keyId, process: who.process, agoMs: performance.now() - next.at, call: next.call });
        written = next;
      }
    } catch (err) {
      deps.logger.warn({ err }, "could not record Kraken's rate-limit refusal for the other processes using the key");
    } finally {
      writing = null;
    }
  };
  return {
    refused(call, err) {
      if (typeof err === 'object' && err !== null) {
        if (noted.has(err)) return;
        noted.add(err);
      }
      latest = { at: performance.now(), call };
      writing ??= flush();
    },
    settled: async () => {
      await writing;
    },
    async lastRefusal(timeoutMs) {
      const row = await withDeadline(lastRateLimitRefusal(deps.db, keyId), timeoutMs, 'the database').catch((err: unknown) => {
        deps.logger.warn({ err }, "could not read Kraken's rate-limit refusals recorded by the processes using the key: pacing from this process's own calls");
        throw err;
      });
      if (!row) return null;
      return { ageMs: row.ageMs, call: row.call, process: row.process };
    },
  };
}
