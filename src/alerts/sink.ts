// Owns the default AlertSink: sanitise, then store in the outbox (store.ts) and return. Delivery is
// the worker's job, so raising never waits on Slack or SMTP. If the database itself refuses the
// write, the alert is kept in a bounded in-memory buffer that the delivery tick retries, and logged
// (flagged alertPipeline so the log-line alert source does not turn it into another alert). Only the
// running bot has that tick: a command that runs once and exits says the alert is lost with it.
// In the running bot, a refused critical alert also goes straight to Slack (direct-lane.ts); once the
// database answers, each buffered alert is stored once, in order, marked late (domain/alert-outage.ts) —
// an alert raised while others wait joins them — and one that
// went to Slack directly becomes its group's parent message instead of being posted again.
import { randomUUID } from 'node:crypto';
import type { Registry } from 'prom-client';
import { ctbMetrics } from '../metrics/instruments.js';
import type { Clock } from '../clock.js';
import type { Config } from '../config/env.js';
import { execute, probeConnection, type Db } from '../db/client.js';
import { sql } from 'drizzle-orm';
import type { Logger } from '../logger.js';
import { cleanText } from '../db/clean-text.js';
import { alertScrubber, sanitizeDetails, sanitizeText, type TextScrubber } from './sanitize.js';
import { AlertWriter, persistAlerts, type PersistResult, type StoredAlert } from './store.js';
import { LateStores, storeLateOnce } from './store-late.js';
import { markEventStoredLate } from '../db/queries/alert-events.js';
import { latePagesOnMark } from './late-pages.js';
import { lateThreadOnMark } from './late-thread.js';
import { withDeadline } from '../services/kill/deadline.js';
import { OverdueHooks } from './overdue.js';
import { resolveAlert } from './actions.js';
import { AppError } from '../errors.js';
import { adoptDirectMessage, liveAlertGroupId } from '../db/queries/alert-groups.js';
import { enqueuePageFollowUp } from '../db/queries/alert-outbox.js';
import { DirectLane, type BufferedAlert } from './direct-lane.js';
import { OUTAGE_KEY, type OutageMark, type RaiseState } from '../domain/alert-outage.js';
import type { Notifier } from '../notifications/notification.js';
import type { AlertInput, AlertSink, Severity } from './types.js';

const SEVERITIES: Severity[] = ['info', 'warning', 'critical'];
const BUFFER_LIMIT = 10_000;

export interface OutboxAlertSink extends AlertSink {
  /** Persists and returns where the alert went (tests and `ctb alerts test` use it). */
  record(alert: AlertInput): Promise<PersistResult>;
  /** Retries alerts the database refused earlier. Returns how many are still buffered. */
  flushBuffered(): Promise<number>;
  readonly buffered: number;
  /** Writes under way that the database stopped answering (declared stalled: they are marked late once stored). */
  readonly stalled: number;
  /** Sends what the direct lane has due (flushBuffered does too, when the database still refuses). */
  sendDirect(): Promise<void>;
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
  /**
   * Where a refused critical alert goes at once, while the database is away: the chat notifier and
   * this process's name. Used only with the delivery tick and an alerts channel.
   */
  direct?: { notifier: Notifier | null; process: string } | undefined;
  /** How many alerts the buffer keeps while the database is away (tests; default 10,000). */
  bufferLimit?: number;
  /** The bot's state as this process knows it now, without the database (the badge of a late alert). */
  stateNow?: () => RaiseState | null;
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

/**
 * Whether the database answers a trivial query within `ms`. One query is in flight at a time, on a
 * connection of its own (db/client.ts, probeConnection; the pool's for the embedded database): the next asker
 * joins it instead of sending another, so probes of a database that hangs (one per tick, one per
 * stalled write) hold one connection at most and none of the pool's. Each asker's wait ends at its
 * own `ms`, the probe going on for the others. The probe itself ends at `boundMs` (no answer, its
 * connection destroyed), so one stuck on a dead connection (half-open TCP, a stalled proxy) does not
 * answer "no" to every later asker until the OS gives up: the next asker starts a fresh one.
 */
export function databaseProbe(db: Db, boundMs: number): (ms: number) => Promise<boolean> {
  let probing: Promise<boolean> | null = null;
  const own = probeConnection(db);
  const start = (): Promise<boolean> => {
    const answered = own?.ask() ?? execute(db, sql`select 1`).then(() => true, () => false);
    let bound: NodeJS.Timeout | undefined;
    const overdue = new Promise<false>((resolve) => {
      bound = setTimeout(() => {
        own?.destroy();
        resolve(false);
      }, boundMs);
      // The askers' own timers hold the process while they wait: this one alone never does.
      bound.unref();
    });
    const probe: Promise<boolean> = Promise.race([answered, overdue]).finally(() => {
      clearTimeout(bound);
      if (probing === probe) probing = null;
    });
    return probe;
  };
  return async (ms) => {
    const probe = probing ?? (probing = start());
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
    try {
      return await Promise.race([probe, late]);
    } finally {
      clearTimeout(timer);
    }
  };
}

export function slackAlertsChannel(config: Config): string | null {
  return config.slackEnabled && config.SLACK_ALERTS_CHANNEL ? config.SLACK_ALERTS_CHANNEL : null;
}

export function createOutboxAlertSink(deps: OutboxSinkDeps): OutboxAlertSink {
  const scrub: TextScrubber = alertScrubber(deps.config);
  const answersWithin = databaseProbe(deps.db, deps.config.KILL_DB_TIMEOUT);
  const lateStores = new LateStores();
  const log = deps.logger.child({ alertPipeline: true });
  const buffer: BufferedAlert[] = [];
  const unstored = unstoredAlertText(deps.deliveryTick ?? false);
  const channel = slackAlertsChannel(deps.config);
  const processName = deps.direct?.process ?? 'this process';
  const direct = deps.deliveryTick && deps.direct?.notifier?.carries.has('alert_direct') && channel
    ? new DirectLane({ db: deps.db, clock: deps.clock, logger: log, notifier: deps.direct.notifier, channel, process: processName, scrub })
    : null;
  const sendDirect = async () => {
    try {
      await direct?.pump();
    } catch (err) {
      log.error({ err }, 'the direct send of buffered alerts failed');
    }
  };

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
  /** `key`: the alert's own (raise()'s): a write that errors after the server committed it is not stored again. */
  const write = async (alert: StoredAlert, at: Date, key?: string) => {
    const result = await writer.persist({ alert, at, ...(key ? { key } : {}) });
    raised?.inc({ severity: alert.severity });
    return result;
  };

  /** What a late alert carries: when it was raised and stored (now), by which process, and its direct send. */
  const markOf = (entry: BufferedAlert, stalled = false): OutageMark => ({
    raisedAt: entry.at.toISOString(), storedAt: deps.clock.now().toISOString(), process: processName, state: entry.state,
    ...(entry.direct ? { direct: entry.direct } : {}), ...(stalled ? { stalled: true } : {}),
  });
  /** The alert as stored late: its details carry its mark. */
  const late = (entry: BufferedAlert): StoredAlert => ({ ...entry.alert, details: { ...entry.alert.details, [OUTAGE_KEY]: markOf(entry) } });
  /**
   * A write that stalled (its alert went to the direct lane, or the database stopped answering) and then committed was built before anyone knew it would be
   * late: its row gets the mark after the fact (and its group is refreshed in Slack), so it reads as
   * late whatever its severity — a critical one has its direct message, the others have only this.
   */
  const markStalled = async (entry: BufferedAlert, result: PersistResult) => {
    try {
      const now = deps.clock.now();
      // Escalation may have paged it, and its thread shown it, meanwhile: they are told in the same commit.
      await withDeadline(deps.db.transaction(async (tx) => {
        const marked = await markEventStoredLate(tx, { eventId: result.eventId, mark: markOf(entry, true), now });
        if (!marked) return;
        await latePagesOnMark(tx, { ...marked, eventId: result.eventId, now });
        await lateThreadOnMark(tx, { ...marked, eventId: result.eventId, now });
      }), deps.config.KILL_DB_TIMEOUT, 'the database (marking an alert stored late)');
    } catch (err) {
      log.error({ err, groupId: result.groupId, eventId: result.eventId, raisedAt: entry.at.toISOString() },
        'an alert whose write hung is stored, but could not be marked late: it reads as stored when it was raised');
    }
  };
  /**
   * Stores a late alert in a statement of its own (never batched with others: a try that fails on its
   * key must fail alone), within KILL_DB_TIMEOUT and at most once (store-late.ts); one sent directly
   * has its message adopted as its new group's parent in the same commit.
   */
  const storeLate = async (entry: BufferedAlert) => {
    const alert = late(entry);
    const sent = entry.direct?.status === 'sent' ? entry.direct : null;
    const item = { alert, at: entry.at, key: entry.key };
    const { result, already } = await storeLateOnce({
      db: deps.db, key: entry.key, ms: deps.config.KILL_DB_TIMEOUT, within: lateStores.within,
      store: async () => sent === null
        ? (await persistAlerts({ db: deps.db, batch: [item], slackChannel: channel }))[0]!
        : deps.db.transaction(async (tx) => {
          const [r] = await persistAlerts({ db: tx, batch: [item], slackChannel: channel });
          await tieDirect(tx, r!, sent);
          return r!;
        }),
    });
    if (already) {
      log.warn({ alert: { source: alert.source, severity: alert.severity, fingerprint: alert.fingerprint }, groupId: result.groupId, eventId: result.eventId },
        'an alert kept while the database was away had been stored by an earlier try that gave up at its deadline; not stored again');
      // That try may have run before its direct message went (it could not tie it): tied now, within
      // the deadline; if this fails, the alert stays kept and the next flush ties it.
      if (sent) await lateStores.within(() => deps.db.transaction((tx) => tieDirect(tx, result, sent)), deps.config.KILL_DB_TIMEOUT, 'the database (tying a direct message to its stored alert)');
    } else raised?.inc({ severity: alert.severity });
    return result;
  };

  /**
   * Ties a direct message to its stored alert, once however often it is run (a try may commit after
   * its caller gave up, and the next runs it again): adopted as its group's parent while the group has
   * no message (a raise stored before this one had none posted); nothing when it already is the
   * parent; else, once, a note in its own thread says where its alert now lives (an earlier alert, or
   * another process's direct message, is the parent), and it is not updated again.
   */
  const tieDirect = async (tx: Db, stored: PersistResult, sent: { channel: string; ts: string }): Promise<void> => {
    const [group] = await execute<{ slack_ts: string | null }>(tx, sql`select slack_ts from alert_groups where id = ${stored.groupId} for update`);
    if (group?.slack_ts === sent.ts) return;
    if (await adoptDirectMessage(tx, { groupId: stored.groupId, eventId: stored.eventId, channel: sent.channel, ts: sent.ts })) return;
    const [noted] = await execute<{ id: number }>(tx, sql`select id from alert_deliveries
      where group_id = ${stored.groupId} and kind = 'slack_thread_note' and payload ->> 'threadTs' = ${sent.ts} limit 1`);
    if (noted) return;
    await enqueuePageFollowUp(tx, { groupId: stored.groupId, page: { channel: sent.channel, ts: sent.ts }, now: deps.clock.now(), text: whereItLives(stored.groupId) });
  };
  /** The thread reply under a direct message that did not become its group's parent. */
  const whereItLives = (groupId: number) =>
    `:inbox_tray: The database answered: this alert is now stored in alert group ${groupId}, whose own message in this channel has the buttons and escalates. This message is not updated again.`;
  /**
   * A stalled write went through after its alert was offered to the direct lane (it is then marked
   * late, markStalled). A direct message sent meanwhile becomes its new group's parent, or says where it lives.
   */
  const storedAfterStall = async (entry: BufferedAlert, result: PersistResult) => {
    await direct?.settle(entry);
    if (buffer.length === 0 && direct?.queued === 0) direct.endOutage();
    if (entry.direct?.status !== 'sent') return;
    const sent = entry.direct;
    try {
      await deps.db.transaction((tx) => tieDirect(tx, result, sent));
    } catch (err) {
      log.error({ err, groupId: result.groupId, ts: sent.ts }, 'an alert sent directly while its write stalled is stored, but its direct message could not be tied to it');
    }
  };

  /**
   * The buffer is full: one alert is let go, lost. Never a critical one whose message went to Slack
   * directly while another can go: the oldest below critical first, then the oldest critical not sent.
   */
  const evictOne = () => {
    const below = buffer.findIndex((e) => e.alert.severity !== 'critical');
    const i = below >= 0 ? below : Math.max(0, buffer.findIndex((e) => e.direct?.status !== 'sent'));
    const [lost] = buffer.splice(i, 1);
    direct?.forget(lost!);
    log.error({ alert: { source: lost!.alert.source, severity: lost!.alert.severity, title: lost!.alert.title }, raisedAt: lost!.at.toISOString(), limit: deps.bufferLimit ?? BUFFER_LIMIT },
      'alerts kept while the database is away are at their limit: this one is dropped and will never be stored');
  };
  /** Keeps an alert the database did not take (or that joins those waiting), within BUFFER_LIMIT. */
  const bufferEntry = (entry: BufferedAlert, err: unknown) => {
    if (buffer.length >= (deps.bufferLimit ?? BUFFER_LIMIT)) evictOne();
    buffer.push(entry);
    const alert = entry.alert;
    const fields = { alert: { source: alert.source, severity: alert.severity, title: alert.title }, buffered: buffer.length };
    if (err) log.error({ err, ...fields }, unstored);
    else log.warn(fields, 'an alert joins the alerts still waiting to be stored, to keep their order; retried by the delivery tick');
  };

  let stalledWrites = 0;
  const overdueHooks = new OverdueHooks();
  return {
    overdueHooks,
    deliveryTick: deps.deliveryTick ?? false,
    onOverdueCritical: (handler) => overdueHooks.add(handler),
    get buffered() {
      return buffer.length;
    },
    get stalled() {
      return stalledWrites;
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
      const entry: BufferedAlert = { alert, at, state: deps.stateNow?.() ?? null, key: randomUUID() };
      // While earlier alerts wait in the buffer, this one joins them (stored after them, marked late):
      // written straight away it would be stored before them, unmarked, and a message sent directly
      // for its fingerprint would no longer be its group's first.
      if (buffer.length > 0 && deps.deliveryTick) {
        bufferEntry(entry, null);
        if (direct) {
          direct.offer(entry);
          if (entry.direct?.status === 'queued') void sendDirect();
        }
        return;
      }
      // A database that neither answers nor refuses (a stalled connection) holds the write: past
      // KILL_DB_TIMEOUT a critical alert goes out directly meanwhile, as if it had been refused, and
      // whether the database answers at all is asked. A write that was merely slow (queued behind
      // others, a loaded machine) is not late: only one whose alert went to the direct lane, or whose
      // database did not answer that question either, is stored marked late.
      let offered = false;
      let written = false;
      let stalled = false;
      const offer = () => {
        if (offered || !direct) return;
        offered = true;
        direct.offer(entry);
        // At once, not awaited: the raiser does not wait on Slack (failures are logged by the lane).
        if (entry.direct?.status === 'queued') void sendDirect();
      };
      const onStall = () => {
        offer();
        void answersWithin(deps.config.KILL_DB_TIMEOUT).then((answers) => {
          if (answers || written) return;
          stalled = true;
          stalledWrites += 1;
          log.warn({ alert: { source: alert.source, severity: alert.severity, fingerprint: alert.fingerprint }, raisedAt: at.toISOString() },
            'the database stopped answering while an alert was written: it is stored marked late when the database answers');
        });
      };
      const stallTimer = setTimeout(onStall, deps.config.KILL_DB_TIMEOUT);
      const settled = () => {
        written = true;
        clearTimeout(stallTimer);
        if (stalled) stalledWrites -= 1;
      };
      try {
        // Under the alert's key: if this errors after the server committed (the answer lost), the store
        // from the buffer finds it stored instead of storing it again (store-late.ts).
        const result = await write(alert, at, entry.key);
        settled();
        if (offered) await storedAfterStall(entry, result);
        // Its alert went directly, or the database stopped answering: whatever its severity, it was stored late, and its row says so.
        if (offered || stalled) await markStalled(entry, result);
      } catch (err) {
        settled();
        bufferEntry(entry, err);
        offer();
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
    sendDirect,
    async flushBuffered() {
      if (buffer.length === 0) return 0;
      // First a bounded look at whether the database answers at all: a flush into a database that
      // hangs is not tried, and what the lane has due is sent meanwhile.
      if (direct && !(await answersWithin(deps.config.KILL_DB_TIMEOUT))) {
        await sendDirect();
        return buffer.length;
      }
      // A store given up at its deadline is still running (its connection held until the database
      // answers): no other is started beside it; the next flush after it settles finds what it stored.
      if (lateStores.busy) {
        await sendDirect();
        return buffer.length;
      }
      // Only the alert being stored is held from the lane (its send under way waited for: it would be
      // said unsent, or sent twice); the lane goes on sending the others while a slow write runs.
      while (buffer.length > 0) {
        const next = buffer[0]!;
        await direct?.hold(next);
        try {
          await storeLate(next);
          buffer.shift();
          direct?.forget(next);
        } catch {
          direct?.release(next);
          break;
        }
      }
      if (buffer.length === 0) direct?.endOutage();
      if (buffer.length > 0) await sendDirect();
      return buffer.length;
    },
  };
}
