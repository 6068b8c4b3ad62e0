// Two web replicas and one worker on one PostgreSQL, each serving /metrics as Prometheus scrapes
// them: the database facts come from exactly one of them, so the dashboard's `sum by (book)` counts
// each trade once; when that replica stops, another takes the role at its next scrape.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OwnedContext } from '../../../src/app/build-context.js';
import type { RunningFeature, StartOptions } from '../../../src/app/feature.js';
import { sql } from 'drizzle-orm';
import { ManualClock } from '../../../src/clock.js';
import { ADVISORY_LOCKS } from '../../../src/db/advisory-lock.js';
import { execute } from '../../../src/db/client.js';
import { createHttpServer, type HttpServer } from '../../../src/http/server.js';
import { healthFeature } from '../../../src/http/health.js';
import { silentLogger } from '../../../src/logger.js';
import { metricsFeature } from '../../../src/app/features/metrics.js';
import { testContext } from '../../support/app-context.js';
import { createPostgresTestDb, type TestDatabase } from '../../support/db.js';
import { FIXTURE_NOW, seedHandComputedLedger } from '../../support/factories/stats-ledger-fixture.js';
import { samples } from '../../support/prom-text.js';

interface Replica {
  role: StartOptions['role'];
  ctx: OwnedContext;
  http: HttpServer;
  metrics: RunningFeature;
  url: string;
  stopped: boolean;
}

/** What `sum by (label) (name{match})` gives over every replica's scrape. */
function sumBy(scrapes: string[], name: string, by: string, match: Record<string, string>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const text of scrapes) {
    for (const s of samples(text, name)) {
      if (!Object.entries(match).every(([k, v]) => s.labels[k] === v)) continue;
      const key = s.labels[by]!;
      out[key] = (out[key] ?? 0) + s.value;
    }
  }
  return out;
}

describe('/metrics with 2 web replicas and 1 worker on one database', () => {
  let database: TestDatabase;
  const replicas: Replica[] = [];
  const scrapeAll = async () => {
    const live = replicas.filter((r) => !r.stopped);
    return Promise.all(live.map(async (r) => (await fetch(`${r.url}/metrics`)).text()));
  };

  beforeAll(async () => {
    database = await createPostgresTestDb();
    await seedHandComputedLedger(database.db);
    for (const role of ['web', 'web', 'worker'] as const) {
      const ctx = await testContext({ database, clock: new ManualClock(FIXTURE_NOW) });
      const http = createHttpServer(silentLogger());
      await healthFeature.start(ctx, http, { role, feed: 'kraken' });
      const metrics = (await metricsFeature.start(ctx, http, { role, feed: 'kraken' })) as RunningFeature;
      replicas.push({ role, ctx, http, metrics, url: `http://127.0.0.1:${await http.listen(0, '127.0.0.1')}`, stopped: false });
    }
  });
  afterAll(async () => {
    for (const r of replicas) {
      if (!r.stopped) await r.metrics.stop();
      await r.http.close();
      await r.ctx.close();
    }
    await database?.close();
  });

  it('counts every closed trade once in sum by (book), with exactly one replica exporting', async () => {
    const scrapes = await scrapeAll();
    expect(sumBy(scrapes, 'ctb_trades', 'book', { status: 'closed' })).toEqual({ paper: 4, live: 1, replay: 2 });
    expect(sumBy(scrapes, 'ctb_trade_outcomes', 'book', { outcome: 'win' })).toEqual({ paper: 2, live: 1, replay: 1 });
    const exporters = scrapes.map((t) => samples(t, 'ctb_metrics_exporter')[0]?.value);
    expect(exporters.sort()).toEqual([0, 0, 1]);
    // Every replica still tells its own view of the database.
    expect(scrapes.map((t) => samples(t, 'ctb_database_up')[0]?.value)).toEqual([1, 1, 1]);
    // The others print no database fact at all: not a zero that a sum or a min would take in.
    for (const text of scrapes.filter((t) => samples(t, 'ctb_metrics_exporter')[0]?.value === 0)) {
      expect(samples(text, 'ctb_bot_halted')).toEqual([]);
      expect(samples(text, 'ctb_engine_heartbeat_age_seconds')).toEqual([]);
    }
  });

  it('hands the role to another replica when the exporter stops, and the sums stay right', async () => {
    const scrapes = await scrapeAll();
    const index = scrapes.findIndex((t) => samples(t, 'ctb_metrics_exporter')[0]?.value === 1);
    const exporter = replicas[index]!;
    await exporter.metrics.stop();
    exporter.stopped = true;
    await new Promise((r) => setTimeout(r, 1100)); // past the 1 s scrape reuse
    const after = await scrapeAll();
    expect(after).toHaveLength(2);
    expect(after.map((t) => samples(t, 'ctb_metrics_exporter')[0]?.value).sort()).toEqual([0, 1]);
    expect(sumBy(after, 'ctb_trades', 'book', { status: 'closed' })).toEqual({ paper: 4, live: 1, replay: 2 });
  });

  it("notices when the exporter's lock session dies (database restart, killed connection) and one replica takes over", async () => {
    await execute(database.db, sql`select pg_terminate_backend(pid) from pg_locks where locktype = 'advisory' and objid = ${ADVISORY_LOCKS.metricsExporter}
      and database = (select oid from pg_database where datname = current_database())`);
    await new Promise((r) => setTimeout(r, 1100));
    const first = await scrapeAll(); // the old holder finds its session gone and lets go
    await new Promise((r) => setTimeout(r, 1100));
    const after = first.some((t) => samples(t, 'ctb_metrics_exporter')[0]?.value === 1) ? first : await scrapeAll();
    expect(after.map((t) => samples(t, 'ctb_metrics_exporter')[0]?.value).sort()).toEqual([0, 1]);
    expect(sumBy(after, 'ctb_trades', 'book', { status: 'closed' })).toEqual({ paper: 4, live: 1, replay: 2 });
  });
});
