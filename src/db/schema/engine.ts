// Owns the records that make the engine one process per database and let any process hand it work:
// the engine lease (who trades, renewed, taken over only when stale) and the engine requests
// (work only the lease holder can do — cancel on Kraken for a process without the key, flatten,
// reconcile, adopt or cancel an unexplained order — stored, claimed, and answered with a result).
import { sql, type SQL } from 'drizzle-orm';
import { bigserial, boolean, check, index, integer, jsonb, pgTable, primaryKey, text, timestamp, uniqueIndex, type AnyPgColumn } from 'drizzle-orm/pg-core';

const at = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

/** Singleton row (id = 1): the process that runs the engine now, and since when it said so. */
export const engineLease = pgTable(
  'engine_lease',
  {
    id: integer('id').primaryKey().default(1),
    /** A fresh id per process start: renewals and releases match on it, never on pid alone. */
    holderId: text('holder_id').notNull(),
    host: text('host').notNull(),
    pid: integer('pid').notNull(),
    /**
     * Where `pid` means something: the holder's kernel boot id and pid namespace (Linux), or null where
     * they cannot be read. A standby with the same host and boot id that finds the pid gone takes over
     * at once instead of waiting for the lease to go stale; without it, a pid proves nothing.
     */
    bootId: text('boot_id'),
    role: text('role').notNull(),
    /** The market feed the holder trades on (kraken, replay): live refuses anything but a real market. */
    feed: text('feed').notNull(),
    /** Whether the holder runs with IS_LIVE=true (it may place live orders). */
    armed: boolean('armed').notNull(),
    /** Whether the holder has Kraken keys (it can cancel on Kraken). */
    hasKrakenKeys: boolean('has_kraken_keys').notNull(),
    acquiredAt: at('acquired_at').notNull(),
    heartbeatAt: at('heartbeat_at').notNull(),
    /** The holder this one took over from because its lease went stale (it died or hung). */
    takenOverFrom: text('taken_over_from'),
    /**
     * What the holder's engine waits on before it trades (the live approval's withdrawal, the gate
     * policy, the start reconciliation, the warm-up), null once it trades: holding the lease is not
     * trading, and every process's views say so (engine-lease/engine-progress.ts writes it).
     */
    waiting: text('waiting'),
    /**
     * What `waiting` is: `step` (a step of the engine's start, true while the lease is fresh) or `gate`
     * (its gate's answer past the steps, true only of bot_state at `waitingStateVersion`); null with a
     * null `waiting`, or a row an older binary wrote (read as a step, as it was).
     */
    waitingKind: text('waiting_kind', { enum: ['step', 'gate'] }),
    /** The bot_state version the gate answered on: a reader whose bot_state has moved on does not say that reason. */
    waitingStateVersion: integer('waiting_state_version'),
    /**
     * The holder's ENGINE_LEASE_TTL in ms, written at take and renewal: its lease is stale only past it,
     * whatever TTL a standby or a reading shell runs with. Null: a row an older binary wrote.
     */
    ttlMs: integer('ttl_ms'),
  },
  (t) => [
    check('engine_lease_singleton', sql`${t.id} = 1`),
    check('engine_lease_waiting_kind', sql`${t.waitingKind} in ('step', 'gate')`),
  ],
);

/** The index that keeps one open follow-up cancel per incident, and one for halts without one (engine-requests/store.ts). */
export const OPEN_FOLLOW_UP_INDEX = 'engine_requests_one_open_follow_up';

/** A kill's follow-up cancel (params.followUp) still pending or running: the partial index's predicate. */
export function openFollowUp(t: { kind: AnyPgColumn; status: AnyPgColumn; params: AnyPgColumn }): SQL {
  return sql`${t.kind} = 'cancel_all' and ${t.status} in ('pending', 'running') and (${t.params} ->> 'followUp') = 'true'`;
}

export const engineRequests = pgTable(
  'engine_requests',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    kind: text('kind', { enum: ['cancel_all', 'flatten', 'reconcile', 'adopt_order', 'cancel_order', 'exit_trade'] }).notNull(),
    status: text('status', { enum: ['pending', 'running', 'done', 'failed'] }).notNull().default('pending'),
    requestedBy: text('requested_by').notNull(),
    requestedAt: at('requested_at').notNull(),
    /** The incident (and checklist item) this request does, when it does one. */
    incidentId: integer('incident_id'),
    checklistItem: text('checklist_item'),
    params: jsonb('params').$type<Record<string, unknown>>().notNull().default({}),
    /**
     * Not to be claimed before this moment (null: at once): a handler that must try again later (a
     * kill's follow-up cancel Kraken refused) puts its request back pending until then. On the
     * database's clock, as claimed_at is: every runner judges both by now().
     */
    notBefore: at('not_before'),
    claimedBy: text('claimed_by'),
    claimedAt: at('claimed_at'),
    /**
     * Where the claimer's pid means something: its kernel boot id and pid namespace tied to claimed_by
     * ("<boot id>/<pid namespace>#<claimed_by>", as the engine lease's boot_id): a runner or reader in
     * that very scope that finds the pid gone knows the claim is dead (engine-requests/claim-gone.ts).
     * Null: unknown (a claimer that could not read it, or a binary from before it).
     */
    claimedScope: text('claimed_scope'),
    finishedAt: at('finished_at'),
    result: jsonb('result').$type<Record<string, unknown>>(),
    error: text('error'),
    /**
     * An operator's request whose answer someone must hear (an exit): when its requester — or its
     * Slack message, updated later — showed the answer (the database's now()); null while nobody did.
     */
    answerShownAt: at('answer_shown_at'),
    /** When a sweep first found it answered and not shown (the database's now()): its grace runs from here. */
    answerNoticedAt: at('answer_noticed_at'),
    /** When whoever claimed it told the outcome nobody showed (alert channel, or its Slack messages updated): once. */
    outcomeToldAt: at('outcome_told_at'),
    /**
     * A sweep telling the outcome holds it from here (the database's now()) until it sets outcome_told_at:
     * one whose process died before the telling is taken by another sweep once this is EXIT_TELL_LEASE old.
     */
    outcomeClaimedAt: at('outcome_claimed_at'),
    /** Which sweep holds the telling (a fresh token per claim): only it sets outcome_told_at for that claim. */
    outcomeClaimedBy: text('outcome_claimed_by'),
    /** The Slack messages that show this request (channel, ts), brought up to date when it finishes unwatched. */
    replyMessages: jsonb('reply_messages').$type<Array<{ channel: string; ts: string }>>(),
  },
  (t) => [
    index('engine_requests_open').on(t.status, t.id),
    // At most one open follow-up cancel per incident, and one for a halt without an incident (0): a
    // halt's cancel and a kill's hand-over that both could not confirm share one request, not two
    // that each call Kraken on the key's one rate counter.
    uniqueIndex(OPEN_FOLLOW_UP_INDEX).on(sql`coalesce(${t.incidentId}, 0)`).where(openFollowUp(t)),
    // Exits whose outcome nobody showed or told yet: the few rows the every-2s sweep on every replica
    // reads and updates (exit-outcomes.ts), found without scanning every request ever written.
    index('engine_requests_exit_untold').on(t.id).where(sql`${t.kind} = 'exit_trade' and ${t.outcomeToldAt} is null and ${t.answerShownAt} is null`),
  ],
);

/**
 * The self-heal watchdog's clocks of exchange work (watchdog.ts): since when each piece of work only the
 * engine lease's holder does has been left owed (`deferred:<work>`), and when each alert of it was last
 * raised (`raised:<work>:<status>`). Written by the holder when they change (and confirmed every few
 * minutes while any is owed), deleted once the work is done: the next life of the engine — a restarted
 * worker, or another host that takes the lease — continues them instead of starting at zero. Times are
 * on the writing process's clock, as the watchdog keeps them.
 */
export const watchdogClocks = pgTable('watchdog_clocks', {
  clock: text('clock').primaryKey(),
  at: at('at').notNull(),
  /** The process (host:pid) whose watchdog started the clock: another one continuing it says so in its page. */
  begunBy: text('begun_by').notNull(),
  /** The process (host:pid) that last wrote the set, and when (the database's now()): a set unconfirmed for long is forgotten. */
  writtenBy: text('written_by').notNull(),
  confirmedAt: at('confirmed_at').notNull(),
});

export type WatchdogClock = typeof watchdogClocks.$inferSelect;

export type EngineLease = typeof engineLease.$inferSelect;
export type EngineRequest = typeof engineRequests.$inferSelect;
export type EngineRequestKind = EngineRequest['kind'];

/**
 * Kraken's REST call counter as the processes using one API key last saw it (one row per key and
 * process): the counter is one per key, filled by every process using it, and each process counts
 * only its own calls. A row says when Kraken last refused this process a call for the key's rate
 * limit (`EAPI:Rate limit exceeded`: the counter was full then) and which call. A kill's, a halt
 * cancel's and a follow-up's pacing start from the most pessimistic of these (kill/shared-counter.ts).
 */
export const krakenRateCounter = pgTable(
  'kraken_rate_counter',
  {
    /** A short hash of the API key (never the key): two keys on one database count apart. */
    keyId: text('key_id').notNull(),
    /** The process that saw it (host:pid:role). */
    process: text('process').notNull(),
    refusedAt: at('refused_at').notNull(),
    /** The endpoint Kraken refused (CancelAll, OpenOrders, Balance, …). */
    refusedCall: text('refused_call').notNull(),
  },
  (t) => [primaryKey({ columns: [t.keyId, t.process] }), index('kraken_rate_counter_key_refused').on(t.keyId, t.refusedAt)],
);

export type KrakenRateCounterRow = typeof krakenRateCounter.$inferSelect;
