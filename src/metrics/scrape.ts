// Owns one scrape's read of the database, shared by every database-derived gauge: the ledger stats
// (the same figures as `ctb stats --period all`) and the operational facts, read once per scrape. It answers null — and the gauges print no sample at all — when this process is not the
// metrics exporter (src/metrics/exporter.ts) or the database cannot be read, so Prometheus never
// sums one fact over several replicas, and an unreadable database is never shown as reassuring zeros.
import { Gauge, type Registry } from 'prom-client';
import type { Clock } from '../clock.js';
import type { Config } from '../config/env.js';
import type { Db } from '../db/client.js';
import type { Logger } from '../logger.js';
import { pingDatabase } from '../db/queries/ping.js';
import { operationalFacts, type OperationalFacts } from '../db/queries/stats-metrics.js';
import { computeStats, type StatsReport } from '../services/stats/compute-stats.js';
import { readEngineHolder } from '../services/engine-lease/holder-view.js';
import type { EngineHolderView } from '../domain/engine-holder.js';
import { windowFor } from '../domain/stats-periods.js';
import type { MetricsExporterRole } from './exporter.js';

export interface Scrape {
  stats: StatsReport;
  ops: OperationalFacts;
  /** The engine lease's holder (running, stale or none): with ops' bot_state, what the engine trades in. */
  engine: EngineHolderView;
  now: Date;
}

export interface ScrapeDeps {
  db: Db;
  /** The stats' starting balance, and what the ledger gauges print beside them (currency, risk limits). */
  config: Pick<Config, 'PAPER_STARTING_BALANCE' | 'EQUITY_SNAPSHOT_INTERVAL' | 'ENGINE_LEASE_TTL' | 'QUOTE_CURRENCY' | 'RISK_MAX_DRAWDOWN_PCT' | 'RISK_HARD_DRAWDOWN_PCT' | 'RISK_DAILY_LOSS_PCT'>;
  clock: Clock;
  logger: Logger;
}

export interface ScrapeSource {
  /** This scrape's facts, or null when this process does not export them (or cannot read them). */
  load(): Promise<Scrape | null>;
  /** Whether this scrape could read the database (every process reads at least `select 1`). */
  readonly databaseUp: Promise<boolean>;
  readonly exporting: Promise<boolean>;
}

/**
 * Every gauge of one scrape asks at once; a read is shared while in flight and until the event loop
 * next turns (the gauges that await it collect in microtasks). Never across two scrapes: a state
 * changed between two requests shows in the second, however close they come.
 */
export function scrapeSource(deps: ScrapeDeps, role: MetricsExporterRole): ScrapeSource {
  let cached: { exporting: Promise<boolean>; scrape: Promise<Scrape | null>; up: Promise<boolean> } | null = null;
  const current = () => {
    if (cached) return cached;
    const exporting = role.isExporter();
    let up: (v: boolean) => void = () => {};
    const upPromise = new Promise<boolean>((r) => (up = r));
    const scrape = (async () => {
      const now = deps.clock.now();
      try {
        if (!(await exporting)) {
          // Not the exporter: still tell this process's own view of the database (ctb_database_up).
          await pingDatabase(deps.db);
          up(true);
          return null;
        }
        const [stats, ops, engine] = await Promise.all([
          computeStats(deps, { window: windowFor('all', now), period: 'all', recentLimit: 0 }),
          operationalFacts(deps.db),
          readEngineHolder(deps),
        ]);
        up(true);
        return { stats, ops, engine, now };
      } catch (err) {
        deps.logger.warn({ err }, 'metrics scrape could not read the database');
        up(false);
        return null;
      }
    })();
    const entry = { exporting, scrape, up: upPromise };
    void scrape.finally(() => {
      setImmediate(() => {
        if (cached === entry) cached = null;
      });
    });
    cached = entry;
    return entry;
  };
  return {
    load: () => current().scrape,
    get databaseUp() {
      const c = current();
      return c.scrape.then(() => c.up);
    },
    get exporting() {
      return current().exporting;
    },
  };
}

/**
 * A gauge filled from the scrape's facts, printing no sample when there are none. (A plain
 * unlabelled prom-client gauge always prints a value, 0 by default: a false all-clear.)
 */
export class ScrapeGauge<L extends string = string> extends Gauge<L> {
  readonly #source: ScrapeSource;
  readonly #fill: (g: Gauge<L>, s: Scrape) => void;

  constructor(
    registry: Registry,
    source: ScrapeSource,
    cfg: { name: string; help: string; labelNames?: L[] },
    fill: (g: Gauge<L>, s: Scrape) => void,
  ) {
    super({ name: cfg.name, help: cfg.help, labelNames: cfg.labelNames ?? [], registers: [registry] });
    this.#source = source;
    this.#fill = fill;
  }

  override async get() {
    this.reset();
    const s = await this.#source.load();
    if (s) this.#fill(this, s);
    const metric = await super.get();
    return s ? metric : { ...metric, values: [] };
  }
}
