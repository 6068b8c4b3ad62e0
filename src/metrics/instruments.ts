// Owns the counters and histograms other areas increment (exchange errors, alerts, escalations,
// Slack ack latency, orders sent). One set per registry, so each context (and each test) has
// its own. Use: `ctbMetrics(ctx.metrics).exchangeErrors.inc({ kind: 'retryable' })`.
// Names and labels are documented in docs/metrics.md; Grafana's dashboard reads them.
import type { Counter as CounterType, Histogram as HistogramType, Registry } from 'prom-client';
import { Counter, Histogram } from './prom-client-parts.js';

export interface CtbMetrics {
  /** ctb_exchange_errors_total{kind}: exchange errors by the project's kind (retryable, rejected, auth, halt). */
  exchangeErrors: CounterType<'kind'>;
  /** ctb_orders_sent_total{mode,side}: orders handed to the exchange. */
  ordersSent: CounterType<'mode' | 'side'>;
  /** ctb_alerts_raised_total{severity}: alerts raised (stored in the outbox). */
  alertsRaised: CounterType<'severity'>;
  /** ctb_alert_escalations_total{step}: escalation steps fired (oncall, next, approvers). */
  escalations: CounterType<'step'>;
  /** ctb_slack_ack_duration_seconds{surface}: time from a Slack request's arrival to its ack. */
  slackAckSeconds: HistogramType<'surface'>;
  /** ctb_slack_requests_shed_total{surface}: Slack requests turned away as busy (the acked work queue full). */
  slackShed: CounterType<'surface'>;
  /** ctb_slack_requests_stale_total{surface}: acked Slack requests whose work was dropped as too old when its turn came. */
  slackStale: CounterType<'surface'>;
  /** ctb_scheduled_reports_total{kind,outcome}: daily/weekly summaries posted or failed. */
  scheduledReports: CounterType<'kind' | 'outcome'>;
}

const byRegistry = new WeakMap<Registry, CtbMetrics>();

export function ctbMetrics(registry: Registry): CtbMetrics {
  const existing = byRegistry.get(registry);
  if (existing) return existing;
  const registers = [registry];
  const metrics: CtbMetrics = {
    exchangeErrors: new Counter({ name: 'ctb_exchange_errors_total', help: 'Exchange errors by kind (retryable, rejected, auth, halt).', labelNames: ['kind'], registers }),
    ordersSent: new Counter({ name: 'ctb_orders_sent_total', help: 'Orders sent to the exchange.', labelNames: ['mode', 'side'], registers }),
    alertsRaised: new Counter({ name: 'ctb_alerts_raised_total', help: 'Alerts raised, by severity.', labelNames: ['severity'], registers }),
    escalations: new Counter({ name: 'ctb_alert_escalations_total', help: 'Escalation steps fired, by step.', labelNames: ['step'], registers }),
    slackAckSeconds: new Histogram({
      name: 'ctb_slack_ack_duration_seconds',
      help: "Time from a Slack request's arrival to its ack (Slack gives up after 3 s).",
      labelNames: ['surface'],
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 3, 5],
      registers,
    }),
    slackShed: new Counter({
      name: 'ctb_slack_requests_shed_total',
      help: 'Slack requests turned away as busy at their ack: the queue of work behind acks was full for their kind (/kill, /mode paper, /exit, /pause never are).',
      labelNames: ['surface'], registers,
    }),
    slackStale: new Counter({
      name: 'ctb_slack_requests_stale_total',
      help: 'Acked Slack requests whose work was dropped as too old to act on when its turn came (/kill, /mode paper, /exit, /pause never are).',
      labelNames: ['surface'], registers,
    }),
    scheduledReports: new Counter({ name: 'ctb_scheduled_reports_total', help: 'Scheduled summaries, by kind and outcome (posted, failed).', labelNames: ['kind', 'outcome'], registers }),
  };
  byRegistry.set(registry, metrics);
  return metrics;
}
