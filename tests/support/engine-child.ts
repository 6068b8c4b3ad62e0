// A child engine process for the crash test: runs the engine on a PostgreSQL test database over a
// fixed replay of candles, and can stop dead at one step of an order (after the intent is written,
// or after the exchange filled it but before the ledger recorded it) so the parent can SIGKILL it.
// Built before the run (tests/support/build-children.ts); a test starts it with
// node childScript('engine-child') <database-url> <none|afterIntent|afterSend> <marker-file>
import { ALONE_BY_CONSTRUCTION } from '../../src/engine/ledger/intent-lease.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { buildAppContext } from '../../src/app/build-context.js';
import { ManualClock } from '../../src/clock.js';
import { testConfig } from '../../src/config/env.js';
import { connectPostgres } from '../../src/db/client.js';
import { Engine } from '../../src/engine/engine.js';
import { silentLogger } from '../../src/logger.js';
import { PacedFeed } from '../../src/market/paced-feed.js';
import { candlesFrom, maCross, roundTripCloses } from './engine.js';

const [url, pauseAt, marker] = process.argv.slice(2) as [string, 'none' | 'afterIntent' | 'afterSend', string];
const database = connectPostgres(url, { max: 3 });
const clock = new ManualClock('2026-01-05T00:00:00Z');
const ctx = await buildAppContext({ config: testConfig({ LOG_DIR: join(tmpdir(), 'ctb-test-logs') }), database, clock, logger: silentLogger(), alerts: () => ({ raise: async () => {} }) });
const freeze = (step: string, clientOrderId: string) => {
  writeFileSync(marker, JSON.stringify({ step, clientOrderId }));
  return new Promise<void>(() => {}); // wait here until killed
};
const engine = new Engine({ lease: ALONE_BY_CONSTRUCTION,
  ctx, feed: new PacedFeed('replay', candlesFrom(roundTripCloses()), 0), strategies: [maCross()], marketClock: clock, stopWhenFeedEnds: true,
  hooks: {
    ...(pauseAt === 'afterIntent' ? { afterIntent: (intent) => freeze('afterIntent', intent.clientOrderId) } : {}),
    ...(pauseAt === 'afterSend' ? { afterSend: (intent) => freeze('afterSend', intent.clientOrderId) } : {}),
  },
});
await engine.start();
writeFileSync(marker, JSON.stringify({ step: 'done', counts: engine.counts }));
await ctx.close();
await database.close();
