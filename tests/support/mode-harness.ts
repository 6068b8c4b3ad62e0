// A context for live-switch tests: a real PostgreSQL database, a ManualClock, the real Slack
// announcer and reactions.get pointed at the local fake Slack (react() puts each reaction on the
// message there before the bot records it), a captured alert list, and the real audit runner
// over checks the test controls (so verdicts do not move when other areas add their checks).
import { sql } from 'drizzle-orm';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AlertInput } from '../../src/alerts/types.js';
import { buildAppContext, type OwnedContext } from '../../src/app/build-context.js';
import type { Actor } from '../../src/app/context.js';
import { ManualClock } from '../../src/clock.js';
import { testConfig } from '../../src/config/env.js';
import type { Database } from '../../src/db/client.js';
import type { Exchange } from '../../src/exchange/types.js';
import type { ExchangeProviderDeps } from '../../src/exchange/provider.js';
import { silentLogger } from '../../src/logger.js';
import { updateBotState } from '../../src/services/bot-state.js';
import { defineCheck, type AuditCheck } from '../../src/services/audit/types.js';
import { modeCheck } from '../../src/services/audit/checks/mode.js';
import { auditGate } from '../../src/services/mode/audit-gate.js';
import { recordReaction, type ReactionOutcome } from '../../src/services/mode/record-reaction.js';
import type { ModeChangeRequest } from '../../src/db/schema/index.js';
import { emptyTablesSql } from './db.js';
import type { FakeSlack } from './fake-slack.js';
import type { FakeKraken } from './fake-kraken.js';
import { TEST_API_KEY, TEST_API_SECRET } from './kraken-test-keys.js';
import { renewedEverySecond } from './held-lease.js';

export const OPS = 'COPS00001';
export const OPERATOR = 'UOPER0001';
/** An operator who is also an approver: the one who must not approve their own request. */
export const OPERATOR_APPROVER = 'UAPPR0001';
export const APPROVER_B = 'UAPPR0002';
export const APPROVER_C = 'UAPPR0003';
export const OUTSIDER = 'UOUTS0001';
/** The harness's SLACK_APPROVERS; an engine recording its gate policy lists the same ones. */
export const APPROVERS = `${OPERATOR_APPROVER},${APPROVER_B},${APPROVER_C}`;
export { TEST_API_KEY as KRAKEN_KEY, TEST_API_SECRET as KRAKEN_SECRET } from './kraken-test-keys.js';
export const SIGNING_SECRET = 'test-signing-secret-0123456789';

export const slackActor = (id: string): Actor => ({ id, source: 'slack' });

export interface ModeHarness {
  ctx: OwnedContext;
  clock: ManualClock;
  alerts: AlertInput[];
  /** The verdict of the controllable audit check; flip it to make the next audit fail. */
  audit: { verdict: 'pass' | 'fail'; runs: number };
  dirs: { logs: string; backups: string };
  /**
   * The stand-in engine: the feed it trades on and whether its process is armed (its lease, renewed
   * before every reaction as a running engine would); stop() releases its lease.
   */
  engine: { feed: 'kraken' | 'replay'; armed: boolean; stop(): Promise<void> };
  react(request: ModeChangeRequest, user: string, opts?: { emoji?: string; added?: boolean; isBot?: boolean; eventTs?: string }): Promise<ReactionOutcome>;
}

let eventSeq = 0;
/** Increasing Slack event timestamps, later than any a test writes by hand (1800000000.x). */
export function nextEventTs(): string {
  eventSeq += 1;
  return `1900000000.${String(eventSeq).padStart(6, '0')}`;
}

export function modeEnv(slack: FakeSlack, dirs: { logs: string; backups: string }, overrides: Record<string, string | undefined> = {}): Record<string, string | undefined> {
  return {
    IS_LIVE: 'true',
    KRAKEN_API_KEY: TEST_API_KEY,
    KRAKEN_API_SECRET: TEST_API_SECRET,
    SLACK_BOT_TOKEN: 'xoxb-111-222-testtokenvalue',
    SLACK_SIGNING_SECRET: SIGNING_SECRET,
    SLACK_API_URL: slack.url,
    SLACK_OPS_CHANNEL: OPS,
    SLACK_OPERATORS: `${OPERATOR},${OPERATOR_APPROVER}`,
    SLACK_APPROVERS: APPROVERS,
    MODE_CHANGE_TTL: '30m',
    LOG_DIR: dirs.logs,
    BACKUP_DIR: dirs.backups,
    REPORTS_DIR: join(dirs.logs, 'reports'),
    ...overrides,
  };
}

/**
 * The paper side is a marker until the paper exchange lands (issue 2): these tests only ask the
 * provider which venue the engine would trade on. The Kraken side is the real adapter, pointed at
 * the fake Kraken (KRAKEN_API_URL) when the test passes one.
 */
export function paperMarker(): Partial<ExchangeProviderDeps> {
  return { paper: () => ({ venue: 'paper' }) as unknown as Exchange };
}

export async function modeHarness(opts: {
  database: Database;
  slack: FakeSlack;
  env?: Record<string, string | undefined>;
  clock?: ManualClock;
  exchanges?: Partial<ExchangeProviderDeps>;
  audit?: ModeHarness['audit'];
  kraken?: FakeKraken;
  /** The gate's checks instead of the mode check and the controllable one (e.g. the real paper→live criteria). */
  checks?: AuditCheck[];
  /** Alerts go to the real outbox (alert_groups, alert_events) as in a running process, not to `alerts`, which stays empty. */
  outbox?: boolean;
}): Promise<ModeHarness> {
  const clock = opts.clock ?? new ManualClock('2026-03-02T09:00:00Z');
  const dirs = { logs: mkdtempSync(join(tmpdir(), 'ctb-mode-logs-')), backups: mkdtempSync(join(tmpdir(), 'ctb-mode-backups-')) };
  const alerts: AlertInput[] = [];
  const audit = opts.audit ?? { verdict: 'pass' as const, runs: 0 };
  const controllable: AuditCheck = defineCheck({
    id: 'test.controlled',
    title: 'A check the test controls',
    checklistSection: 6,
    async run() {
      audit.runs += 1;
      return audit.verdict === 'pass'
        ? { status: 'pass', value: '60 paper trades (needs 50)', fix: null }
        : { status: 'fail', value: '3 critical alerts in 7d (needs 0)', fix: 'Resolve the critical alerts first.' };
    },
  });
  const ctx = await buildAppContext({
    config: testConfig(modeEnv(opts.slack, dirs, { ...(opts.kraken ? { KRAKEN_API_URL: opts.kraken.url } : {}), ...opts.env })),
    database: opts.database,
    clock,
    logger: silentLogger(),
    ...(opts.outbox ? {} : { alerts: () => ({ raise: async (a: AlertInput) => void alerts.push(a) }) }),
    exchanges: opts.exchanges ?? paperMarker(),
    liveSwitch: { gate: auditGate({ checks: opts.checks ?? [modeCheck, controllable] }) },
  });
  const engine = {
    feed: 'kraken' as 'kraken' | 'replay',
    armed: true,
    stop: async () => void (await opts.database.db.execute(sql`delete from engine_lease where holder_id = 'test-engine'`)),
  };
  await holdEngineLease(opts.database.db, engine.feed);
  return {
    ctx, clock, alerts, audit, dirs, engine,
    react: async (request, user, o = {}) => {
      await holdEngineLease(opts.database.db, engine.feed, 0, engine.armed);
      const reaction = { channel: request.slackChannel!, ts: request.slackTs!, name: o.emoji ?? ctx.config.APPROVAL_EMOJI, user, added: o.added ?? true, eventTs: o.eventTs ?? nextEventTs() };
      // On the message in Slack first, as a reaction is before its event reaches the bot (reactions.get sees it).
      opts.slack.reactions.apply(reaction);
      return recordReaction(ctx, ctx.liveSwitch, {
        channel: reaction.channel, messageTs: reaction.ts, user, userIsBot: o.isBot ?? false, emoji: reaction.name, added: reaction.added, eventTs: reaction.eventTs,
      });
    },
  };
}

/**
 * Writes the engine lease as a running engine on `feed` would — heartbeat on the database's clock, as
 * the lease keeper renews it (`ageMs` back to make it stale): the live switch reads the engine's feed and
 * arming there (`armed` false: a worker started without IS_LIVE, holding the Kraken key all the same).
 */
export async function holdEngineLease(db: Database['db'], feed: 'kraken' | 'replay', ageMs = 0, armed = true): Promise<void> {
  await db.execute(sql`
    insert into engine_lease (id, holder_id, host, pid, role, feed, armed, has_kraken_keys, acquired_at, heartbeat_at)
    values (1, 'test-engine', 'test-host', 4242, 'worker', ${feed}, ${armed}, true, now(), now() - ${ageMs}::int * interval '1 millisecond')
    on conflict (id) do update set feed = excluded.feed, armed = excluded.armed, heartbeat_at = excluded.heartbeat_at`);
}

/**
 * holdEngineLease, then renewed every second the way a running engine heartbeats, until the returned
 * stop is awaited. A lease written once goes stale after ENGINE_LEASE_TTL (15 s), which a loaded
 * machine can spend between a test's start and the switch's feed check: the switch would then rightly
 * refuse a dead engine, which is not what a test of a running one is about (tests/support/held-lease.ts).
 */
export async function keepEngineLease(db: Database['db'], feed: 'kraken' | 'replay'): Promise<() => Promise<void>> {
  await holdEngineLease(db, feed);
  return renewedEverySecond(() => holdEngineLease(db, feed));
}

/**
 * `ms` pass for the open change requests, whose times are written and judged on the database's clock
 * (expiry, a stalled switch): their times and their votes' move `ms` back from the database's now(),
 * as if that long had passed since they were written (a manual clock cannot move the database's).
 * The trail is append-only and keeps its times; a closed request can no longer change.
 */
export async function passModeTime(db: Database['db'], ms: number): Promise<void> {
  const back = sql`${Math.round(ms)} * interval '1 millisecond'`;
  await db.execute(sql`update mode_change_votes v set added_at = added_at - ${back}, withdrawn_at = withdrawn_at - ${back}
    from mode_change_requests r where r.id = v.request_id and r.status in ('requested', 'approved')`);
  await db.execute(sql`update mode_change_requests set created_at = created_at - ${back}, expires_at = expires_at - ${back},
    approved_at = approved_at - ${back} where status in ('requested', 'approved')`);
}

/**
 * A process started without IS_LIVE beside an engine that holds the lease unarmed (as one started
 * without IS_LIVE holds it) while bot_state says live: what the live withdrawal finds. The sign-off
 * record and bot state emptied first.
 */
export async function unarmedEngineWhileLive(database: Database, slack: FakeSlack): Promise<ModeHarness> {
  await resetModeTables(database.db);
  const h = await modeHarness({ database, slack, env: { IS_LIVE: 'false' } });
  await holdEngineLease(database.db, 'kraken', 0, false);
  await updateBotState(database.db, h.clock, { mode: 'live' });
  return h;
}

/** Empties the sign-off record and the bot state between tests that share one database (command_log is append-only even here). */
export async function resetModeTables(db: Database['db']): Promise<void> {
  await db.execute(sql.raw(emptyTablesSql(['mode_change_events', 'mode_change_votes', 'mode_change_requests', 'audit_runs', 'bot_state'])));
}
