// An idle engine's housekeeping beats and reads bot_state every second: one statement a pass (the
// heartbeat's update returning the row), not an update and a select.
import { ALONE_BY_CONSTRUCTION } from '../../src/engine/ledger/intent-lease.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/client.js';
import { Engine } from '../../src/engine/engine.js';
import { PacedFeed } from '../../src/market/paced-feed.js';
import { createPgliteTestDb } from '../support/db.js';
import { candlesFrom, engineContext, maCross } from '../support/engine.js';

let pglite: Database;
beforeAll(async () => {
  pglite = await createPgliteTestDb();
});
afterAll(async () => pglite?.close());

/** The SQL text of each query PGlite is sent, through drizzle's client.query, until stop(). */
function recordQueries(database: Database): { texts: string[]; reached(n: number, match: RegExp): Promise<void>; stop(): void } {
  const client = (database.db as unknown as { session: { client: { query(text: string, ...rest: unknown[]): Promise<unknown> } } }).session.client;
  const own = Object.prototype.hasOwnProperty.call(client, 'query');
  const original = client.query;
  const texts: string[] = [];
  const waiting: { n: number; match: RegExp; resolve(): void }[] = [];
  client.query = function (text: string, ...rest: unknown[]) {
    texts.push(text);
    for (const w of [...waiting]) {
      if (texts.filter((t) => w.match.test(t)).length >= w.n) {
        waiting.splice(waiting.indexOf(w), 1);
        w.resolve();
      }
    }
    return original.call(this, text, ...rest);
  };
  return {
    texts,
    reached: (n, match) => new Promise<void>((resolve) => waiting.push({ n, match, resolve })),
    stop() {
      if (own) client.query = original;
      else delete (client as { query?: unknown }).query;
    },
  };
}

const BEAT = /^update "bot_state" set "engine_heartbeat_at"/;
const READ = /^select .* from "bot_state"/;

describe("an idle engine's housekeeping", () => {
  it('beats and reads bot_state in one statement a pass', async () => {
    const t = await engineContext(pglite);
    const closes = [100, 101, 102, 103];
    const feed = new PacedFeed('kraken', candlesFrom(closes), 0);
    const engine = new Engine({ lease: ALONE_BY_CONSTRUCTION, ctx: t.ctx, feed, strategies: [maCross()], marketClock: t.clock, housekeepingMs: 50 });
    const running = engine.start();
    const queries = recordQueries(pglite);
    try {
      // Past the played feed: the engine idles with its housekeeping alone.
      await queries.reached(3, BEAT);
      const from = queries.texts.length;
      await queries.reached(8, BEAT);
      const passes = queries.texts.slice(from);
      const beats = passes.filter((q) => BEAT.test(q));
      expect(beats.length).toBeGreaterThanOrEqual(5);
      // No select of bot_state beside the beats: each beat carries the row back.
      expect(passes.filter((q) => READ.test(q)), passes.join('\n')).toEqual([]);
      expect(beats.every((q) => / returning /.test(q)), beats[0]).toBe(true);
    } finally {
      queries.stop();
      await engine.stop();
      await running.catch(() => undefined);
      await t.ctx.close();
    }
  }, 60_000);
});

