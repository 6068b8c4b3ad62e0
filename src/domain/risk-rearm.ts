// Owns what a forced unpause re-arms in the risk guard, and saying it. A plain pause and unpause
// re-arm nothing: the guard keeps its equity peak and the day's opening equity.

/** The equity peak and the day's opening equity, or the day's opening equity only. */
export type RearmScope = 'drawdown_and_daily' | 'daily';

/** The reset a forced unpause past this breach makes: only what keeps the guard from pausing again at once. */
export function rearmScopeFor(breachKind: string): RearmScope {
  return breachKind === 'daily_loss' ? 'daily' : 'drawdown_and_daily';
}

/** The reset in words, for the CLI, Slack, the alert and the refusal's hint. */
export function rearmText(scope: RearmScope): string {
  return scope === 'daily'
    ? "the risk guard counts today's loss from the equity at this resume (the equity peak stands)"
    : "the risk guard measures drawdown and today's loss from the equity at this resume (the earlier equity peak is set aside)";
}
