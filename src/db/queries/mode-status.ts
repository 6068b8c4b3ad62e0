// Owns the one statement behind the status views (`/golive status`, `/mode status`, `ctb mode
// status`, the dashboard): the bot_state row, the engine lease with the database's clock, and the
// latest go-live audit's header with the gate policy it is held to, read together. Each was its own statement (three round trips on
// three pooled connections per /golive status, the costliest part of a slash command's work after
// the ack in bench:slack-ack); one statement also reads them from one snapshot. Prepared once per
// database (db/prepared.ts). The same select also follows a Slack status command's delivery claim
// in the claim's own statement (slack-deliveries.ts), so that command reads the database once.
// Its rows are mapped here, column by column, as drizzle maps those tables (timestamps as Dates,
// bigint ids as numbers, a table whose left join found no row as null): drizzle's generic mapper
// (a class check per column, a path walk per value) and its query wrapper were most of the CPU
// this read cost a Slack status command beside the statement's own round trip.
import { sql, type SQL } from 'drizzle-orm';
import type { Db } from '../client.js';
import { executePrepared } from '../prepared.js';
import type { BotState, EngineLease, GateThresholds, GolivePolicy } from '../schema/index.js';
import type { AuditSettings, EngineLimits } from '../../domain/golive-thresholds.js';
import type { AuditRunHeader } from './audit-runs.js';
import type { LastSwitch } from '../../domain/live-withdrawal.js';

/** An open live position as the status read lists it. */
export interface LivePosition {
  id: number;
  symbol: string;
  quantity: string;
}

export interface StatusRows {
  /** Undefined before anything created the row (services/bot-state.ts creates it). */
  state: BotState | undefined;
  lease: EngineLease | null;
  /** The database's now(), so the lease's age is measured on one clock. */
  dbNow: Date;
  audit: AuditRunHeader | null;
  /** The go-live gate policy the latest audit is held to; null while no engine has recorded one. */
  policy: GolivePolicy | null;
  /** The last switched mode change (newest id first, as `ctb mode status` reads it): why bot_state says what it says. */
  lastSwitch: LastSwitch | null;
  /** The open live positions (the ledger's): how many, and the first five. */
  liveOpen: { count: number; positions: LivePosition[] };
}

/**
 * The status columns and the joins they come from, for a statement's select list: bot_state (b_*),
 * the engine lease (l_*), now() and the latest run as audit-runs.ts orders it (at, then id, newest
 * first), joined by its id (a_*), the gate policy (p_*), the last switched mode change (w_*) and the
 * open live positions (t_*).
 */
export const STATUS_COLUMNS_FROM = sql.raw(`b.id as b_id, b.mode as b_mode, b.halted as b_halted, b.halted_reason as b_halted_reason, b.halted_at as b_halted_at,
  b.halted_by as b_halted_by, b.entries_paused as b_entries_paused, b.entries_paused_reason as b_entries_paused_reason,
  b.engine_heartbeat_at as b_engine_heartbeat_at, b.entries_paused_by as b_entries_paused_by, b.entries_paused_at as b_entries_paused_at,
  b.reconciled_through as b_reconciled_through, b.reconciliation_blocked as b_reconciliation_blocked,
  b.reconciliation_details as b_reconciliation_details, b.kraken_key_seen_at as b_kraken_key_seen_at,
  b.kraken_key_seen_host as b_kraken_key_seen_host, b.version as b_version, b.updated_at as b_updated_at,
  l.id as l_id, l.holder_id as l_holder_id, l.host as l_host, l.pid as l_pid, l.boot_id as l_boot_id, l.role as l_role, l.feed as l_feed, l.armed as l_armed,
  l.has_kraken_keys as l_has_kraken_keys, l.acquired_at as l_acquired_at, l.heartbeat_at as l_heartbeat_at, l.taken_over_from as l_taken_over_from, l.waiting as l_waiting, l.waiting_kind as l_waiting_kind, l.waiting_state_version as l_waiting_state_version, l.ttl_ms as l_ttl_ms,
  now() as db_now,
  a.id as a_id, a.at as a_at, a.actor as a_actor, a.mode as a_mode, a.dry_run as a_dry_run, a.passed as a_passed, a.summary as a_summary,
  a.thresholds as a_thresholds,
  p.id as p_id, p.min_paper_trades as p_min_paper_trades, p.min_roi_pct as p_min_roi_pct, p.alert_window_ms as p_alert_window_ms,
  p.audit_settings as p_audit_settings, p.engine_limits as p_engine_limits, p.recorded_by as p_recorded_by, p.recorded_at as p_recorded_at,
  w.id as w_id, w.to_mode as w_to_mode, w.requester as w_requester, w.reason as w_reason, w.decided_at as w_decided_at,
  (select count(*)::int from trades where mode = 'live' and status = 'open') as t_live_open,
  (select json_agg(json_build_object('id', x.id, 'symbol', x.symbol, 'quantity', x.quantity::text) order by x.id)
     from (select id, symbol, quantity from trades where mode = 'live' and status = 'open' order by id limit 5) as x) as t_live_listed
from (select 1) as one
  left join bot_state as b on b.id = 1
  left join engine_lease as l on l.id = 1
  left join audit_runs as a on a.id = (select id from audit_runs order by at desc, id desc limit 1)
  left join golive_policy as p on p.id = 1
  left join mode_change_requests as w on w.id = (select id from mode_change_requests where status = 'switched' order by id desc limit 1)`);

/** A row of STATUS_COLUMNS_FROM as the driver gives it (timestamps as text, as drizzle has the drivers read them). */
export type StatusColumns = Record<string, unknown>;

const date = (v: unknown): Date => (v instanceof Date ? v : new Date(v as string));
const dateOrNull = (v: unknown): Date | null => (v === null || v === undefined ? null : date(v));
const json = (v: unknown): Record<string, unknown> | null => (v === null || v === undefined ? null : typeof v === 'string' ? (JSON.parse(v) as Record<string, unknown>) : (v as Record<string, unknown>));

function stateOf(r: StatusColumns): BotState | undefined {
  if (r.b_id === null || r.b_id === undefined) return undefined;
  return {
    id: r.b_id as number,
    mode: r.b_mode as BotState['mode'],
    halted: r.b_halted as boolean,
    haltedReason: r.b_halted_reason as string | null,
    haltedAt: dateOrNull(r.b_halted_at),
    haltedBy: r.b_halted_by as string | null,
    entriesPaused: r.b_entries_paused as boolean,
    entriesPausedReason: r.b_entries_paused_reason as string | null,
    engineHeartbeatAt: dateOrNull(r.b_engine_heartbeat_at),
    entriesPausedBy: r.b_entries_paused_by as string | null,
    entriesPausedAt: dateOrNull(r.b_entries_paused_at),
    reconciledThrough: dateOrNull(r.b_reconciled_through),
    reconciliationBlocked: r.b_reconciliation_blocked as boolean,
    reconciliationDetails: json(r.b_reconciliation_details),
    krakenKeySeenAt: dateOrNull(r.b_kraken_key_seen_at),
    krakenKeySeenHost: r.b_kraken_key_seen_host as string | null,
    version: r.b_version as number,
    updatedAt: date(r.b_updated_at),
  };
}

function leaseOf(r: StatusColumns): EngineLease | null {
  if (r.l_id === null || r.l_id === undefined) return null;
  return {
    id: r.l_id as number,
    holderId: r.l_holder_id as string,
    host: r.l_host as string,
    pid: r.l_pid as number,
    bootId: (r.l_boot_id ?? null) as string | null,
    role: r.l_role as string,
    feed: r.l_feed as string,
    armed: r.l_armed as boolean,
    hasKrakenKeys: r.l_has_kraken_keys as boolean,
    acquiredAt: date(r.l_acquired_at),
    heartbeatAt: date(r.l_heartbeat_at),
    takenOverFrom: r.l_taken_over_from as string | null,
    waiting: (r.l_waiting ?? null) as string | null,
    waitingKind: r.l_waiting_kind === 'gate' || r.l_waiting_kind === 'step' ? r.l_waiting_kind : null,
    waitingStateVersion: r.l_waiting_state_version === null || r.l_waiting_state_version === undefined ? null : Number(r.l_waiting_state_version),
    ttlMs: r.l_ttl_ms === null || r.l_ttl_ms === undefined ? null : Number(r.l_ttl_ms),
  };
}

function auditOf(r: StatusColumns): AuditRunHeader | null {
  if (r.a_id === null || r.a_id === undefined) return null;
  return {
    id: Number(r.a_id),
    at: date(r.a_at),
    actor: r.a_actor as string,
    mode: r.a_mode as AuditRunHeader['mode'],
    dryRun: r.a_dry_run as boolean,
    passed: r.a_passed as boolean,
    summary: r.a_summary as string,
    thresholds: json(r.a_thresholds) as unknown as GateThresholds | null,
  };
}

function policyOf(r: StatusColumns): GolivePolicy | null {
  if (r.p_id === null || r.p_id === undefined) return null;
  return {
    id: r.p_id as number,
    minPaperTrades: r.p_min_paper_trades as number,
    minRoiPct: String(r.p_min_roi_pct),
    alertWindowMs: Number(r.p_alert_window_ms),
    auditSettings: json(r.p_audit_settings) as unknown as AuditSettings | null,
    // The status reads the policy's thresholds, never the engine's log scan: not selected.
    logScan: null,
    engineLimits: json(r.p_engine_limits) as unknown as EngineLimits | null,
    recordedBy: r.p_recorded_by as string,
    recordedAt: date(r.p_recorded_at),
  };
}

function lastSwitchOf(r: StatusColumns): LastSwitch | null {
  if (r.w_id === null || r.w_id === undefined) return null;
  return {
    id: Number(r.w_id), toMode: r.w_to_mode as LastSwitch['toMode'], requester: r.w_requester as string,
    reason: (r.w_reason ?? null) as string | null, decidedAt: dateOrNull(r.w_decided_at),
  };
}

/** The json array of open live positions, as the drivers give it (parsed, or text). */
function livePositions(v: unknown): LivePosition[] {
  if (v === null || v === undefined) return [];
  const rows = (typeof v === 'string' ? JSON.parse(v) : v) as Array<{ id: number | string; symbol: string; quantity: string }>;
  return rows.map((r) => ({ id: Number(r.id), symbol: r.symbol, quantity: r.quantity }));
}

/** A status row as readers take it (no bot_state row yet: state undefined). */
export function statusRowsOf(row: StatusColumns | undefined): StatusRows {
  if (!row) throw new Error('the status read returned no row');
  return {
    state: stateOf(row), lease: leaseOf(row), dbNow: date(row.db_now), audit: auditOf(row), policy: policyOf(row), lastSwitch: lastSwitchOf(row),
    liveOpen: { count: Number(row.t_live_open ?? 0), positions: livePositions(row.t_live_listed) },
  };
}

const STATUS_SELECT: SQL = sql`select ${STATUS_COLUMNS_FROM}`;

/** bot_state, the engine lease with the database's clock, the latest audit header and the gate policy: one statement. */
export async function readStatusRows(db: Db): Promise<StatusRows> {
  const [row] = await executePrepared<StatusColumns>(db, STATUS_SELECT);
  return statusRowsOf(row);
}
