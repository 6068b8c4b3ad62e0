// Owns the default AlertSink: sanitise, then store in the outbox (store.ts) and return. Delivery is
// the worker's job, so raising never waits on Slack or SMTP. If the database itself refuses the
// write, the alert is kept in a bounded in-memory buffer that the delivery tick retries, and logged
// (flagged alertPipeline so the log-line alert source does not turn it into another alert). Only the
// running bot has that tick: a command that runs once and exits says the alert is lost with it.
import type { Registry } from 'prom-client';
import { ctbMetrics } from '../metrics/instruments.js';
import type { Clock } from '../clock.js';
import type { Config } from '../config/env.js';
import type { Db } from '../db/client.js';
import type { Logger } from '../logger.js';
import { cleanText } from '../db/clean-text.js';
import { alertScrubber, sanitizeDetails, sanitizeText, type TextScrubber } from './sanitize.js';
import { AlertWriter, persistAlerts, type PersistResult, type StoredAlert } from './store.js';
import { OverdueHooks } from './overdue.js';
import { resolveAlert } from './actions.js';
import { AppError } from '../errors.js';
import { liveAlertGroupId } from '../db/queries/alert-groups.js';
import type { AlertInput, AlertSink, Severity } from './types.js';

const SEVERITIES: Severity[] = ['info', 'warning', 'critical'];
const BUFFER_LIMIT = 10_000;

export interface OutboxAlertSink extends AlertSink {
  /** Persists and returns where the alert went (tests and `ctb alerts test` use it). */
  record(alert: AlertInput): Promise<PersistResult>;
  /** Retries alerts the database refused earlier. Returns how many are still buffered. */
  flushBuffered(): Promise<number>;
  readonly buffered: number;
  /** Whether this process's delivery tick retries what the database refused (OutboxSinkDeps.deliveryTick). */
  readonly deliveryTick: boolean;
  /** The escalation tick emits overdue criticals here; onOverdueCritical subscribes. */
  readonly overdueHooks: OverdueHooks;
  onOverdueCritical: NonNullable<AlertSink['onOverdueCritical']>;
}

export interface OutboxSinkDeps {
  db: Db;
  clock: Clock;
  logger: Logger;
  config: Config;
  /** ctb_alerts_raised_total{severity} is counted here (once per stored alert) when given. */
  metrics?: Registry | undefined;
  /** How long each try of a recovery's resolve waits for a send under way (tests; default actions.ts's). */
  resolveSendWaitMs?: number;
  /**
   * This process runs the alerts feature's delivery tick, which retries what the database refused
   * (the running bot). Without it (a command that runs once and exits) nothing retries here.
   */
  deliveryTick?: boolean;
}

/** What becomes of an alert the database refused, said in the log line (stores nothing itself). */
export function unstoredAlertText(deliveryTick: boolean): string {
  return deliveryTick
    ? 'could not store an alert; kept in memory and retried by the delivery tick'
    : 'could not store an alert, and it is not sent from here: this process runs one command and exits, with no delivery tick to retry it, so the alert is lost';
}

/**
 * Tries of a recovery's resolve while a message of its group is being handed to Slack. An action
 * does nothing while a send holds the group (actions.ts: a person pressing gets "try again"); a
 * condition that cleared must not stay open and paging, or overdue and killing, for that, so the
 * recovery tries again, each try waiting out the send as long as an action does: twelve tries
 * outlast the longest Slack call (SLACK_API_TIMEOUT, at most 2 minutes).
 */
const RESOLVE_TRIES = 12;

export function slackAlertsChannel(config: Config): string | null {
  return config.slackEnabled && config.SLACK_ALERTS_CHANNEL ? config.SLACK_ALERTS_CHANNEL : null;
}

export function createOutboxAlertSink(deps: OutboxSinkDeps): OutboxAlertSink {
  const scrub: TextScrubber = alertScrubber(deps.config);
  const log = deps.logger.child({ alertPipeline: true });
  const buffer: Array<{ alert: StoredAlert; at: Date }> = [];
  const unstored = unstoredAlertText(deps.deliveryTick ?? false);

  const normalise = (alert: AlertInput): StoredAlert => {
    const severity = SEVERITIES.includes(alert.severity) ? alert.severity : 'critical';
    const title = sanitizeText(alert.title, scrub);
    const source = cleanText(String(alert.source || 'system'));
    return {
      source,
      severity,
      title,
      fingerprint: sanitizeText(alert.fingerprint ?? `${source}:${title}`, scrub, 200),
      details: sanitizeDetails(alert.details, scrub),
      test: source === 'test',
    };
  };

  const writer = new AlertWriter((batch) => persistAlerts({ db: deps.db, batch, slackChannel: slackAlertsChannel(deps.config) }));
  const raised = deps.metrics ? ctbMetrics(deps.metrics).alertsRaised : undefined;
  const write = async (alert: StoredAlert, at: Date) => {
    const result = await writer.persist({ alert, at });
    raised?.inc({ severity: alert.severity });
    return result;
  };

  const overdueHooks = new OverdueHooks();
  return {
    overdueHooks,
    deliveryTick: deps.deliveryTick ?? false,
    onOverdueCritical: (handler) => overdueHooks.add(handler),
    get buffered() {
      return buffer.length;
    },
    async record(input) {
      const alert = normalise(input);
      const result = await write(alert, deps.clock.now());
      log.info({ alert: { source: alert.source, severity: alert.severity, fingerprint: alert.fingerprint }, groupId: result.groupId }, `alert stored: ${alert.title}`);
      return result;
    },
    async raiseWithin(db, input) {
      const alert = normalise(input);
      const [result] = await persistAlerts({ db, batch: [{ alert, at: deps.clock.now() }], slackChannel: slackAlertsChannel(deps.config) });
      // Stored only once the caller's transaction commits: counted and logged then, not before.
      return () => {
        raised?.inc({ severity: alert.severity });
        log.info({ alert: { source: alert.source, severity: alert.severity, fingerprint: alert.fingerprint }, groupId: result?.groupId }, `alert stored: ${alert.title}`);
      };
    },
    async raise(input) {
      const alert = normalise(input);
      const at = deps.clock.now();
      try {
        await write(alert, at);
      } catch (err) {
        if (buffer.length >= BUFFER_LIMIT) buffer.shift();
        buffer.push({ alert, at });
        log.error({ err, alert: { source: alert.source, severity: alert.severity, title: alert.title }, buffered: buffer.length },
          unstored);
      }
    },
    async resolve(recovery) {
      const groupId = await liveAlertGroupId(deps.db, sanitizeText(recovery.fingerprint, scrub, 200));
      if (groupId === null) return null;
      const input = {
        db: deps.db, clock: deps.clock, groupId, actor: sanitizeText(recovery.by, scrub, 100), note: sanitizeText(recovery.note, scrub, 500),
        ...(deps.resolveSendWaitMs !== undefined ? { sendWaitMs: deps.resolveSendWaitMs } : {}),
      };
      let changed = false;
      for (let tries = 1; ; tries += 1) {
        try {
          ({ changed } = await resolveAlert(input));
          break;
        } catch (err) {
          if (!(err instanceof AppError && err.code === 'alert_send_under_way') || tries >= RESOLVE_TRIES) throw err;
          log.info({ groupId, tries }, 'alert resolve waits for a message of its group being sent to Slack');
        }
      }
      if (changed) log.info({ groupId, fingerprint: recovery.fingerprint, by: recovery.by }, `alert group resolved: ${recovery.note}`);
      return changed ? groupId : null;
    },
    async flushBuffered() {
      while (buffer.length > 0) {
        const next = buffer[0]!;
        try {
          await write(next.alert, next.at);
          buffer.shift();
        } catch {
          break;
        }
      }
      return buffer.length;
    },
  };
}
