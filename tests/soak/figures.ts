// Owns the soak's figures, printed at the end of every run so a long run outside CI can be reported
// from its output: length, orders and trades at Kraken, fills booked, live intents by outcome,
// faults injected and hit, restarts, the alerts the run raised (critical ones named), the load.
import { loadavg } from 'node:os';
import { and, eq, gte, sql } from 'drizzle-orm';
import type { Db } from '../../src/db/client.js';
import { alertEvents, alertGroups, orderIntents } from '../../src/db/schema/index.js';
import type { ChaosReport } from './chaos.js';

export interface FigureInput {
  db: Db;
  seed: number;
  liveSince: Date;
  chaos: ChaosReport;
  ordersAtKraken: number;
  tradesAtKraken: number;
  fillsBooked: number;
  faultHits: number;
  limitSamples: number;
}

export const load = () => loadavg().map((l) => l.toFixed(1)).join(' ');

export async function figures(f: FigureInput): Promise<string[]> {
  const intents = await f.db.select({ status: orderIntents.status, n: sql<number>`count(*)::int` }).from(orderIntents)
    .where(eq(orderIntents.mode, 'live')).groupBy(orderIntents.status);
  const alerts = await f.db.select({ severity: alertEvents.severity, title: alertGroups.title, n: sql<number>`count(*)::int` })
    .from(alertEvents).innerJoin(alertGroups, eq(alertGroups.id, alertEvents.groupId))
    .where(and(gte(alertEvents.at, f.liveSince), eq(alertGroups.test, false)))
    .groupBy(alertEvents.severity, alertGroups.title);
  const bySeverity = (s: string) => alerts.filter((a) => a.severity === s).reduce((n, a) => n + a.n, 0);
  const critical = alerts.filter((a) => a.severity === 'critical').map((a) => `${a.title.slice(0, 90)} ×${a.n}`);
  const { chaos } = f;
  return [
    `figures: ${chaos.seconds} s live (seed ${f.seed}) · orders at Kraken ${f.ordersAtKraken} · Kraken trades ${f.tradesAtKraken} · live fills booked ${f.fillsBooked}`,
    `live intents: ${intents.map((i) => `${i.status} ${i.n}`).join(', ') || 'none'} · faults injected ${chaos.faultsInjected}, hit ${f.faultHits}${chaos.withdrawn ? ` (unhit AddOrder fault withdrawn ${chaos.withdrawn}×)` : ''} · cancel_only windows ${chaos.cancelOnlyWindows}`,
    `restarts: ${chaos.restarts.map((r) => `t+${r.at}s ${r.how} (down ${Math.round(r.downMs / 1000)} s, process up after ${Math.round(r.upMs / 1000)} s)`).join('; ') || 'none'} · limit samples ${f.limitSamples} · load ${load()}`,
    `alerts while live: critical ${bySeverity('critical')}, warning ${bySeverity('warning')}, info ${bySeverity('info')}${critical.length ? ` — critical: ${critical.join(' | ')}` : ''}`,
  ];
}
