// Owns how the engine's holder is shown everywhere (`ctb mode status`, /golive status, /mode status,
// /healthz): who runs the engine (host, pid, role, feed, armed, keys), its last heartbeat and age —
// or that no engine runs, or since when its lease is stale. A pure view of the lease row and the
// database's clock; services/engine-lease/holder-view.ts reads them.
import type { EngineLease } from '../db/schema/index.js';
import { engineMode } from './engine-mode.js';
import { engineWaitingPhrase } from './engine-waiting.js';

export interface EngineHolderView {
  /** running: renewed within the TTL; stale: not renewed since staleSince (died or hung); none: no engine holds the lease. */
  state: 'running' | 'stale' | 'none';
  holderId: string | null;
  host: string | null;
  pid: number | null;
  role: string | null;
  feed: string | null;
  /** The holder runs with IS_LIVE=true (it may place live orders). */
  armed: boolean;
  hasKrakenKeys: boolean;
  acquiredAt: string | null;
  heartbeatAt: string | null;
  heartbeatAgeMs: number | null;
  staleSince: string | null;
  takenOverFrom: string | null;
  /** What a running holder's engine waits on before it trades (the lease row says it); null when it trades, or when none runs. */
  waiting: string | null;
  /**
   * What `waiting` is: a step of the engine's start (true while the lease is fresh), or its gate's
   * reason, true only of bot_state at `waitingStateVersion` (domain/engine-waiting.ts says it, or not).
   */
  waitingKind: 'step' | 'gate' | null;
  waitingStateVersion: number | null;
  /**
   * A running holder's last renewal is older than leaseOverdueAfterMs (twice its renewal interval), or
   * its process is gone: it may have stopped (killed, hung) though its lease is not stale yet. Nothing
   * is said of its engine trading then.
   */
  renewalOverdue: boolean;
  /** How often a holder renews its lease (a third of its ENGINE_LEASE_TTL); null when none holds it. */
  renewEveryMs: number | null;
  /**
   * The TTL behind renewEveryMs, staleAt and the state is the reading process's own ENGINE_LEASE_TTL:
   * the lease row, written by an older binary, does not carry its holder's. Unset or false: the holder's.
   */
  ttlOfReader?: boolean;
  /**
   * The holder ran on this host, in this pid scope, and its pid is no process now (engine-lease/holder-gone.ts):
   * it is gone, and a standby here takes the lease over at once. Unset or false: not known to be gone.
   */
  processGone?: boolean;
  /** When the lease goes stale unless renewed: from then a standby may take it over. Null when none holds it. */
  staleAt: string | null;
}

/** How often the engine's holder renews its lease: a third of ENGINE_LEASE_TTL (services/engine-lease/keeper.ts). */
export function leaseRenewEveryMs(ttlMs: number): number {
  return Math.max(100, Math.floor(ttlMs / 3));
}

/**
 * How old a running holder's last renewal may be before the views say it may have stopped: twice its
 * renewal interval. One late renewal (a loaded host, a FOR SHARE lock held by the live switch) is not
 * a stopped holder; two missed ones are, still well before the lease goes stale (two thirds of the TTL).
 */
export function leaseOverdueAfterMs(ttlMs: number): number {
  return 2 * leaseRenewEveryMs(ttlMs);
}

/**
 * `readerTtlMs`: the reading process's ENGINE_LEASE_TTL, used only when the row does not carry its
 * holder's (an older binary wrote it). `processGone`: the holder is known gone (holder-gone.ts).
 */
export function holderView(lease: EngineLease | null, dbNow: Date, readerTtlMs: number, opts: { processGone?: boolean } = {}): EngineHolderView {
  if (!lease) {
    return {
      state: 'none', holderId: null, host: null, pid: null, role: null, feed: null, armed: false, hasKrakenKeys: false,
      acquiredAt: null, heartbeatAt: null, heartbeatAgeMs: null, staleSince: null, takenOverFrom: null, waiting: null,
      waitingKind: null, waitingStateVersion: null, renewalOverdue: false, renewEveryMs: null, staleAt: null,
    };
  }
  const ttlMs = lease.ttlMs ?? readerTtlMs;
  const age = Math.max(0, dbNow.getTime() - lease.heartbeatAt.getTime());
  const stale = age > ttlMs;
  const renewEveryMs = leaseRenewEveryMs(ttlMs);
  const processGone = !stale && opts.processGone === true;
  return {
    renewalOverdue: !stale && (age > leaseOverdueAfterMs(ttlMs) || processGone), renewEveryMs, staleAt: new Date(lease.heartbeatAt.getTime() + ttlMs).toISOString(),
    ...(lease.ttlMs === null ? { ttlOfReader: true } : {}), ...(processGone ? { processGone } : {}),
    state: stale ? 'stale' : 'running', holderId: lease.holderId, host: lease.host, pid: lease.pid, role: lease.role, feed: lease.feed,
    armed: lease.armed, hasKrakenKeys: lease.hasKrakenKeys, acquiredAt: lease.acquiredAt.toISOString(), heartbeatAt: lease.heartbeatAt.toISOString(),
    heartbeatAgeMs: age, staleSince: stale ? new Date(lease.heartbeatAt.getTime() + ttlMs).toISOString() : null, takenOverFrom: lease.takenOverFrom,
    waiting: stale ? null : (lease.waiting ?? null),
    // A row an older binary wrote names no kind: read as a step, as it meant then.
    // A gate's row names its bot_state version even when open (waiting null): kept, so a reader on a later one does not say trading.
    waitingKind: stale ? null : lease.waitingKind === 'gate' ? 'gate' : !lease.waiting ? null : (lease.waitingKind ?? 'step'),
    waitingStateVersion: stale || lease.waitingKind !== 'gate' ? null : (lease.waitingStateVersion ?? null),
  };
}

/**
 * What the holder of a stale lease would do if it woke: a stale lease is not a dead engine — renewLease
 * renews by holder id, so a hung engine that wakes before another takes the lease over trades again,
 * LIVE when engineMode says unknown (armed, the database live, nothing halting it). `state`: bot_state now;
 * `v` a stale lease's view.
 * "worker-1:4242 stale: last renewed at …, stale since …, armed — it may resume LIVE trading if it wakes".
 */
export function staleHolderPhrase(v: EngineHolderView, state: { mode: 'paper' | 'live'; halted: boolean }): string {
  const armed = v.armed ? 'armed' : 'not armed';
  // The rule has one home (engine-mode.ts): a stale holder that may trade LIVE if it wakes is mode unknown.
  const wakes = engineMode(state, v) === 'unknown' ? 'it may resume LIVE trading if it wakes'
    : state.halted ? 'if it wakes it places no orders while the bot is halted'
      : 'if it wakes it trades paper';
  return `${v.host}:${v.pid} stale: last renewed at ${v.heartbeatAt}, stale since ${v.staleSince}, ${armed} — ${wakes}`;
}

/** host:pid of the running engine when it has no Kraken key (it runs, but cannot cancel on Kraken); null otherwise. */
export function keylessRunningBot(v: EngineHolderView): string | null {
  return v.state === 'running' && !v.hasKrakenKeys ? `${v.host}:${v.pid}` : null;
}

/**
 * Why no bot with the Kraken key can take a cancel now, as the lease shows it: a running bot without
 * the key is named as such — never "no bot is running" beside the running one it names.
 */
export function noBotWithKeyPhrase(v: EngineHolderView): string {
  const keyless = keylessRunningBot(v);
  return keyless ? `the running bot ${keyless} has no Kraken key` : `no bot with the key is running (${describeHolder(v)})`;
}

/**
 * A running holder whose renewal is overdue, as every view says it: when it last renewed, that it may
 * have stopped, and when a standby may take the lease over — never that its engine trades now. Its
 * process gone from this host: that, and that a standby here takes over at once (holder-gone.ts).
 */
export function overdueRenewalPhrase(v: Pick<EngineHolderView, 'heartbeatAt' | 'heartbeatAgeMs' | 'renewEveryMs' | 'staleAt' | 'ttlOfReader' | 'processGone' | 'pid'>): string {
  const age = v.heartbeatAgeMs === null ? '' : ` (${agoPhrase(v.heartbeatAgeMs)})`;
  if (v.processGone) {
    return `last renewed its lease at ${v.heartbeatAt}${age}: its holder's process (pid ${v.pid} on this host) is gone; `
      + 'a standby on this host takes the lease over at once';
  }
  return `last renewed its lease at ${v.heartbeatAt}${age}${renewedEveryPhrase(v)}: its holder may have stopped (killed or hung); `
    + `a standby may take the lease over from ${v.staleAt}, when it goes stale`;
}

/** ", renewed every 5s while it runs", and whose TTL that is when the row does not say its holder's. */
export function renewedEveryPhrase(v: Pick<EngineHolderView, 'renewEveryMs' | 'ttlOfReader'>): string {
  if (v.renewEveryMs === null) return '';
  const whose = v.ttlOfReader ? " (by the reading process's ENGINE_LEASE_TTL: the lease row does not carry its holder's)" : '';
  return `, renewed every ${Math.round(v.renewEveryMs / 1000)}s while it runs${whose}`;
}

/** A heartbeat's age as the views say it: "3s ago". */
export function agoPhrase(ageMs: number): string {
  return `${Math.round(ageMs / 1000)}s ago`;
}

/**
 * The text with every age agoPhrase wrote made one: what it says without the clock, so a message
 * that only grows older is not taken for a changed one (the incident thread compares this).
 */
export function withoutAges(text: string): string {
  return text.replace(/\b\d+s ago\b/g, 'Ns ago');
}

/**
 * One line for terminals and logs, saying only what the lease shows (a stale holder: nothing has
 * taken over; whether a standby runs at all, the lease cannot say): "host:pid (worker, feed kraken, armed, keys) — heartbeat 3s ago".
 * `progress`: what the engine does, as holderProgressPhrase says it with bot_state; unset, the step
 * its row names, if any — never a gate's reason, which only bot_state can say is still true.
 */
export function describeHolder(v: EngineHolderView, progress?: string): string {
  if (v.state === 'none') return 'no engine running';
  const who = `${v.host}:${v.pid} (${v.role}, feed ${v.feed}, ${v.armed ? 'armed for live' : 'not armed'}, ${v.hasKrakenKeys ? 'has Kraken keys' : 'no Kraken keys'})`;
  const age = v.heartbeatAgeMs === null ? '' : agoPhrase(v.heartbeatAgeMs);
  if (v.state === 'stale') return `stale since ${v.staleSince} — ${who}, last heartbeat ${v.heartbeatAt} (${age}): died or hung, and no other process has taken the lease over`;
  if (v.renewalOverdue) return `${who}, ${overdueRenewalPhrase(v)}`;
  const doing = progress ?? (v.waiting && v.waitingKind !== 'gate' ? engineWaitingPhrase(v.waiting) : undefined);
  return `${who}, heartbeat ${age}${doing ? `; ${doing}` : ''}`;
}
