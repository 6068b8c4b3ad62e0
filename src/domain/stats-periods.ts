// Owns the stats periods operators ask for (24h, 7d, 30d, all) and the windows they stand for.
import type { StatsWindow } from '../db/queries/stats-ledger.js';
import { didYouMean } from '../suggest-similar.js';

export const STATS_PERIODS = ['24h', '7d', '30d', 'all'] as const;
export type StatsPeriod = (typeof STATS_PERIODS)[number];

const PERIOD_MS: Record<Exclude<StatsPeriod, 'all'>, number> = {
  '24h': 24 * 3_600_000,
  '7d': 7 * 24 * 3_600_000,
  '30d': 30 * 24 * 3_600_000,
};

export function isStatsPeriod(text: string): text is StatsPeriod {
  return (STATS_PERIODS as readonly string[]).includes(text);
}

/** A period as a person types it (`7D`, ` 24h `), or undefined when it is none of STATS_PERIODS. */
export function readStatsPeriod(text: string): StatsPeriod | undefined {
  const word = text.trim().toLowerCase();
  return isStatsPeriod(word) ? word : undefined;
}

/** What was expected instead of `text`, with the closest period when one is close. */
export function statsPeriodProblem(text: string): string {
  return `expected one of ${STATS_PERIODS.join(', ')}, got "${text.trim()}"${didYouMean(text.trim().toLowerCase(), STATS_PERIODS)}`;
}

/** The window of a period ending at `now`: the last 24 hours, 7 or 30 days, or everything. */
export function windowFor(period: StatsPeriod, now: Date): StatsWindow {
  if (period === 'all') return { from: null, to: now };
  return { from: new Date(now.getTime() - PERIOD_MS[period]), to: now };
}
